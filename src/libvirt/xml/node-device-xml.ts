import type { NodeDeviceListFlag } from '../node-device.ts';
import { buildXml, element, optionalText, parseRoot, requireText, type XmlElement } from './xml-codec.ts';

/**
 * Every `<capability type>` of libvirt's node device schema (nodedev.rng, virNodeDevCapType) with
 * the flag of virConnectListAllNodeDevices that selects it: the closed set the GraphQL enum lists.
 */
export const NODE_DEVICE_CAPABILITIES = {
  system: 'CAP_SYSTEM',
  pci: 'CAP_PCI_DEV',
  usb_device: 'CAP_USB_DEV',
  usb: 'CAP_USB_INTERFACE',
  net: 'CAP_NET',
  scsi_host: 'CAP_SCSI_HOST',
  scsi_target: 'CAP_SCSI_TARGET',
  scsi: 'CAP_SCSI',
  storage: 'CAP_STORAGE',
  fc_host: 'CAP_FC_HOST',
  vports: 'CAP_VPORTS',
  scsi_generic: 'CAP_SCSI_GENERIC',
  drm: 'CAP_DRM',
  mdev_types: 'CAP_MDEV_TYPES',
  mdev: 'CAP_MDEV',
  ccw: 'CAP_CCW_DEV',
  css: 'CAP_CSS_DEV',
  vdpa: 'CAP_VDPA',
  ap_card: 'CAP_AP_CARD',
  ap_queue: 'CAP_AP_QUEUE',
  ap_matrix: 'CAP_AP_MATRIX',
  vpd: 'CAP_VPD',
} as const satisfies Record<string, NodeDeviceListFlag>;

export type NodeDeviceCapability = keyof typeof NODE_DEVICE_CAPABILITIES;

function isCapability(type: string | undefined): type is NodeDeviceCapability {
  return type !== undefined && Object.hasOwn(NODE_DEVICE_CAPABILITIES, type);
}

/** A PCI address, each part a number (libvirt writes them in hex or decimal). */
export interface PciAddress {
  domain: number;
  bus: number;
  slot: number;
  function: number;
}

/** A vendor's or product's id (0x8086) and name, as the host's ID database gives it. */
export interface IdName {
  id?: string;
  name?: string;
}

export interface NodeDeviceXml {
  name: string;
  parent?: string;
  /** The host driver bound to it, e.g. vfio-pci, e1000e. */
  driver?: string;
  /** The sysfs path, where the host has one. */
  path?: string;
  /** The device's own capability (the first `<capability>`), when libvirt names one this code knows. */
  capability?: NodeDeviceCapability;
  /** Its capabilities and those nested in them (a PCI function's mdev_types, a SCSI host's fc_host). */
  capabilities: NodeDeviceCapability[];
  pci?: {
    address: PciAddress;
    vendor: IdName;
    product: IdName;
    /** The PCI class, e.g. 0x020000. */
    class?: string;
    iommuGroup?: { number: number; addresses: PciAddress[] };
  };
  usb?: { bus?: number; device?: number; vendor: IdName; product: IdName };
  /** A network device's interface name. */
  interface?: string;
  /** A storage device's block device, e.g. /dev/sda. */
  block?: string;
}

function number(text: string | undefined): number | undefined {
  if (text === undefined || text.trim() === '') return undefined;
  const n = Number(text.trim());
  return Number.isSafeInteger(n) && n >= 0 ? n : undefined;
}

function idName(el: XmlElement | undefined): IdName {
  if (el === undefined) return {};
  const name = el.text().trim();
  return { ...(el.attr('id') ? { id: el.attr('id') } : {}), ...(name ? { name } : {}) };
}

function addressOf(el: XmlElement): PciAddress | undefined {
  const [domain, bus, slot, fn] = ['domain', 'bus', 'slot', 'function'].map((a) => number(el.attr(a)));
  if (domain === undefined || bus === undefined || slot === undefined || fn === undefined) return undefined;
  return { domain, bus, slot, function: fn };
}

