import { realpath } from 'node:fs/promises';
import { dirname, isAbsolute, posix } from 'node:path';
import { tagOf, XmlElement, type XmlNode } from './xml-codec.ts';

/** The kinds of client documents the policy reads. */
export type ClientDocumentKind = 'domain' | 'device' | 'network' | 'pool' | 'volume' | 'interface' | 'snapshot';

/** Which of libvirt's host-reaching elements clients may use (config `xml.allow`). */
export interface XmlAllowConfig {
  /** `qemu:commandline`, `qemu:capabilities` and every other element in libvirt's QEMU namespace. */
  qemuNamespace: boolean;
  /** Elements of any other namespace outside `<metadata>` (`dnsmasq:options`, `xen:commandline`, `lxc:…`). */
  otherNamespaces: boolean;
  /** `<hostdev>`, NVMe disks, PCI network forwards, TPM and input passthrough, host-certificate smartcards, tap/vhost overrides. */
  hostdev: boolean;
  /** `<filesystem>` of any type. */
  filesystem: boolean;
  /** `<shmem>`. */
  shmem: boolean;
  /** `<script>`/`<downscript>` on a NIC: programs libvirt runs as root. */
  interfaceScripts: boolean;
  /** `<seclabel>` that is not libvirt's dynamic default: confinement off, chosen labels, relabel="no". */
  seclabel: boolean;
  /** `<emulator>` binaries other than those the host's capabilities list. */
  emulator: boolean;
  /** NICs on networks and bridges, and network forward devices, the host does not list. */
  unlistedNetworks: boolean;
  /** NIC types beyond `network` and `bridge`: ethernet, direct, user, vhostuser, hostdev, udp, mcast… */
  interfaceTypes: string[];
  /** Char device source types beyond `pty` and `null` (and `unix` without a path): file, unix, pipe, dev, tcp, udp, stdio, spicevmc… */
  charSourceTypes: string[];
  /** Disk types beyond `file`, `block`, `dir` and `volume`: network, nvme, vhostuser, vhostvdpa. */
  diskTypes: string[];
  /** Pool types beyond `dir`, `fs`, `logical` and `disk`: netfs, iscsi, rbd, gluster, scsi, mpath, zfs… */
  poolTypes: string[];
}

export interface HostSafetyConfig {
  /** Turns the policy off for everyone. */
  allowUnsafeXml: boolean;
  /** Roots under which client paths may live, besides the host's own pool targets. */
  allowedPaths: string[];
  allow: XmlAllowConfig;
  /** Largest XML argument accepted, in bytes (config `xml.maxBytes`). */
  maxXmlBytes: number;
}

export const DEFAULT_MAX_XML_BYTES = 1024 * 1024;

/** The policy with nothing configured: no roots beyond the host's pools, no dangerous element allowed, 1 MB. */
export function defaultHostSafety(): HostSafetyConfig {
  return {
    allowUnsafeXml: false,
    allowedPaths: [],
    maxXmlBytes: DEFAULT_MAX_XML_BYTES,
    allow: {
      qemuNamespace: false,
      otherNamespaces: false,
      hostdev: false,
      filesystem: false,
      shmem: false,
      interfaceScripts: false,
      seclabel: false,
      emulator: false,
      unlistedNetworks: false,
      interfaceTypes: [],
      charSourceTypes: [],
      diskTypes: [],
      poolTypes: [],
    },
  };
}

export const QEMU_NAMESPACE = 'http://libvirt.org/schemas/domain/qemu/1.0';
export const UNSAFE_PRIVILEGE = 'Sys.Unsafe';

/** What the policy asks of the host, lazily: only documents that need an answer cost a libvirt call. */
export interface HostInventory {
  /** Whether libvirt shares this machine's filesystem, so symlinks can be resolved here. */
  readonly local: boolean;
  poolTargets(): Promise<string[]>;
  volumeExists(pool: string, volume: string): Promise<boolean>;
  isVolumePath(path: string): Promise<boolean>;
  networks(): Promise<string[]>;
  /** Bridges of the host's networks and host interfaces of type bridge. */
  bridges(): Promise<string[]>;
  hostInterfaces(): Promise<string[]>;
  emulators(): Promise<string[]>;
}

