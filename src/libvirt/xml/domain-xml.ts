import {
  buildXml,
  buildXmlNodes,
  element,
  kibOf,
  optionalCount,
  optionalText,
  parseCount,
  parseDocument,
  parseRoot,
  requireAttr,
  requireText,
  type XmlElement,
  XmlError,
  type XmlNode,
} from './xml-codec.ts';
import { parseRoots } from './xml-trees.ts';

/** The domain types a gateway creates; parsed documents may carry any libvirt type (xen, lxc...). */
export type DomainType = 'kvm' | 'qemu' | 'test';
export type BootDevice = 'hd' | 'fd' | 'cdrom' | 'network';

export interface DomainDiskSource {
  file?: string;
  dev?: string;
  dir?: string;
  pool?: string;
  volume?: string;
  protocol?: string;
  /** The network disk's image name (rbd pool/image, iSCSI target...). */
  name?: string;
}

export interface DomainDisk {
  /** file, block, network, volume, dir... */
  type: string;
  /** disk, cdrom, floppy, lun */
  device: string;
  driverName?: string;
  /** The image format: raw, qcow2... */
  driverType?: string;
  source: DomainDiskSource;
  /** The host path behind the disk: source file, dev or dir. */
  sourcePath?: string;
  target: { dev: string; bus?: string };
  readonly: boolean;
  shareable: boolean;
  serial?: string;
  /** The device alias of a running domain, e.g. virtio-disk0. */
  alias?: string;
}

export interface DomainInterface {
  /** network, bridge, direct, user, ethernet... */
  type: string;
  mac?: string;
  source: { network?: string; bridge?: string; dev?: string; mode?: string };
  /** The host-side device, e.g. vnet0 (running domains). */
  targetDev?: string;
  /** The NIC model: virtio, e1000... */
  model?: string;
  alias?: string;
}

/** A `<graphics>` device: how a display is served (VNC, SPICE…). */
export interface DomainGraphics {
  /** vnc, spice, rdp, sdl, desktop, egl-headless, dbus */
  type: string;
  /** The TCP port; -1 until a running domain gets one with autoport. */
  port?: number;
  autoport?: boolean;
  /** The address it listens on (`listen` attribute or `<listen address>`). */
  listen?: string;
  /** The UNIX socket of a `<listen type='socket'>`. */
  socket?: string;
}

export interface DomainOs {
  /** hvm, xen, linux, exe */
  type: string;
  arch?: string;
  machine?: string;
  /** `<boot dev>` in order: hd, cdrom, network, fd. */
  boot: string[];
  /** `<os firmware>`: efi or bios, when libvirt picks the firmware. */
  firmware?: string;
  /** `<loader type>`: rom or pflash (UEFI). */
  loaderType?: string;
  /** `<nvram>`: the file holding the UEFI variables. */
  nvram?: string;
}

export interface DomainXml {
  type: string;
  /** The runtime id of a running domain. */
  id?: number;
  name: string;
  uuid?: string;
  title?: string;
  description?: string;
  /** `<memory>`: the maximum the guest gets (virDomainGetInfo's maxMem). */
  memoryKiB: bigint;
  /** `<currentMemory>`: the balloon target. */
  currentMemoryKiB?: bigint;
  /** `<maxMemory>`: the ceiling for memory hot-plug. */
  hotplugMaxMemoryKiB?: bigint;
  maxMemorySlots?: number;
  /** `<vcpu current='1'>2</vcpu>` is max 2, current 1. */
  vcpus: { max: number; current: number };
  os: DomainOs;
  emulator?: string;
  disks: DomainDisk[];
  interfaces: DomainInterface[];
  graphics: DomainGraphics[];
}

