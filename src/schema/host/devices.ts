import { NodeDevice } from '../../libvirt/index.ts';
import {
  type IdName,
  NODE_DEVICE_CAPABILITIES,
  type NodeDeviceCapability,
  type NodeDeviceXml,
  type PciAddress,
  parseNodeDeviceXml,
  pciDeviceName,
} from '../../libvirt/xml/node-device-xml.ts';
import { onParentHost } from '../core/auth-scopes.ts';
import { builder } from '../core/builder.ts';
import type { GatewayContext } from '../core/context.ts';
import { byNameFields, hostedObjectFields } from '../core/hosted-object.ts';
import { connectionOf, Host } from '../core/hosts.ts';
import { objectCache, type Shaped } from '../core/object-cache.ts';
import { hostKey, perHost } from '../core/request-cache.ts';

// The host's devices as libvirt's node device driver lists them (virsh nodedev-list): what can be
// handed to a guest as a <hostdev> (domain/hostdev.ts), with the IOMMU group that goes with it.

export type HostDeviceShape = Shaped<NodeDevice>;

export const nodeDevices = objectCache<NodeDevice>({
  kind: 'host device',
  audit: 'Host.Audit',
  list: (c) => NodeDevice.list(c),
  key: (d) => d.name,
  xmlMany: (list) => NodeDevice.xmlMany(list),
});

/** The parsed definition of a listed device (its XML is read once per request, batched per host). */
export async function hostDeviceDefinition(ctx: GatewayContext, s: HostDeviceShape): Promise<NodeDeviceXml> {
  return parseNodeDeviceXml(await nodeDevices.xml(ctx, s));
}

const CAPABILITY_DESCRIPTIONS: Record<NodeDeviceCapability, string> = {
  system: 'The host machine itself (the root of the device tree).',
  pci: 'A PCI function: can be given to a guest as a <hostdev>.',
  usb_device: 'A USB device: can be given to a guest as a <hostdev>.',
  usb: 'A USB interface of a USB device.',
  net: 'A network interface.',
  scsi_host: 'A SCSI host adapter.',
  scsi_target: 'A SCSI target.',
  scsi: 'A SCSI device.',
  storage: 'A block storage device.',
  fc_host: 'A Fibre Channel host adapter (a SCSI host with this nested capability).',
  vports: 'A SCSI host that can make NPIV virtual ports.',
  scsi_generic: 'A SCSI generic device (/dev/sg*).',
  drm: 'A DRM (graphics) device.',
  mdev_types: 'A device that offers mediated device types (nested in a PCI function or CSS device).',
  mdev: 'A mediated device (a slice of a vGPU or similar).',
  ccw: 'An s390 CCW device.',
  css: 'An s390 channel subsystem device.',
  vdpa: 'A vDPA device.',
  ap_card: 'An s390 AP card.',
  ap_queue: 'An s390 AP queue.',
  ap_matrix: 'The s390 AP matrix device.',
  vpd: 'A device with PCI Vital Product Data (nested in a PCI function).',
};

/** The libvirt capability type (`usb_device`) as its GraphQL name (USB_DEVICE). */
const enumName = (type: NodeDeviceCapability) => type.toUpperCase();

export const HostDeviceCapability = builder.enumType('HostDeviceCapability', {
  description:
    'What a host device is (its <capability type>): the closed set of libvirt’s node device driver, one per flag of virConnectListAllNodeDevices.',
  values: Object.fromEntries(
    (Object.keys(NODE_DEVICE_CAPABILITIES) as NodeDeviceCapability[]).map((type) => [
      enumName(type),
      { value: type, description: CAPABILITY_DESCRIPTIONS[type] },
    ]),
  ) as Record<string, { value: NodeDeviceCapability; description: string }>,
});

/** The devices with a capability, as libvirt selects them (nested capabilities included), once per request. */
const withCapability = (capability: NodeDeviceCapability) =>
  perHost(async (ctx, host): Promise<Set<string>> => {
    const list = await NodeDevice.list(await connectionOf(ctx, host), [NODE_DEVICE_CAPABILITIES[capability]]);
    return new Set(list.map((d) => d.name));
  });
