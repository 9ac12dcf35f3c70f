import { z } from 'zod';
import { inputObject, mustBe, whenFieldsValid, withoutNulls } from './graphql-input.ts';
import { hostAddressProblem, ipv4Address, MAX_PREFIX, MIN_PREFIX, prefix } from './ipv4.ts';
import { macAddress } from './mac.ts';
import { interfaceName } from './names.ts';

export const START_MODES = ['none', 'onboot', 'hotplug'] as const;

export const startMode = z.enum(START_MODES, { error: `must be one of ${START_MODES.join(', ')}` });

export const interfaceIpv4 = withoutNulls(
  inputObject({
    address: ipv4Address.optional(),
    prefix: prefix.optional(),
  }),
);

const interfaceFields = inputObject({
  name: interfaceName,
  /** @default 'onboot' */
  startMode: startMode.default('onboot'),
  mac: macAddress.optional(),
  ipv4: interfaceIpv4.optional(),
  dhcp: z.boolean({ error: mustBe('true or false') }).optional(),
});

type InterfaceFields = z.output<typeof interfaceFields>;

function checkInterface(input: InterfaceFields, ctx: z.RefinementCtx<InterfaceFields>): void {
  const fail = (path: PropertyKey[], message: string) => ctx.addIssue({ code: 'custom', path, message, input });
  const { address, prefix: bits } = input.ipv4 ?? {};
  if (address === undefined) {
    if (bits !== undefined) fail(['ipv4', 'prefix'], 'prefix without address: give ipv4.address as well');
    return;
  }
  if (bits === undefined) {
    fail(['ipv4', 'prefix'], `is required with ipv4.address (an integer from ${MIN_PREFIX} to ${MAX_PREFIX})`);
  } else {
    const problem = hostAddressProblem(address, bits);
    if (problem !== undefined) fail(['ipv4', 'address'], problem);
  }
  if (input.dhcp === true) fail(['dhcp'], 'cannot be combined with a static ipv4.address: choose one');
}

/**
 * defineEthernetInterface. IPv4 is static (ipv4.address with ipv4.prefix, 8–32) or DHCP,
 * not both; a prefix without an address is an error. An ipv4 with neither is dropped.
 */
export const ethernetInterfaceInput = withoutNulls(
  interfaceFields.superRefine(checkInterface, whenFieldsValid).transform(({ ipv4, ...input }) => ({
    ...input,
    ...(ipv4?.address !== undefined && ipv4.prefix !== undefined
      ? { ipv4: { address: ipv4.address, prefix: ipv4.prefix } }
      : {}),
  })),
);
export type EthernetInterfaceInput = z.infer<typeof ethernetInterfaceInput>;