function readDisk(el: XmlElement): DomainDisk {
  const source = el.child('source');
  const src: DomainDiskSource = {
    file: source?.attr('file'),
    dev: source?.attr('dev'),
    dir: source?.attr('dir'),
    pool: source?.attr('pool'),
    volume: source?.attr('volume'),
    protocol: source?.attr('protocol'),
    name: source?.attr('name'),
  };
  const target = el.child('target');
  if (target === undefined) throw new XmlError('<disk> has no <target>');
  return {
    type: el.attr('type') ?? 'file',
    device: el.attr('device') ?? 'disk',
    driverName: el.attrAt(['driver'], 'name'),
    driverType: el.attrAt(['driver'], 'type'),
    source: src,
    sourcePath: src.file ?? src.dev ?? src.dir,
    target: { dev: requireAttr(target, 'dev'), bus: target.attr('bus') },
    readonly: el.child('readonly') !== undefined,
    shareable: el.child('shareable') !== undefined,
    serial: optionalText(el, 'serial'),
    alias: el.attrAt(['alias'], 'name'),
  };
}

function readInterface(el: XmlElement): DomainInterface {
  return {
    type: requireAttr(el, 'type'),
    mac: el.attrAt(['mac'], 'address'),
    source: {
      network: el.attrAt(['source'], 'network'),
      bridge: el.attrAt(['source'], 'bridge'),
      dev: el.attrAt(['source'], 'dev'),
      mode: el.attrAt(['source'], 'mode'),
    },
    targetDev: el.attrAt(['target'], 'dev'),
    model: el.attrAt(['model'], 'type'),
    alias: el.attrAt(['alias'], 'name'),
  };
}

function readGraphics(el: XmlElement): DomainGraphics {
  const port = el.attr('port');
  const autoport = el.attr('autoport');
  return {
    type: requireAttr(el, 'type'),
    port: port === undefined || !/^-?\d+$/.test(port) ? undefined : Number(port),
    autoport: autoport === undefined ? undefined : autoport === 'yes',
    listen: el.attr('listen') ?? el.attrAt(['listen'], 'address'),
    socket: el.attrAt(['listen'], 'socket'),
  };
}

function readDomain(root: XmlElement): DomainXml {
  const vcpu = root.child('vcpu');
  // libvirt's default is one vCPU.
  const max = vcpu === undefined ? 1 : parseCount(vcpu.text(), '<vcpu>');
  const memoryKiB = kibOf(root.child('memory'));
  if (memoryKiB === undefined) throw new XmlError('<domain> has no <memory>');
  const os = root.child('os');
  const osType = os?.child('type');
  if (os === undefined || osType === undefined) throw new XmlError('<domain> has no <os><type>');
  const devices = root.child('devices');
  const maxMemory = root.child('maxMemory');
  return {
    type: requireAttr(root, 'type'),
    id: optionalCount(root.attr('id'), '<domain id>'),
    name: requireText(root, 'name'),
    uuid: optionalText(root, 'uuid'),
    title: optionalText(root, 'title'),
    description: optionalText(root, 'description'),
    memoryKiB,
    currentMemoryKiB: kibOf(root.child('currentMemory')),
    hotplugMaxMemoryKiB: kibOf(maxMemory),
    maxMemorySlots: optionalCount(maxMemory?.attr('slots'), '<maxMemory slots>'),
    vcpus: { max, current: optionalCount(vcpu?.attr('current'), '<vcpu current>') ?? max },
    os: {
      type: osType.text(),
      arch: osType.attr('arch'),
      machine: osType.attr('machine'),
      boot: os.elements('boot').flatMap((b) => b.attr('dev') ?? []),
      firmware: os.attr('firmware'),
      loaderType: os.attrAt(['loader'], 'type'),
      nvram: optionalText(os, 'nvram'),
    },
    emulator: devices === undefined ? undefined : optionalText(devices, 'emulator'),
    disks: devices?.elements('disk').map(readDisk) ?? [],
    interfaces: devices?.elements('interface').map(readInterface) ?? [],
    graphics: devices?.elements('graphics').map(readGraphics) ?? [],
  };
}