const byCapability = new Map(
  (Object.keys(NODE_DEVICE_CAPABILITIES) as NodeDeviceCapability[]).map((c) => [c, withCapability(c)]),
);

const PciAddressRef = builder.objectRef<PciAddress>('PciAddress').implement({
  description: 'A PCI address: domain, bus, slot and function.',
  fields: (t) => ({
    domain: t.exposeInt('domain', { nullable: false, description: 'The PCI domain (segment).' }),
    bus: t.exposeInt('bus', { nullable: false, description: 'The bus number.' }),
    slot: t.exposeInt('slot', { nullable: false, description: 'The slot (device) number.' }),
    function: t.exposeInt('function', { nullable: false, description: 'The function number.' }),
    text: t.string({
      nullable: false,
      description: 'The address as lspci writes it, e.g. 0000:00:02.0.',
      resolve: (a) =>
        `${a.domain.toString(16).padStart(4, '0')}:${a.bus.toString(16).padStart(2, '0')}:${a.slot
          .toString(16)
          .padStart(2, '0')}.${a.function.toString(16)}`,
    }),
  }),
});

const IdNameRef = builder.objectRef<IdName>('DeviceIdName').implement({
  description: 'A vendor or product: its numeric id and its name from the host’s ID database.',
  fields: (t) => ({
    id: t.string({ description: 'The id in hex, e.g. 0x8086.', resolve: (v) => v.id ?? null }),
    name: t.string({ description: 'The name, e.g. Intel Corporation.', resolve: (v) => v.name ?? null }),
  }),
});

type PciShape = NonNullable<NodeDeviceXml['pci']> & { host: string };
type IommuShape = NonNullable<PciShape['iommuGroup']> & { host: string };

// Defined before its use in HostDevice's fields; its `devices` field is added once HostDevice exists.
const IommuGroup = builder.objectRef<IommuShape>('IommuGroup');

const PciDevice = builder.objectRef<PciShape>('PciDevice').implement({
  description: 'What a PCI function is: its address, vendor, product and IOMMU group.',
  fields: (t) => ({
    address: t.field({
      type: PciAddressRef,
      nullable: false,
      description: 'Its PCI address.',
      resolve: (p) => p.address,
    }),
    vendor: t.field({ type: IdNameRef, nullable: false, description: 'Its vendor.', resolve: (p) => p.vendor }),
    product: t.field({ type: IdNameRef, nullable: false, description: 'Its product.', resolve: (p) => p.product }),
    class: t.string({ description: 'The PCI class, e.g. 0x020000.', resolve: (p) => p.class ?? null }),
    iommuGroup: t.field({
      type: IommuGroup,
      description:
        'Its IOMMU group: every function of it goes to a guest together. Null when the host has no IOMMU (or it is off).',
      resolve: (p) => (p.iommuGroup ? { ...p.iommuGroup, host: p.host } : null),
    }),
  }),
});

type UsbShape = NonNullable<NodeDeviceXml['usb']>;
const UsbDevice = builder.objectRef<UsbShape>('UsbDevice').implement({
  description: 'What a USB device is: where it is plugged and who made it.',
  fields: (t) => ({
    bus: t.int({ description: 'The USB bus number.', resolve: (u) => u.bus ?? null }),
    device: t.int({ description: 'The device number on the bus.', resolve: (u) => u.device ?? null }),
    vendor: t.field({ type: IdNameRef, nullable: false, description: 'Its vendor.', resolve: (u) => u.vendor }),
    product: t.field({ type: IdNameRef, nullable: false, description: 'Its product.', resolve: (u) => u.product }),
  }),
});

export const HostDeviceNode = builder.loadableNodeRef('HostDevice', {
  id: { resolve: (s: HostDeviceShape) => hostKey(s.host, s.object.name) },
  load: nodeDevices.load,
});