function pciOf(cap: XmlElement): NodeDeviceXml['pci'] {
  const [domain, bus, slot, fn] = ['domain', 'bus', 'slot', 'function'].map((n) => number(cap.textAt(n)));
  if (domain === undefined || bus === undefined || slot === undefined || fn === undefined) return undefined;
  const group = cap.child('iommuGroup');
  const groupNumber = number(group?.attr('number'));
  return {
    address: { domain, bus, slot, function: fn },
    vendor: idName(cap.child('vendor')),
    product: idName(cap.child('product')),
    class: optionalText(cap, 'class'),
    ...(group && groupNumber !== undefined
      ? {
          iommuGroup: {
            number: groupNumber,
            addresses: group.elements('address').flatMap((a) => addressOf(a) ?? []),
          },
        }
      : {}),
  };
}

/** Reads a node device document (virNodeDeviceGetXMLDesc). */
export function parseNodeDeviceXml(xml: string): NodeDeviceXml {
  const root = parseRoot(xml, 'device');
  const caps = root.elements('capability');
  const all = [...caps, ...caps.flatMap((c) => c.elements('capability'))].map((c) => c.attr('type'));
  const first = caps[0];
  const type = first?.attr('type');
  const out: NodeDeviceXml = {
    name: requireText(root, 'name'),
    parent: optionalText(root, 'parent'),
    driver: optionalText(root, 'driver', 'name'),
    path: optionalText(root, 'path'),
    ...(isCapability(type) ? { capability: type } : {}),
    capabilities: [...new Set(all.filter(isCapability))],
  };
  for (const cap of caps) {
    switch (cap.attr('type')) {
      case 'pci':
        out.pci = pciOf(cap);
        break;
      case 'usb_device':
        out.usb = {
          bus: number(cap.textAt('bus')),
          device: number(cap.textAt('device')),
          vendor: idName(cap.child('vendor')),
          product: idName(cap.child('product')),
        };
        break;
      case 'net':
        out.interface = optionalText(cap, 'interface');
        break;
      case 'storage':
        out.block = optionalText(cap, 'block');
        break;
    }
  }
  return out;
}

/** The node device name libvirt gives the PCI function at an address: pci_DDDD_BB_SS_F. */
export function pciDeviceName(a: PciAddress): string {
  const hex = (n: number, width: number) => n.toString(16).padStart(width, '0');
  return `pci_${hex(a.domain, 4)}_${hex(a.bus, 2)}_${hex(a.slot, 2)}_${hex(a.function, 1)}`;
}

/** What a `<hostdev>` needs of a host device: a PCI function's address, or a USB device's ids and place. */
export type HostdevSource =
  | { type: 'pci'; address: PciAddress }
  | { type: 'usb'; vendorId?: string; productId?: string; bus?: number; device?: number };

/** The `<hostdev>` source of a node device, or undefined when it is neither a PCI function nor a USB device. */
export function hostdevSourceOf(device: NodeDeviceXml): HostdevSource | undefined {
  if (device.capability === 'pci' && device.pci) return { type: 'pci', address: device.pci.address };
  if (device.capability === 'usb_device' && device.usb) {
    const { bus, device: dev, vendor, product } = device.usb;
    return { type: 'usb', vendorId: vendor.id, productId: product.id, bus, device: dev };
  }
  return undefined;
}

const hex = (n: number, width: number) => `0x${n.toString(16).padStart(width, '0')}`;

/** A managed `<hostdev mode='subsystem'>` device for virDomainAttachDeviceFlags: libvirt detaches it from the host driver while the guest holds it. */
export function buildHostdevXml(source: HostdevSource): string {
  if (source.type === 'pci') {
    const a = source.address;
    return buildXml(
      element('hostdev', { mode: 'subsystem', type: 'pci', managed: 'yes' }, [
        element('source', {}, [
          element('address', {
            domain: hex(a.domain, 4),
            bus: hex(a.bus, 2),
            slot: hex(a.slot, 2),
            function: hex(a.function, 1),
          }),
        ]),
      ]),
    );
  }
  return buildXml(
    element('hostdev', { mode: 'subsystem', type: 'usb', managed: 'yes' }, [
      element('source', {}, [
        source.vendorId !== undefined && element('vendor', { id: source.vendorId }),
        source.productId !== undefined && element('product', { id: source.productId }),
        source.bus !== undefined &&
          source.device !== undefined &&
          element('address', { bus: source.bus, device: source.device }),
      ]),
    ]),
  );
}