/** Client input the operator's config does not let reach the host. */
export class UnsafeInputError extends Error {
  override readonly name = 'UnsafeInputError';
  constructor(
    message: string,
    /** The element as written, e.g. `qemu:commandline`, `hostdev`, `disk`. */
    readonly element: string,
    /** Where it is, e.g. `/domain/devices/disk[2]/source`. */
    readonly location: string,
    /** The config key that would allow it (the privilege Sys.Unsafe always does). */
    readonly allowedBy: string,
    /** The host path refused, when a path was. */
    readonly path?: string,
  ) {
    super(message);
  }
}

type Requirement =
  | { kind: 'refuse'; why: string; allowedBy: string }
  | { kind: 'path'; path: string }
  | { kind: 'volume'; pool: string; volume: string }
  | { kind: 'network'; name: string }
  | { kind: 'bridge'; name: string }
  | { kind: 'hostInterface'; name: string }
  | { kind: 'emulator'; path: string };

interface Finding {
  element: string;
  location: string;
  need: Requirement;
}

const DISK_TYPES = ['file', 'block', 'dir', 'volume'];
const POOL_TYPES = ['dir', 'fs', 'logical', 'disk'];
const SAFE_CHAR_TYPES = ['pty', 'null'];
const CHAR_DEVICES = ['serial', 'console', 'parallel', 'channel'];
const RNG_DEVICES = ['/dev/random', '/dev/urandom', '/dev/hwrng'];

/** Walks a client document and lists what it would make the host do. */
class Scanner {
  readonly findings: Finding[] = [];
  constructor(private readonly allow: XmlAllowConfig) {}