/** Reads a domain document (virDomainGetXMLDesc); elements the model does not cover are ignored. */
export function parseDomainXml(xml: string): DomainXml {
  return readDomain(parseRoot(xml, 'domain'));
}

/** Reads many domain documents libvirt produced, parsed off Node's loop (parseRoots); a bad one is an XmlError in its slot. */
export async function parseDomainXmls(xmls: readonly string[]): Promise<Array<DomainXml | XmlError>> {
  return (await parseRoots(xmls, 'domain')).map((root) => {
    if (root instanceof XmlError) return root;
    try {
      return readDomain(root);
    } catch (e) {
      if (e instanceof XmlError) return e;
      throw e;
    }
  });
}

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

export interface DomainSpec {
  type: DomainType;
  name: string;
  /** @default generated by libvirt */
  uuid?: string;
  title?: string;
  description?: string;
  memoryKiB: bigint;
  /** The balloon target. @default memoryKiB */
  currentMemoryKiB?: bigint;
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

function checkCount(value: number, what: string): void {
  if (!Number.isSafeInteger(value) || value < 1)
    throw new RangeError(`${what} must be a positive integer, got ${value}`);
}

function checkKiB(value: bigint, what: string): void {
  if (value < 1n) throw new RangeError(`${what} must be positive, got ${value}`);
}

function defaultFeatures(spec: DomainSpec): string[] {
  const x86 = spec.arch === undefined || spec.arch === 'x86_64' || spec.arch === 'i686';
  return spec.type !== 'test' && x86 ? ['acpi', 'apic'] : [];
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
      element('os', {}, [
        element('type', { arch: spec.arch, machine: spec.machine }, spec.osType ?? 'hvm'),
        ...(spec.boot ?? []).map((dev) => element('boot', { dev })),
      ]),
      features.length > 0 &&
        element(
          'features',
          {},
          features.map((name) => element(name)),
        ),
      element('devices', {}, [
        ...(spec.disks ?? []).map(diskElement),
        ...(spec.interfaces ?? []).map(interfaceElement),
      ]),
    ]),
  );
}

/**
 * What updateDomainXml changes. `maxMemoryKiB` is the domain's maximum memory as
 * virDomainSetMaxMemory and virDomainGetInfo mean it: the `<memory>` element (not `<maxMemory>`,
 * the hot-plug ceiling).
 */
export interface DomainChanges {
  /** The maximum vCPU count (`<vcpu>`); a larger `current` is lowered to it. */
  vcpus?: number;
  /** `<memory>`, written in KiB; a larger `<currentMemory>` is lowered to it. */
  maxMemoryKiB?: bigint;
  /** The new description; null removes it. */
  description?: string | null;
}

// libvirt's element order at the top of a domain, for inserting an element that was absent.
const BEFORE_DESCRIPTION = ['name', 'uuid', 'genid', 'title'];
const BEFORE_MEMORY = [...BEFORE_DESCRIPTION, 'description', 'metadata', 'maxMemory'];
const BEFORE_VCPU = [...BEFORE_MEMORY, 'memory', 'currentMemory', 'blkiotune', 'memtune', 'memoryBacking'];

function setVcpus(root: XmlElement, count: number): void {
  checkCount(count, 'vcpus');
  const vcpu = root.child('vcpu') ?? root.insert(element('vcpu'), BEFORE_VCPU);
  vcpu.setText(String(count));
  const current = vcpu.attr('current');
  if (current !== undefined && parseCount(current, '<vcpu current>') > count) vcpu.setAttr('current', undefined);
}

function setMemory(root: XmlElement, kib: bigint): void {
  checkKiB(kib, 'maxMemoryKiB');
  const memory = root.child('memory') ?? root.insert(element('memory'), BEFORE_MEMORY);
  memory.setText(String(kib));
  memory.setAttr('unit', 'KiB');
  const current = root.child('currentMemory');
  if (current !== undefined && (kibOf(current) ?? 0n) > kib) {
    current.setText(String(kib));
    current.setAttr('unit', 'KiB');
  }
}

