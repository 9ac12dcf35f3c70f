import { z } from 'zod';
import { inputObject, mustBe, whenFieldsValid, withoutNulls } from './graphql-input.ts';
import {
  broadcastOf,
  compareIpv4,
  hostAddressProblem,
  inSubnet,
  ipv4Address,
  netmask,
  netmaskOfPrefix,
  networkOf,
  prefix,
  prefixOfNetmask,
} from './ipv4.ts';
import { dnsDomainName, interfaceName, networkName } from './names.ts';

export const FORWARD_MODES = ['none', 'nat', 'route'] as const;

/** none: isolated; nat: masqueraded behind the host; route: routed without NAT. */
export const forwardMode = z.enum(FORWARD_MODES, { error: `must be one of ${FORWARD_MODES.join(', ')}` });

export const dhcpRange = withoutNulls(
  inputObject({
    start: ipv4Address.optional(),
    end: ipv4Address.optional(),
  }),
);

const networkFields = inputObject({
  name: networkName,
  /** nat, the common case, needs ipAddress and netmask; so does route. @default 'nat' */
  forwardMode: forwardMode.default('nat'),
  forwardDevice: interfaceName.optional(),
  ipAddress: ipv4Address.optional(),
  netmask: netmask.optional(),
  /** The same as netmask as a length (24 for 255.255.255.0); give one or the other. */
  prefix: prefix.optional(),
  dhcpRange: dhcpRange.optional(),
  dhcpDomain: dnsDomainName.optional(),
  /** @default true */
  persistent: z.boolean({ error: mustBe('true or false') }).default(true),
  /** Ignored when the network is transient. @default true */
  autostart: z.boolean({ error: mustBe('true or false') }).default(true),
});

type NetworkFields = z.output<typeof networkFields>;

function checkNetwork(input: NetworkFields, ctx: z.RefinementCtx<NetworkFields>): void {
  const fail = (path: PropertyKey[], message: string) => ctx.addIssue({ code: 'custom', path, message, input });
  const mode = input.forwardMode;
  const forwarded = mode !== 'none';
  const hasMask = input.netmask !== undefined || input.prefix !== undefined;

  if (input.forwardDevice !== undefined && !forwarded)
    fail(['forwardDevice'], 'is used only when forwardMode is nat or route');
  if (forwarded && input.ipAddress === undefined) fail(['ipAddress'], `is required when forwardMode is ${mode}`);
  if (forwarded && !hasMask) fail(['netmask'], `is required when forwardMode is ${mode} (or give prefix)`);

  const address = input.ipAddress;
  if (address === undefined) {
    if (input.netmask !== undefined) fail(['netmask'], 'is given without ipAddress');
    if (input.prefix !== undefined) fail(['prefix'], 'is given without ipAddress');
    if (input.dhcpRange !== undefined) fail(['dhcpRange'], 'needs ipAddress and netmask: DHCP serves that subnet');
    return;
  }
  if (!hasMask) {
    if (!forwarded) fail(['netmask'], 'is required with ipAddress (or give prefix)');
    return;
  }
  if (input.netmask !== undefined && input.prefix !== undefined) {
    fail(['prefix'], 'give either netmask or prefix, not both');
    return;
  }
  const bits = input.prefix ?? prefixOfNetmask(input.netmask ?? '');
  if (bits === undefined) return;
  const hostProblem = hostAddressProblem(address, bits);
  if (hostProblem !== undefined) fail(['ipAddress'], hostProblem);

  const range = input.dhcpRange;
  if (range === undefined) return;
  if (range.start !== undefined && range.end === undefined)
    fail(['dhcpRange', 'end'], 'is required with dhcpRange.start');
  if (range.end !== undefined && range.start === undefined)
    fail(['dhcpRange', 'start'], 'is required with dhcpRange.end');
  const subnet = `${networkOf(address, bits)}/${bits}`;
  let endsValid = true;
  for (const side of ['start', 'end'] as const) {
    const value = range[side];
    if (value === undefined) continue;
    const problem = !inSubnet(value, address, bits)
      ? `must be inside ${subnet}`
      : bits <= 30 && value === networkOf(address, bits)
        ? `must not be the network address ${value}`
        : bits <= 30 && value === broadcastOf(address, bits)
          ? `must not be the broadcast address ${value}`
          : value === address
            ? `must not be ipAddress ${address} itself`
            : undefined;
    if (problem !== undefined) {
      fail(['dhcpRange', side], problem);
      endsValid = false;
    }
  }
  if (endsValid && range.start !== undefined && range.end !== undefined && compareIpv4(range.start, range.end) >= 0) {
    fail(['dhcpRange', 'end'], `must be above dhcpRange.start (${range.start})`);
  }
}

/**
 * createSimpleNetwork. Beyond each field's own rule: nat and route need ipAddress and a
 * netmask (or prefix); a netmask, prefix or DHCP range needs ipAddress; a DHCP range has
 * both ends, start below end, inside the subnet and off its network, broadcast and
 * ipAddress; forwardDevice only with nat or route.
 *
 * The output has netmask and prefix both set whenever ipAddress is, and dhcpRange only
 * when it has both ends.
 */
export const simpleNetworkInput = withoutNulls(
  networkFields.superRefine(checkNetwork, whenFieldsValid).transform(({ dhcpRange: range, ...input }) => {
    const bits = input.prefix ?? (input.netmask === undefined ? undefined : prefixOfNetmask(input.netmask));
    return {
      ...input,
      ...(input.ipAddress !== undefined && bits !== undefined ? { netmask: netmaskOfPrefix(bits), prefix: bits } : {}),
      ...(range?.start !== undefined && range.end !== undefined
        ? { dhcpRange: { start: range.start, end: range.end } }
        : {}),
    };
  }),
);
export type SimpleNetworkInput = z.infer<typeof simpleNetworkInput>;
