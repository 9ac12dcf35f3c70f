import { GraphQLError } from 'graphql';
import { UNSAFE_PRIVILEGE } from '../../libvirt/xml/host-safety.ts';
import { buildHostdevXml, hostdevSourceOf } from '../../libvirt/xml/node-device-xml.ts';
import { builder } from '../core/builder.ts';
import type { GatewayContext } from '../core/context.ts';
import { echoed, gatewayError, invalidInput } from '../core/errors.ts';
import { checkBuiltXml } from '../core/host-safety.ts';
import { hostName } from '../core/hosts.ts';
import { DeviceScope, fromInput, mutationInput } from '../core/mutation-support.ts';
import { hostDeviceDefinition, nodeDevices } from '../host/devices.ts';
import { DomainNode, DomainRef, onDomainArg } from './domain.ts';
import { changeInScope } from './lifecycle.ts';

// A host's PCI function or USB device handed to a guest as a managed <hostdev>. Whoever can do that
// can give a guest the host's disk controller or NIC: it needs the operator's `xml.allow.hostdev`
// and the caller's Sys.Unsafe, beside VM.Config on the domain.

/** UNSAFE_INPUT unless the operator's config allows host devices (`xml.allow.hostdev`, or the policy off). */
function requireHostdevAllowed(ctx: GatewayContext, device: string): void {
  const config = ctx.hostSafety;
  if (config?.allowUnsafeXml || config?.allow.hostdev) return;
  throw gatewayError(
    'UNSAFE_INPUT',
    `device: handing host device ${echoed(device)} to a guest needs xml.allow.hostdev in the gateway's config`,
    {
      field: 'device',
      element: 'hostdev',
      location: 'device',
      allowedBy: 'xml.allow.hostdev',
      privilege: UNSAFE_PRIVILEGE,
    },
  );
}

builder.mutationFields((t) => ({
  attachDomainHostDevice: t.field({
    authScopes: fromInput(
      async (parent: unknown, args: Parameters<ReturnType<typeof onDomainArg>>[1], ctx: GatewayContext) => {
        const scope = await onDomainArg('VM.Config')(parent, args, ctx);
        return { $all: { ...scope, $all: { privilege: { privilege: UNSAFE_PRIVILEGE, host: scope.privilege.host } } } };
      },
    ),
    type: DomainNode,
    description:
      'Gives the domain a host PCI function or USB device (Host.devices) as a managed <hostdev>: libvirt detaches it from its host driver while the guest holds it. Needs VM.Config on the domain, Sys.Unsafe on the host and `xml.allow.hostdev` in the config (else UNSAFE_INPUT).',
    args: mutationInput('AttachDomainHostDevice', {
      host: t.arg.string({ description: 'Registry name of the host; the default host when omitted.' }),
      domain: t.arg({ type: DomainRef, required: true, description: 'The domain: by name, UUID or runtime id.' }),
      device: t.arg.string({
        required: true,
        description: 'The node device name of a PCI function or USB device, as HostDevice.name gives it.',
      }),
      scope: t.arg({ type: DeviceScope, description: 'LIVE, CONFIG or BOTH; see DeviceScope.' }),
    }),
    resolve: async (_r, { input: args }, ctx) => {
      const host = hostName(ctx, args.host);
      requireHostdevAllowed(ctx, args.device);
      const found = await nodeDevices.find(ctx, host, args.device).catch((e: unknown) => {
        // Only a device the host lacks is this field's NOT_FOUND; a host that is down stays CONNECTION_FAILED.
        if (!(e instanceof GraphQLError) || e.extensions.code !== 'NOT_FOUND') throw e;
        throw gatewayError('NOT_FOUND', `device: host device ${echoed(args.device)} not found`, {
          field: 'device',
          host,
        });
      });
      const source = hostdevSourceOf(await hostDeviceDefinition(ctx, found));
      if (!source) throw invalidInput('device', `${echoed(args.device)} is neither a PCI function nor a USB device`);
      const xml = buildHostdevXml(source);
      await checkBuiltXml(ctx, host, 'device', 'device', xml);
      return changeInScope(ctx, args, (s, scope) => s.domain.attachDevice(xml, scope));
    },
  }),
}));