  #add(el: Located, need: Requirement): void {
    this.findings.push({ element: el.tag, location: el.location, need });
  }

  #refuse(el: Located, why: string, allowedBy: string): void {
    this.#add(el, { kind: 'refuse', why, allowedBy });
  }

  #path(el: Located, path: string | undefined): void {
    if (path !== undefined) this.#add(el, { kind: 'path', path });
  }

  scan(root: Located, kind: ClientDocumentKind): void {
    this.#namespaces(root);
    if (kind === 'device') this.#device(root);
    if (kind === 'domain') this.#domain(root);
    if (kind === 'network') this.#network(root);
    if (kind === 'pool') this.#pool(root);
    if (kind === 'volume') this.#volume(root);
    if (kind === 'snapshot') this.#snapshot(root);
  }

  /** Namespaced elements: libvirt interprets some (qemu:, dnsmasq:, xen:), and a device root is matched by its local name. */
  #namespaces(el: Located): void {
    if (el.namespace !== undefined) {
      if (el.namespace === QEMU_NAMESPACE) {
        if (!this.allow.qemuNamespace) {
          this.#refuse(el, 'passes options straight to QEMU', 'xml.allow.qemuNamespace');
        }
        return;
      }
      if (!el.insideMetadata && !this.allow.otherNamespaces) {
        this.#refuse(el, `is in namespace ${el.namespace}, which libvirt may interpret`, 'xml.allow.otherNamespaces');
        return;
      }
    }
    for (const child of el.children()) this.#namespaces(child);
  }

  #domain(root: Located): void {
    const os = root.child('os');
    if (os) {
      for (const name of ['kernel', 'initrd', 'dtb', 'loader', 'nvram']) {
        for (const el of os.childrenNamed(name)) this.#path(el, nonEmpty(el.text()));
      }
      for (const nvram of os.childrenNamed('nvram')) {
        this.#path(nvram, nvram.attr('template'));
        for (const source of nvram.childrenNamed('source')) this.#path(source, source.attr('file'));
      }
      for (const table of os.child('acpi')?.childrenNamed('table') ?? []) this.#path(table, nonEmpty(table.text()));
    }
    for (const sysinfo of root.childrenNamed('sysinfo')) {
      for (const entry of sysinfo.childrenNamed('entry')) this.#path(entry, entry.attr('file'));
    }
    for (const seclabel of root.childrenNamed('seclabel')) this.#seclabel(seclabel);
    const devices = root.child('devices');
    for (const device of devices?.children() ?? []) this.#device(device);
  }

  #device(el: Located): void {
    if (el.namespace !== undefined) return;
    switch (el.local) {
      case 'emulator':
        this.#add(el, { kind: 'emulator', path: el.text().trim() });
        return;
      case 'disk':
        this.#disk(el);
        return;
      case 'interface':
        this.#interface(el);
        return;
      case 'hostdev':
        if (!this.allow.hostdev) this.#refuse(el, 'hands a host device to the guest', 'xml.allow.hostdev');
        return;
      case 'filesystem':
        if (!this.allow.filesystem) this.#refuse(el, 'shares host files with the guest', 'xml.allow.filesystem');
        return;
      case 'shmem':
        if (!this.allow.shmem) this.#refuse(el, 'maps host shared memory into the guest', 'xml.allow.shmem');
        return;
      case 'smartcard':
        if (el.attr('mode') !== 'passthrough') {
          if (!this.allow.hostdev) this.#refuse(el, 'uses the host’s smartcard or certificates', 'xml.allow.hostdev');
          return;
        }
        this.#charSource(el);
        return;
      case 'redirdev':
        this.#charSource(el);
        return;
      case 'rng':
        this.#rng(el);
        return;
      case 'tpm':
        this.#tpm(el);
        return;
      case 'input':
        if (['passthrough', 'evdev'].includes(el.attr('type') ?? '') && !this.allow.hostdev) {
          this.#refuse(el, 'hands a host input device to the guest', 'xml.allow.hostdev');
        }
        return;
      case 'graphics':
        this.#path(el, el.attr('socket'));
        for (const listen of el.childrenNamed('listen')) this.#path(listen, listen.attr('socket'));
        return;
      case 'audio':
        this.#path(el, el.attr('path'));
        return;
      case 'memory':
        for (const path of el.child('source')?.childrenNamed('path') ?? []) this.#path(path, nonEmpty(path.text()));
        return;
      case 'lease':
        for (const target of el.childrenNamed('target')) this.#path(target, target.attr('path'));
        return;
      default:
        if (CHAR_DEVICES.includes(el.local)) this.#charSource(el);
    }
  }

  #disk(el: Located): void {
    const type = el.attr('type') ?? 'file';
    if (!DISK_TYPES.includes(type) && !this.allow.diskTypes.includes(type)) {
      this.#refuse(el, `of type ${type} reaches beyond the host’s storage`, 'xml.allow.diskTypes');
      return;
    }
    this.#diskSources(el, type);
  }

  /** The disk's source and its backing chain. */
  #diskSources(el: Located, type: string): void {
    for (const source of el.childrenNamed('source')) {
      if (type === 'volume') {
        const pool = source.attr('pool');
        const volume = source.attr('volume');
        if (pool !== undefined && volume !== undefined) this.#add(source, { kind: 'volume', pool, volume });
      } else {
        for (const attr of ['file', 'dev', 'dir']) this.#path(source, source.attr(attr));
      }
      for (const seclabel of source.childrenNamed('seclabel')) this.#seclabel(seclabel);
    }
    for (const backing of el.childrenNamed('backingStore')) {
      const backingType = backing.attr('type') ?? 'file';
      if (backing.children().length === 0) continue;
      if (!DISK_TYPES.includes(backingType) && !this.allow.diskTypes.includes(backingType)) {
        this.#refuse(backing, `of type ${backingType} reaches beyond the host’s storage`, 'xml.allow.diskTypes');
      } else {
        this.#diskSources(backing, backingType);
      }
    }
  }

  #interface(el: Located): void {
    const type = el.attr('type') ?? '';
    const source = el.child('source');
    if (type === 'network' || type === 'bridge') {
      const name = source?.attr(type);
      if (name !== undefined && !this.allow.unlistedNetworks) this.#add(source ?? el, { kind: type, name });
    } else if (!this.allow.interfaceTypes.includes(type)) {
      this.#refuse(el, `of type ${type || '(none)'} reaches the host’s network directly`, 'xml.allow.interfaceTypes');
      return;
    }
    for (const name of ['script', 'downscript']) {
      for (const script of el.childrenNamed(name)) {
        if (!this.allow.interfaceScripts) {
          this.#refuse(script, `runs ${script.attr('path') ?? 'a program'} on the host`, 'xml.allow.interfaceScripts');
        }
      }
    }
    for (const backend of el.childrenNamed('backend')) {
      if ((backend.attr('tap') !== undefined || backend.attr('vhost') !== undefined) && !this.allow.hostdev) {
        this.#refuse(backend, 'opens host device files for the NIC', 'xml.allow.hostdev');
      }
    }
  }

  /** serial, console, parallel, channel, redirdev and passthrough smartcards: where their data goes on the host. */
  #charSource(el: Located): void {
    const type = el.attr('type') ?? 'pty';
    const sources = el.childrenNamed('source');
    // libvirt picks the socket path itself (under its own directory) when none is given.
    const libvirtsSocket = type === 'unix' && sources.every((s) => s.attr('path') === undefined);
    if (!SAFE_CHAR_TYPES.includes(type) && !libvirtsSocket && !this.allow.charSourceTypes.includes(type)) {
      this.#refuse(el, `with a ${type} source reaches host files, sockets or ports`, 'xml.allow.charSourceTypes');
    }
    for (const log of el.childrenNamed('log')) this.#path(log, log.attr('file'));
  }

  #rng(el: Located): void {
    for (const backend of el.childrenNamed('backend')) {
      const model = backend.attr('model');
      if (model === 'random') {
        const path = nonEmpty(backend.text().trim());
        if (path !== undefined && !RNG_DEVICES.includes(path)) this.#path(backend, path);
      } else if (model === 'egd') {
        this.#charSource(backend);
      }
    }
  }

  #tpm(el: Located): void {
    for (const backend of el.childrenNamed('backend')) {
      const type = backend.attr('type');
      if (type === 'passthrough' && !this.allow.hostdev) {
        this.#refuse(backend, 'hands the host’s TPM to the guest', 'xml.allow.hostdev');
      } else if (type === 'external') {
        this.#charSource(backend);
      }
    }
  }

  #seclabel(el: Located): void {
    const dynamic = (el.attr('type') ?? 'dynamic') === 'dynamic' && el.children().length === 0;
    if (!dynamic || el.attr('relabel') === 'no') {
      if (!this.allow.seclabel) {
        this.#refuse(el, 'changes how the host confines the guest', 'xml.allow.seclabel');
      }
    }
  }

  #network(root: Located): void {
    for (const ip of root.childrenNamed('ip')) {
      for (const tftp of ip.childrenNamed('tftp')) this.#path(tftp, tftp.attr('root'));
    }
    const forward = root.child('forward');
    if (!forward) return;
    const mode = forward.attr('mode');
    const dev = forward.attr('dev');
    const listed = !this.allow.unlistedNetworks;
    if (dev !== undefined && listed) this.#add(forward, { kind: 'hostInterface', name: dev });
    for (const name of ['interface', 'pf']) {
      for (const iface of forward.childrenNamed(name)) {
        const d = iface.attr('dev');
        if (d !== undefined && listed) this.#add(iface, { kind: 'hostInterface', name: d });
      }
    }
    if ((mode === 'hostdev' || forward.childrenNamed('address').length > 0) && !this.allow.hostdev) {
      this.#refuse(forward, 'hands host PCI functions to guests', 'xml.allow.hostdev');
    }
  }

  #pool(root: Located): void {
    const type = root.attr('type') ?? '';
    if (!POOL_TYPES.includes(type) && !this.allow.poolTypes.includes(type)) {
      this.#refuse(root, `of type ${type || '(none)'} reaches beyond the host’s local storage`, 'xml.allow.poolTypes');
      return;
    }
    for (const device of root.child('source')?.childrenNamed('device') ?? []) this.#path(device, device.attr('path'));
    for (const dir of root.child('source')?.childrenNamed('dir') ?? []) this.#path(dir, dir.attr('path'));
    for (const path of root.child('target')?.childrenNamed('path') ?? []) this.#path(path, path.text().trim());
  }

  /** Where libvirt writes memory and external disk overlays, and the domain definitions a snapshot carries. */
  #snapshot(root: Located): void {
    for (const memory of root.childrenNamed('memory')) this.#path(memory, memory.attr('file'));
    for (const disk of root.child('disks')?.childrenNamed('disk') ?? []) this.#disk(disk);
    for (const name of ['domain', 'inactiveDomain']) {
      for (const domain of root.childrenNamed(name)) this.#domain(domain);
    }
  }

  #volume(root: Located): void {
    for (const path of root.child('target')?.childrenNamed('path') ?? []) this.#path(path, path.text().trim());
    for (const path of root.child('backingStore')?.childrenNamed('path') ?? []) this.#path(path, path.text().trim());
  }
}

