import type { BootDevice, DomainType, DomainXml } from './domain-xml.ts';
import { buildXml, element, type XmlNode } from './xml-codec.ts';

// Domain definitions the gateway writes from typed inputs (createDomain, defineDomain), and the
// devices it attaches (attachDisk, attachNetwork). Parsing and editing libvirt's own documents is
// domain-xml.ts.

export interface DiskSpec {
  /** file: an image file; block: a host block device. */
  kind: 'file' | 'block';
  sourcePath: string;
  /** The guest device name: vda, sdb, hdc... */
  targetDev: string;
  /** @default inferred from targetDev (see inferBus) */
  bus?: string;
  /** @default 'raw' */
  driverType?: 'raw' | 'qcow2' | (string & {});
  readonly?: boolean;
  shareable?: boolean;
  /** @default 'disk' */
  device?: 'disk' | 'cdrom' | 'floppy' | 'lun';
}

export interface InterfaceSpec {
  /** network: a libvirt virtual network; bridge: a host bridge. */
  type: 'network' | 'bridge';
  /** The network or bridge name. */
  source: string;
  /** @default chosen by libvirt */
  mac?: string;
  /** virtio, e1000, rtl8139, usb-net... @default libvirt's choice for the machine */
  model?: string;
  targetDev?: string;
}

/**
 * A domain to write: name, UUID (libvirt generates one when left out), title, description and
 * memory as a parsed definition has them (the balloon target defaults to memoryKiB), then the rest.
 */
export interface DomainSpec
  extends Pick<DomainXml, 'name' | 'uuid' | 'title' | 'description' | 'memoryKiB' | 'currentMemoryKiB'> {
  type: DomainType;
  /** vCPUs online at start. */
  vcpus: number;
  /** vCPUs the domain can grow to (hot-add). @default vcpus */
  maxVcpus?: number;
  arch?: string;
  machine?: string;
  /** @default 'hvm' */
  osType?: string;
  boot?: BootDevice[];
  /**
   * Elements of `<features>`. ACPI is what lets the guest receive a graceful shutdown or reboot.
   * @default ['acpi', 'apic'] for kvm and qemu domains on x86 (or no arch), none otherwise
   */
  features?: string[];
  disks?: DiskSpec[];
  interfaces?: InterfaceSpec[];
  /** A display for the guest's screen. */
  graphics?: GraphicsSpec[];
  /** A serial port on a pty, which is also the domain's console (`virsh console`, openConsole SERIAL). */
  serialConsole?: boolean;
  /** @default libvirt's (BIOS on x86) */
  firmware?: FirmwareSpec;
  cpu?: CpuSpec;
  /** Direct kernel boot: the host paths of a kernel and initrd, and the kernel's command line. */
  kernel?: { kernel: string; initrd?: string; cmdline?: string };
}

/** A `<graphics>` device. */
export interface GraphicsSpec {
  type: 'vnc' | 'spice';
  /** The address it listens on. @default libvirt's (qemu.conf vnc_listen / spice_listen, 127.0.0.1) */
  listen?: string;
  /** A fixed TCP port; without it libvirt picks one (autoport). */
  port?: number;
  /** The password a client must give (VNC: at most 8 characters count). */
  password?: string;
  /** When the password stops opening the display (passwdValidTo); a past time locks it until one is set live. */
  passwordValidTo?: string;
}

export interface FirmwareSpec {
  type: 'bios' | 'efi';
  /** UEFI with Secure Boot (and SMM, which it needs). */
  secureBoot?: boolean;
}

export interface CpuSpec {
  mode: 'host-passthrough' | 'host-model' | 'custom';
  /** The named model of mode custom, e.g. Skylake-Client. */
  model?: string;
}

const BUS_BY_PREFIX: readonly (readonly [string, string])[] = [
  ['xvd', 'xen'],
  ['vd', 'virtio'],
  // sd* is also the name of usb and sata disks; scsi is libvirt's own default for it.
  ['sd', 'scsi'],
  ['hd', 'ide'],
  ['fd', 'fdc'],
];

/** The bus libvirt would pick for a target name: vd* virtio, sd* scsi, hd* ide, xvd* xen, fd* fdc. */
export function inferBus(targetDev: string): string | undefined {
  return BUS_BY_PREFIX.find(([prefix]) => targetDev.startsWith(prefix))?.[1];
}

function diskElement(spec: DiskSpec): XmlNode {
  return element('disk', { type: spec.kind, device: spec.device ?? 'disk' }, [
    element('driver', { name: 'qemu', type: spec.driverType ?? 'raw' }),
    element('source', spec.kind === 'file' ? { file: spec.sourcePath } : { dev: spec.sourcePath }),
    element('target', { dev: spec.targetDev, bus: spec.bus ?? inferBus(spec.targetDev) }),
    spec.readonly === true && element('readonly'),
    spec.shareable === true && element('shareable'),
  ]);
}

function interfaceElement(spec: InterfaceSpec): XmlNode {
  return element('interface', { type: spec.type }, [
    spec.mac !== undefined && element('mac', { address: spec.mac }),
    element('source', spec.type === 'network' ? { network: spec.source } : { bridge: spec.source }),
    spec.targetDev !== undefined && element('target', { dev: spec.targetDev }),
    spec.model !== undefined && element('model', { type: spec.model }),
  ]);
}