hostedObjectFields(HostDeviceNode, 'Its node device name, unique on the host, e.g. pci_0000_00_02_0.');
HostDeviceNode.implement({
  description:
    'A device of the host (virsh nodedev-list): a PCI function, a USB device, a NIC, a disk… PCI functions and USB devices can be given to a guest with attachDomainHostDevice.',
  fields: (t) => ({
    parent: t.string({
      description: 'The name of the device it hangs off (computer for the root).',
      resolve: async (s, _a, ctx) => (await hostDeviceDefinition(ctx, s)).parent ?? null,
    }),
    capability: t.field({
      type: HostDeviceCapability,
      description: 'What it is (its first <capability>); null for a type this gateway does not know.',
      resolve: async (s, _a, ctx) => (await hostDeviceDefinition(ctx, s)).capability ?? null,
    }),
    capabilities: t.field({
      type: [HostDeviceCapability],
      nullable: false,
      description: 'Its capabilities with those nested in them: what `Host.devices(capability:)` selects it by.',
      resolve: async (s, _a, ctx) => (await hostDeviceDefinition(ctx, s)).capabilities,
    }),
    driver: t.string({
      description: 'The host driver bound to it, e.g. e1000e or vfio-pci; null when none is.',
      resolve: async (s, _a, ctx) => (await hostDeviceDefinition(ctx, s)).driver ?? null,
    }),
    pci: t.field({
      type: PciDevice,
      description: 'For a PCI function: its address, vendor, product and IOMMU group.',
      resolve: async (s, _a, ctx) => {
        const pci = (await hostDeviceDefinition(ctx, s)).pci;
        return pci ? { ...pci, host: s.host } : null;
      },
    }),
    usb: t.field({
      type: UsbDevice,
      description: 'For a USB device: its bus, device number, vendor and product.',
      resolve: async (s, _a, ctx) => (await hostDeviceDefinition(ctx, s)).usb ?? null,
    }),
    networkInterface: t.string({
      description: 'For a network device: the host interface name, e.g. eth0.',
      resolve: async (s, _a, ctx) => (await hostDeviceDefinition(ctx, s)).interface ?? null,
    }),
    blockDevice: t.string({
      description: 'For a storage device: its block device, e.g. /dev/sda.',
      resolve: async (s, _a, ctx) => (await hostDeviceDefinition(ctx, s)).block ?? null,
    }),
    xml: t.string({ description: 'The node device XML.', resolve: (s, _a, ctx) => nodeDevices.xml(ctx, s) }),
  }),
});

IommuGroup.implement({
  description: 'An IOMMU group: the PCI functions the host can only isolate together.',
  fields: (t) => ({
    number: t.exposeInt('number', { nullable: false, description: 'The group number (/sys/kernel/iommu_groups/N).' }),
    addresses: t.field({
      type: [PciAddressRef],
      nullable: false,
      description: 'The PCI addresses of every function in the group, this one included.',
      resolve: (g) => g.addresses,
    }),
    devices: t.field({
      type: [HostDeviceNode],
      nullable: false,
      description: 'The host devices of those functions that libvirt lists.',
      resolve: async (g, _a, ctx) => {
        const found = await Promise.all(
          g.addresses.map((a) => nodeDevices.find(ctx, g.host, pciDeviceName(a)).catch(() => undefined)),
        );
        return found.filter((s): s is HostDeviceShape => s !== undefined);
      },
    }),
  }),
});

builder.objectFields(Host, (t) => ({
  devices: t.field({
    authScopes: onParentHost('Host.Audit'),
    type: [HostDeviceNode],
    description: 'The host’s devices (virConnectListAllNodeDevices), every one or those with a capability.',
    args: {
      capability: t.arg({
        type: HostDeviceCapability,
        description: 'Only devices with this capability, nested ones included (FC_HOST lists SCSI hosts).',
      }),
    },
    resolve: async (h, args, ctx) => {
      const all = await nodeDevices.all(ctx, h.name);
      const selected = args.capability ? byCapability.get(args.capability) : undefined;
      if (!selected) return all;
      const names = await selected(ctx, h.name);
      return all.filter((s) => names.has(s.object.name));
    },
  }),
}));

byNameFields({
  field: 'hostDevice',
  node: HostDeviceNode,
  privilege: 'Host.Audit',
  onHost: 'One host device by its node device name; a NOT_FOUND error when there is none.',
  onQuery: 'One device of a host (the default host when omitted) by its node device name.',
  nameDescription: 'The node device name, e.g. pci_0000_00_02_0.',
  find: nodeDevices.find,
});