function nonEmpty(text: string): string | undefined {
  const t = text.trim();
  return t === '' ? undefined : t;
}

/** An element with its namespace resolved and its place in the document, for the scanner and for messages. */
class Located {
  readonly el: XmlElement;
  readonly tag: string;
  readonly local: string;
  readonly namespace: string | undefined;
  readonly #scope: ReadonlyMap<string, string>;

  constructor(
    node: XmlNode,
    scope: ReadonlyMap<string, string>,
    readonly location: string,
    readonly insideMetadata: boolean,
  ) {
    this.el = new XmlElement(node);
    this.tag = this.el.name;
    const colon = this.tag.indexOf(':');
    const prefix = colon < 0 ? '' : this.tag.slice(0, colon);
    this.local = colon < 0 ? this.tag : this.tag.slice(colon + 1);
    const declared = new Map(scope);
    const attributes = (node[':@'] ?? {}) as Record<string, string>;
    for (const [key, value] of Object.entries(attributes)) {
      if (key === '@_xmlns') declared.set('', value);
      else if (key.startsWith('@_xmlns:')) declared.set(key.slice('@_xmlns:'.length), value);
    }
    this.#scope = declared;
    const uri = declared.get(prefix);
    // An undeclared prefix is still a namespace: libvirt's parser would not read it as its own element.
    this.namespace = uri === '' ? undefined : (uri ?? (prefix === '' ? undefined : `(undeclared prefix ${prefix})`));
  }

