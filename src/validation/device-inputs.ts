import { z } from 'zod';
import { nicTargetDevice } from './domain-inputs.ts';
import { inputObject, mustBe, whenFieldsValid, withoutNulls } from './graphql-input.ts';
import { macAddress } from './mac.ts';
import { interfaceName, networkName } from './names.ts';

/** A disk image format as libvirt names it: raw, qcow2, vmdk… */
export const diskFormat = z
  .string({ error: mustBe('an image format (a string such as qcow2)') })
  .regex(/^[a-z0-9]{1,16}$/, 'must be an image format such as raw or qcow2: lower-case letters and digits');

export const NIC_KINDS = ['network', 'bridge'] as const;

/** network: a libvirt virtual network; bridge: a host bridge. */
export const nicKind = z.enum(NIC_KINDS, { error: `must be one of ${NIC_KINDS.join(', ')}` });

/** A NIC model: virtio, e1000e, rtl8139, usb-net. */
export const nicModel = z
  .string({ error: mustBe('a NIC model (a string such as virtio)') })
  .regex(
    /^[A-Za-z0-9_-]{1,32}$/,
    'must be a NIC model such as virtio, e1000e or rtl8139: letters, digits, "_" and "-"',
  );

/** attachNetwork. The source is a network name for kind network, a host interface name for bridge. */
export const attachNetworkInput = withoutNulls(
  inputObject({
    kind: nicKind,
    source: z.string({ error: mustBe('a network or bridge name (a string)') }),
    mac: macAddress.optional(),
    model: nicModel.optional(),
    targetDevice: nicTargetDevice.optional(),
  }).superRefine((input, ctx) => {
    const result = (input.kind === 'network' ? networkName : interfaceName).safeParse(input.source);
    const [issue] = result.error?.issues ?? [];
    if (issue !== undefined) ctx.addIssue({ code: 'custom', path: ['source'], message: issue.message, input });
  }, whenFieldsValid),
);
export type AttachNetworkInput = z.infer<typeof attachNetworkInput>;
