import { type DomainInterface, deviceXmlOfInterface } from '../../libvirt/xml/domain-xml.ts';
import { builder } from '../core/builder.ts';
import { knownAttribute, lowerCaseEnum } from '../core/enum-types.ts';
import { notFound } from '../core/errors.ts';
import { whenLoaded } from '../core/read-fields.ts';
import { NetworkNode, networks } from '../network/network.ts';
import { DomainNode, type DomainShape, domainDefinition, domainXml } from './domain.ts';

export interface NicShape {
  domain: DomainShape;
  nic: DomainInterface;
}

/** libvirt's `<interface type>` values (domaincommon.rng). */
const NIC_TYPES = {
  NETWORK: 'On a libvirt virtual network.',
  BRIDGE: 'On a host bridge.',
  DIRECT: 'macvtap on a host device (direct).',
  USER: 'User-mode networking (SLIRP or passt), no host device.',
  ETHERNET: 'A tap device the host configures itself.',
  HOSTDEV: 'A host PCI network device (SR-IOV VF) passed through.',
  VHOSTUSER: 'A vhost-user socket served by another process.',
  VDPA: 'A vDPA device of the host.',
  SERVER: 'A TCP socket the guest listens on (QEMU socket backend).',
  CLIENT: 'A TCP socket the guest connects to (QEMU socket backend).',
  MCAST: 'A multicast socket shared by guests.',
  UDP: 'A UDP socket tunnel.',
  INTERNAL: 'Internal to the hypervisor (VirtualBox).',
  NULL: 'Not connected (bhyve, VMware).',
  VDS: 'A Virtuozzo distributed switch port.',
} as const;
const NicType = lowerCaseEnum('NicType', 'What a domain’s NIC connects to (libvirt’s `<interface type>`).', NIC_TYPES);

export const DomainInterfaceRef = builder.objectRef<NicShape>('DomainInterface').implement({
  description: 'A network interface (NIC) of a domain, with the virtual network it is on when it uses one.',
  fields: (t) => ({
    type: t.field({
      type: NicType,
      description: 'What it connects to; null for a type the gateway does not know.',
      resolve: (s) => knownAttribute(NIC_TYPES, s.nic.type),
    }),
    mac: t.string({ description: 'Its MAC address, e.g. 52:54:00:12:34:56.', resolve: (s) => s.nic.mac ?? null }),
    sourceName: t.string({
      description: 'The network, bridge or host device it is connected to.',
      resolve: (s) => s.nic.source.network ?? s.nic.source.bridge ?? s.nic.source.dev ?? null,
    }),
    targetDevice: t.string({
      description: 'The host-side device while the domain runs, e.g. vnet0.',
      resolve: (s) => s.nic.targetDev ?? null,
    }),
    model: t.string({ description: 'virtio, e1000, usb-net…', resolve: (s) => s.nic.model ?? null }),
    alias: t.string({ description: 'The device alias of a running domain.', resolve: (s) => s.nic.alias ?? null }),
    network: t.field({
      type: NetworkNode,
      description: 'The virtual network, for type network; null when the caller may not see it.',
      resolve: async (s, _a, ctx) => {
        const name = s.nic.source.network;
        if (!name) return null;
        // A network outside the caller's grants is not there for it: null, as no network at all.
        if (!ctx.identity.can('Network.Audit', s.domain.host, name)) return null;
        return networks.find(ctx, s.domain.host, name);
      },
    }),
    xml: t.string({
      description: 'This interface’s own <interface> element, as the domain has it.',
      resolve: async (s, _a, ctx) => {
        const match = s.nic.mac ? { mac: s.nic.mac } : { targetDev: s.nic.targetDev };
        return deviceXmlOfInterface(await domainXml(ctx, s.domain), match) ?? null;
      },
    }),
  }),
});

builder.objectFields(DomainNode, (t) => ({
  interfaces: t.field({
    type: [DomainInterfaceRef],
    description: 'The domain’s network interfaces, in definition order.',
    resolve: (s, _a, ctx) =>
      whenLoaded(domainDefinition(ctx, s), (d) => d.interfaces.map((nic) => ({ domain: s, nic }))),
  }),
  interface: t.field({
    type: DomainInterfaceRef,
    description: 'One network interface by its host-side target device (vnet0…); NOT_FOUND when there is none.',
    args: { targetDevice: t.arg.string({ required: true, description: 'The host-side device name, e.g. vnet0.' }) },
    resolve: async (s, args, ctx) => {
      const nic = (await domainDefinition(ctx, s)).interfaces.find((n) => n.targetDev === args.targetDevice);
      if (!nic) throw notFound('interface with target device', args.targetDevice, { host: s.host });
      return { domain: s, nic };
    },
  }),
}));