/** A `<disk>` device, for a domain definition or virDomainAttachDevice. */
export function buildDiskXml(spec: DiskSpec): string {
  return buildXml(diskElement(spec));
}

/** An `<interface>` device (a guest NIC), for a domain definition or virDomainAttachDevice. */
export function buildInterfaceDeviceXml(spec: InterfaceSpec): string {
  return buildXml(interfaceElement(spec));
}

export function checkCount(value: number, what: string): void {
  if (!Number.isSafeInteger(value) || value < 1)
    throw new RangeError(`${what} must be a positive integer, got ${value}`);
}

export function checkKiB(value: bigint, what: string): void {
  if (value < 1n) throw new RangeError(`${what} must be positive, got ${value}`);
}

function defaultFeatures(spec: DomainSpec): string[] {
  const x86 = spec.arch === undefined || spec.arch === 'x86_64' || spec.arch === 'i686';
  const base = spec.type !== 'test' && x86 ? ['acpi', 'apic'] : [];
  // Secure Boot firmware only runs with SMM on; libvirt refuses the pair without it.
  return spec.firmware?.secureBoot === true ? [...base, 'smm'] : base;
}

function graphicsElement(spec: GraphicsSpec): XmlNode {
  const fixed = spec.port !== undefined;
  return element(
    'graphics',
    {
      type: spec.type,
      port: fixed ? spec.port : -1,
      autoport: fixed ? 'no' : 'yes',
      passwd: spec.password,
      passwdValidTo: spec.passwordValidTo,
    },
    [spec.listen !== undefined && element('listen', { type: 'address', address: spec.listen })],
  );
}

function serialConsoleElements(): XmlNode[] {
  return [
    element('serial', { type: 'pty' }, [element('target', { port: 0 })]),
    element('console', { type: 'pty' }, [element('target', { type: 'serial', port: 0 })]),
  ];
}

function firmwareElements(spec: FirmwareSpec | undefined): XmlNode[] {
  if (spec?.type !== 'efi') return [];
  const secure = spec.secureBoot === true;
  return [
    element('firmware', {}, [
      element('feature', { enabled: secure ? 'yes' : 'no', name: 'secure-boot' }),
      secure && element('feature', { enabled: 'yes', name: 'enrolled-keys' }),
    ]),
  ];
}

function cpuElement(spec: CpuSpec): XmlNode {
  if (spec.mode !== 'custom') return element('cpu', { mode: spec.mode });
  return element('cpu', { mode: 'custom', match: 'exact', check: 'partial' }, [
    element('model', { fallback: 'forbid' }, spec.model),
  ]);
}

/** A domain definition for virDomainDefineXML / virDomainCreateXML. */
export function buildDomainXml(spec: DomainSpec): string {
  const max = spec.maxVcpus ?? spec.vcpus;
  checkCount(spec.vcpus, 'vcpus');
  checkCount(max, 'maxVcpus');
  if (max < spec.vcpus) throw new RangeError(`maxVcpus (${max}) is below vcpus (${spec.vcpus})`);
  checkKiB(spec.memoryKiB, 'memoryKiB');
  if (spec.currentMemoryKiB !== undefined && spec.currentMemoryKiB > spec.memoryKiB) {
    throw new RangeError(`currentMemoryKiB (${spec.currentMemoryKiB}) exceeds memoryKiB (${spec.memoryKiB})`);
  }
  const features = spec.features ?? defaultFeatures(spec);
  return buildXml(
    element('domain', { type: spec.type }, [
      element('name', {}, spec.name),
      spec.uuid !== undefined && element('uuid', {}, spec.uuid),
      spec.title !== undefined && element('title', {}, spec.title),
      spec.description !== undefined && element('description', {}, spec.description),
      element('memory', { unit: 'KiB' }, spec.memoryKiB),
      spec.currentMemoryKiB !== undefined && element('currentMemory', { unit: 'KiB' }, spec.currentMemoryKiB),
      element('vcpu', { current: max > spec.vcpus ? spec.vcpus : undefined }, max),
      element('os', { firmware: spec.firmware?.type === 'efi' ? 'efi' : undefined }, [
        element('type', { arch: spec.arch, machine: spec.machine }, spec.osType ?? 'hvm'),
        ...firmwareElements(spec.firmware),
        spec.kernel !== undefined && element('kernel', {}, spec.kernel.kernel),
        spec.kernel?.initrd !== undefined && element('initrd', {}, spec.kernel.initrd),
        spec.kernel?.cmdline !== undefined && element('cmdline', {}, spec.kernel.cmdline),
        ...(spec.boot ?? []).map((dev) => element('boot', { dev })),
      ]),
      spec.cpu !== undefined && cpuElement(spec.cpu),
      features.length > 0 &&
        element(
          'features',
          {},
          features.map((name) => (name === 'smm' ? element('smm', { state: 'on' }) : element(name))),
        ),
      element('devices', {}, [
        ...(spec.disks ?? []).map(diskElement),
        ...(spec.interfaces ?? []).map(interfaceElement),
        ...(spec.serialConsole === true ? serialConsoleElements() : []),
        ...(spec.graphics ?? []).map(graphicsElement),
      ]),
    ]),
  );
}