function setDescription(root: XmlElement, description: string | null): void {
  const existing = root.child('description');
  if (description === null) {
    if (existing !== undefined) root.remove(existing);
    return;
  }
  (existing ?? root.insert(element('description'), BEFORE_DESCRIPTION)).setText(description);
}

/**
 * Edits a domain document in place: only the elements named by `changes` differ in the result;
 * element order, attributes, unknown elements and whitespace are kept as they were.
 */
export function updateDomainXml(xml: string, changes: DomainChanges): string {
  const { nodes, root } = parseDocument(xml, 'domain');
  if (changes.vcpus !== undefined) setVcpus(root, changes.vcpus);
  if (changes.maxMemoryKiB !== undefined) setMemory(root, changes.maxMemoryKiB);
  if (changes.description !== undefined) setDescription(root, changes.description);
  return buildXmlNodes(nodes);
}

/** Picks a disk by host path or guest target; every given field must match. */
export interface DiskMatch {
  sourcePath?: string;
  targetDev?: string;
}

/** Picks a NIC by host-side device or MAC (case-insensitive); every given field must match. */
export interface InterfaceMatch {
  targetDev?: string;
  mac?: string;
}

function diskMatcher(match: string | DiskMatch): (disk: DomainDisk) => boolean {
  const m = typeof match === 'string' ? { sourcePath: match } : match;
  if (m.sourcePath === undefined && m.targetDev === undefined) {
    throw new RangeError('a disk match needs sourcePath or targetDev');
  }
  return (disk) =>
    (m.sourcePath === undefined || disk.sourcePath === m.sourcePath) &&
    (m.targetDev === undefined || disk.target.dev === m.targetDev);
}

function interfaceMatcher(m: InterfaceMatch): (nic: DomainInterface) => boolean {
  if (m.targetDev === undefined && m.mac === undefined)
    throw new RangeError('an interface match needs targetDev or mac');
  const mac = m.mac?.toLowerCase();
  return (nic) =>
    (m.targetDev === undefined || nic.targetDev === m.targetDev) &&
    (mac === undefined || nic.mac?.toLowerCase() === mac);
}

/** A disk of a domain (parsed, or its XML), found by source path (a string) or a DiskMatch. */
export function findDisk(domain: DomainXml | string, match: string | DiskMatch): DomainDisk | undefined {
  const parsed = typeof domain === 'string' ? parseDomainXml(domain) : domain;
  return parsed.disks.find(diskMatcher(match));
}

export function findInterface(domain: DomainXml | string, match: InterfaceMatch): DomainInterface | undefined {
  const parsed = typeof domain === 'string' ? parseDomainXml(domain) : domain;
  return parsed.interfaces.find(interfaceMatcher(match));
}

function deviceXml<T>(
  domainXml: string,
  tag: string,
  read: (el: XmlElement) => T,
  matches: (device: T) => boolean,
): string | undefined {
  const devices = parseRoot(domainXml, 'domain').child('devices');
  const found = devices?.elements(tag).find((el) => matches(read(el)));
  return found === undefined ? undefined : buildXmlNodes([found.node]);
}

/**
 * The `<disk>` element of a domain exactly as the domain has it, e.g. for virDomainDetachDevice;
 * undefined when no disk matches.
 */
export function deviceXmlOfDisk(domainXml: string, match: string | DiskMatch): string | undefined {
  return deviceXml(domainXml, 'disk', readDisk, diskMatcher(match));
}

/** The `<interface>` element of a domain exactly as the domain has it; undefined when no NIC matches. */
export function deviceXmlOfInterface(domainXml: string, match: InterfaceMatch): string | undefined {
  return deviceXml(domainXml, 'interface', readInterface, interfaceMatcher(match));
}