  static root(node: XmlNode): Located {
    const tag = tagOf(node) ?? '?';
    return new Located(node, new Map(), `/${tag}`, false);
  }

  attr(name: string): string | undefined {
    return this.el.attr(name);
  }

  text(): string {
    return this.el.text();
  }

  children(): Located[] {
    const counts = new Map<string, number>();
    const out: Located[] = [];
    for (const node of this.el.content) {
      const tag = tagOf(node);
      if (tag === undefined) continue;
      const n = (counts.get(tag) ?? 0) + 1;
      counts.set(tag, n);
      const metadata = this.insideMetadata || (this.location.split('/').length === 2 && tag === 'metadata');
      out.push(new Located(node, this.#scope, `${this.location}/${tag}[${n}]`, metadata));
    }
    return out;
  }

  /** Child elements in libvirt's (empty) namespace with this local name. */
  childrenNamed(name: string): Located[] {
    return this.children().filter((c) => c.tag === name && c.namespace === undefined);
  }

  child(name: string): Located | undefined {
    return this.childrenNamed(name)[0];
  }
}

/** `p` with `.` and `..` resolved and, when the host is local, symlinks too (through its deepest existing ancestor). */
async function resolvedPath(p: string, local: boolean): Promise<string> {
  const normal = posix.normalize(p);
  if (!local) return normal;
  let existing = normal;
  const rest: string[] = [];
  for (;;) {
    try {
      const real = await realpath(existing);
      return posix.join(real, ...rest.reverse());
    } catch {
      const parent = dirname(existing);
      if (parent === existing) return normal;
      rest.push(posix.basename(existing));
      existing = parent;
    }
  }
}

function inside(root: string, p: string): boolean {
  if (root === '/') return true;
  const r = root.endsWith('/') ? root.slice(0, -1) : root;
  return p === r || p.startsWith(`${r}/`);
}

function unsafe(f: Finding, why: string, allowedBy: string, path?: string): UnsafeInputError {
  const thing = `<${f.element}> at ${f.location}`;
  return new UnsafeInputError(
    `${thing} ${why}; allowed by ${allowedBy} or the ${UNSAFE_PRIVILEGE} privilege`,
    f.element,
    f.location,
    allowedBy,
    path,
  );
}

/** Checks one path against the storage roots (configured and the host's pool targets) and the host's volumes. */
class PathCheck {
  #roots: Promise<string[]> | undefined;
  constructor(
    private readonly config: HostSafetyConfig,
    private readonly host: HostInventory,
  ) {}

  roots(): Promise<string[]> {
    this.#roots ??= (async () => {
      const targets = await this.host.poolTargets();
      const all = [...this.config.allowedPaths, ...targets.filter((t) => isAbsolute(t))];
      return Promise.all(all.map((r) => resolvedPath(r, this.host.local)));
    })();
    return this.#roots;
  }

