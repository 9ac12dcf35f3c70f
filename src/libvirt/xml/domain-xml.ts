import { checkCount, checkKiB } from './domain-spec-xml.ts';
import {
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

/** One image below a disk's active layer (`<backingStore>`), top first. */
export interface DiskBackingStore {
  /** file, block, network… */
  type: string;
  /** raw, qcow2… */
  format?: string;
  /** The file or device; undefined for a network image. */
  path?: string;
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
  /** The images below the active layer, as libvirt reports them (`<backingStore>`), top first. */
  backingChain: DiskBackingStore[];
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
  /** The first `<listen type>`: address, network, socket or none. */
  listenType?: string;
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
    backingChain: backingChainOf(el),
  };
}

/** The nested `<backingStore>` elements; an empty one (or none) ends the chain. */
function backingChainOf(disk: XmlElement): DiskBackingStore[] {
  const chain: DiskBackingStore[] = [];
  for (let b = disk.child('backingStore'); b?.child('source') !== undefined; b = b.child('backingStore')) {
    const source = b.child('source');
    chain.push({
      type: b.attr('type') ?? 'file',
      format: b.attrAt(['format'], 'type'),
      path: source?.attr('file') ?? source?.attr('dev'),
    });
    if (chain.length > 64) break;
  }
  return chain;
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
    listenType: el.attrAt(['listen'], 'type'),
  };
}

/** The read model of a parsed `<domain>` root. */
export function readDomain(root: XmlElement): DomainXml {
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