  /** Why `p` is refused, or undefined when it may be used. */
  async problem(p: string): Promise<string | undefined> {
    if (!isAbsolute(p)) return `names a relative path ${JSON.stringify(p)}`;
    const resolved = await resolvedPath(p, this.host.local);
    if ((await this.roots()).some((r) => inside(r, resolved))) return undefined;
    if (await this.host.isVolumePath(p)) return undefined;
    const shown = resolved === p ? p : `${p} (${resolved})`;
    return `names ${shown}, outside the allowed storage`;
  }
}

/**
 * Checks a client document against the operator's policy before libvirt sees it; throws
 * UnsafeInputError for the first thing the policy does not allow. With `baseline` (the
 * document before an edit), only what the edit added is checked.
 */
export async function checkClientDocument(
  root: XmlElement,
  kind: ClientDocumentKind,
  config: HostSafetyConfig,
  host: HostInventory,
  baseline?: XmlElement,
): Promise<void> {
  if (config.allowUnsafeXml) return;
  const findings = scanDocument(root, kind, config.allow);
  const known = new Set(
    baseline ? scanDocument(baseline, kind, config.allow).map((f) => JSON.stringify([f.location, f.need])) : [],
  );
  const paths = new PathCheck(config, host);
  for (const f of findings) {
    if (known.has(JSON.stringify([f.location, f.need]))) continue;
    const { need } = f;
    switch (need.kind) {
      case 'refuse':
        throw unsafe(f, need.why, need.allowedBy);
      case 'path': {
        const problem = await paths.problem(need.path);
        if (problem) throw unsafe(f, problem, 'storage.allowedPaths', need.path);
        break;
      }
      case 'volume':
        if (!(await host.volumeExists(need.pool, need.volume))) {
          throw unsafe(
            f,
            `names volume ${need.volume} of pool ${need.pool}, which the host does not have`,
            'storage.allowedPaths',
          );
        }
        break;
      case 'network':
        if (!(await host.networks()).includes(need.name)) {
          throw unsafe(f, `names network ${need.name}, which the host does not have`, 'xml.allow.unlistedNetworks');
        }
        break;
      case 'bridge':
        if (!(await host.bridges()).includes(need.name)) {
          throw unsafe(f, `names bridge ${need.name}, which the host does not have`, 'xml.allow.unlistedNetworks');
        }
        break;
      case 'hostInterface':
        if (!(await host.hostInterfaces()).includes(need.name)) {
          throw unsafe(
            f,
            `names host interface ${need.name}, which the host does not have`,
            'xml.allow.unlistedNetworks',
          );
        }
        break;
      case 'emulator':
        if (!config.allow.emulator && !(await host.emulators()).includes(need.path)) {
          throw unsafe(
            f,
            `runs ${need.path}, which is not an emulator the host lists`,
            'xml.allow.emulator',
            need.path,
          );
        }
        break;
    }
  }
}

function scanDocument(root: XmlElement, kind: ClientDocumentKind, allow: XmlAllowConfig): Finding[] {
  const scanner = new Scanner(allow);
  scanner.scan(Located.root(root.node), kind);
  return scanner.findings;
}

/**
 * Checks a path the client names outside any document (a save file) against the same storage
 * roots as paths in documents; throws UnsafeInputError naming `field` when it is refused.
 */
export async function checkClientPath(
  path: string,
  field: string,
  config: HostSafetyConfig,
  host: HostInventory,
): Promise<void> {
  if (config.allowUnsafeXml) return;
  const problem = await new PathCheck(config, host).problem(path);
  if (problem)
    throw unsafe(
      { element: field, location: field, need: { kind: 'path', path } },
      problem,
      'storage.allowedPaths',
      path,
    );
}
