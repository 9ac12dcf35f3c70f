import { SCHEMA_PATH_PLACES, type SchemaPathType } from './schema-places.ts';
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
  /** `<seclabel>` that is not libvirt's dynamic default, and resource partitions other than `/machine`. */
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

export const QEMU_NAMESPACE = 'http://libvirt.org/schemas/domain/qemu/1.0';

/** What one place of a document asks of the host. */
export type Requirement =
  | { kind: 'refuse'; why: string; allowedBy: string }
  /** A host path; `role` says what libvirt does there (`pool` for a pool's own directory). */
  | { kind: 'path'; path: string; role: 'storage' | 'pool' }
  | { kind: 'volume'; pool: string; volume: string }
  | { kind: 'network'; name: string }
  | { kind: 'bridge'; name: string }
  | { kind: 'hostInterface'; name: string }
  | { kind: 'emulator'; path: string };

export interface Finding {
  element: string;
  location: string;
  need: Requirement;
}

const DISK_TYPES = ['file', 'block', 'dir', 'volume'];
const POOL_TYPES = ['dir', 'fs', 'logical', 'disk'];
const SAFE_CHAR_TYPES = ['pty', 'null'];
const CHAR_DEVICES = ['serial', 'console', 'parallel', 'channel'];
const RNG_DEVICES = ['/dev/random', '/dev/urandom', '/dev/hwrng'];
/** libvirt's default resource partition: the one it writes back into every definition. */
const DEFAULT_PARTITION = '/machine';

/**
 * Places whose value is free text, not a host path, even when it starts with a slash: the guest's
 * kernel command line, descriptions, labels the confinement rules judge as a whole, the name of a
 * host device node the guest sees by (its target). Every other value that looks like an absolute
 * path is taken as one, wherever it stands, whether or not the schema types it so.
 */
const FREE_TEXT = new Set([
  'os/cmdline',
  '*/description',
  '*/title',
  'seclabel/label',
  'seclabel/imagelabel',
  'seclabel/baselabel',
  'disk/serial',
  'disk/wwn',
  'disk/vendor',
  'disk/product',
  'target/dev',
  'entry/#text',
  'interface/target@dev',
  // The image's name on a network disk's server (nbd, iscsi, rbd…): not a path on this host.
  'source@name',
]);

function isFreeText(parent: string, element: string, attribute: string): boolean {
  const key = attribute === '#text' ? `${parent}/${element}` : `${parent}/${element}@${attribute}`;
  return (
    FREE_TEXT.has(key) ||
    FREE_TEXT.has(`*/${element}`) ||
    (attribute === '#text' && FREE_TEXT.has(`${element}/#text`)) ||
    (attribute !== '#text' && FREE_TEXT.has(`${element}@${attribute}`))
  );
}

/** The schema's path places of one kind of document, by `parent/element@attribute`. */
const PLACES = new Map<string, Map<string, SchemaPathType>>();
function placesOf(kind: ClientDocumentKind): Map<string, SchemaPathType> {
  const table = kind === 'device' ? 'domain' : kind;
  let places = PLACES.get(table);
  if (!places) {
    places = new Map();
    const rows = [
      ...(SCHEMA_PATH_PLACES[table] ?? []),
      ...(table === 'snapshot' ? (SCHEMA_PATH_PLACES.domain ?? []) : []),
    ];
    for (const [parent, element, attribute, type] of rows) {
      places.set(`${parent}/${element}@${attribute}`, type);
    }
    PLACES.set(table, places);
  }
  return places;
}

/** An element with its namespace resolved and its place in the document, for the scanner and for messages. */
export class Located {
  readonly el: XmlElement;
  readonly tag: string;
  readonly local: string;
  readonly namespace: string | undefined;
  readonly #scope: ReadonlyMap<string, string>;

  constructor(
    node: XmlNode,
    scope: ReadonlyMap<string, string>,
    readonly location: string,
    readonly parent: Located | undefined,
  ) {
    this.el = new XmlElement(node);
    this.tag = this.el.name;
    const colon = this.tag.indexOf(':');
    const prefix = colon < 0 ? '' : this.tag.slice(0, colon);
    this.local = colon < 0 ? this.tag : this.tag.slice(colon + 1);
    const declared = new Map(scope);
    for (const [key, value] of Object.entries(this.attributes())) {
      if (key === 'xmlns') declared.set('', value);
      else if (key.startsWith('xmlns:')) declared.set(key.slice('xmlns:'.length), value);
    }
    this.#scope = declared;
    const uri = declared.get(prefix);
    // An undeclared prefix is still a namespace: libvirt's parser would not read it as its own element.
    this.namespace = uri === '' ? undefined : (uri ?? (prefix === '' ? undefined : `(undeclared prefix ${prefix})`));
  }

  static root(node: XmlNode): Located {
    const tag = tagOf(node) ?? '?';
    return new Located(node, new Map(), `/${tag}`, undefined);
  }

  /** Every attribute as written (`xmlns` declarations included), by name. */
  attributes(): Record<string, string> {
    const out: Record<string, string> = {};
    for (const [key, value] of Object.entries((this.el.node[':@'] ?? {}) as Record<string, string>)) {
      out[key.startsWith('@_') ? key.slice(2) : key] = value;
    }
    return out;
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
      out.push(new Located(node, this.#scope, `${this.location}/${tag}[${n}]`, this));
    }
    return out;
  }

  /** Child elements in libvirt's (empty) namespace with this local name. */
  childrenNamed(name: string): Located[] {
    return this.children().filter((c) => c.tag === name && c.namespace === undefined);
  }

  /** The local name of the enclosing element: at the root, '' or, for a device, `devices`, where libvirt puts it. */
  parentName(kind: ClientDocumentKind): string {
    return this.parent?.local ?? (kind === 'device' ? 'devices' : '');
  }
}

/**
 * Walks every element of a client document, however often an element repeats and wherever it
 * stands, and lists what it would make the host do: each value of a host-path place (from
 * libvirt's schemas, or any value that looks like an absolute path outside free text), each
 * element that reaches the host's devices, networks or programs.
 */
export class Scanner {
  readonly findings: Finding[] = [];
  readonly #places: Map<string, SchemaPathType>;

  constructor(
    private readonly allow: XmlAllowConfig,
    private readonly kind: ClientDocumentKind,
  ) {
    this.#places = placesOf(kind);
  }

  #add(el: Located, need: Requirement): void {
    this.findings.push({ element: el.tag, location: el.location, need });
  }

  #refuse(el: Located, why: string, allowedBy: string): void {
    this.#add(el, { kind: 'refuse', why, allowedBy });
  }

  scan(root: Located): void {
    this.#visit(root);
  }

  #visit(el: Located): void {
    if (el.namespace !== undefined) {
      this.#foreign(el);
      return;
    }
    // libvirt keeps <metadata> as opaque text for applications; it never reads a path there.
    if (el.local === 'metadata' && el.parent?.parent === undefined) return;
    this.#element(el);
    this.#values(el);
    for (const child of el.children()) this.#visit(child);
  }

  /** Namespaced elements: libvirt interprets some (qemu:, dnsmasq:, xen:). */
  #foreign(el: Located): void {
    if (el.namespace === QEMU_NAMESPACE) {
      if (!this.allow.qemuNamespace) this.#refuse(el, 'passes options straight to QEMU', 'xml.allow.qemuNamespace');
    } else if (!this.allow.otherNamespaces) {
      this.#refuse(el, `is in namespace ${el.namespace}, which libvirt may interpret`, 'xml.allow.otherNamespaces');
    }
  }

  /** Every attribute and the text of `el`, against the path places and the value rules. */
  #values(el: Located): void {
    const parent = el.parentName(this.kind);
    const values: Array<[string, string]> = Object.entries(el.attributes()).filter(
      ([name]) => name !== 'xmlns' && !name.startsWith('xmlns:'),
    );
    const text = el.text().trim();
    if (text !== '') values.push(['#text', text]);
    for (const [attribute, value] of values) {
      const typed = this.#places.has(`${parent}/${el.local}@${attribute}`);
      // Trimmed: a leading space must not hide a path from the rule (libvirt's own reading may trim it).
      const looksLikePath = value.trim().startsWith('/') && !isFreeText(parent, el.local, attribute);
      if (!typed && !looksLikePath) continue;
      if (this.#openedByConfig(el)) continue;
      const special = this.#specialValue(el, attribute, value);
      if (special === 'allowed') continue;
      if (special !== undefined) {
        this.#add(el, special);
        continue;
      }
      const role = this.kind === 'pool' && el.local === 'path' && parent === 'target' ? 'pool' : 'storage';
      this.#add(el, { kind: 'path', path: value, role });
    }
  }

  /**
   * Whether the operator's config opened the element holding this value to host paths: an allowed
   * `<hostdev>`, `<filesystem>` or `<shmem>` and everything in it, allowed NIC scripts, tap/vhost
   * backends and input passthrough, and the sources of char devices of an allowed type. The
   * element rule refuses them otherwise; once allowed, their paths are the operator's choice.
   */
  #openedByConfig(el: Located): boolean {
    const a = this.allow;
    for (let at: Located | undefined = el; at !== undefined; at = at.parent) {
      if (at.local === 'hostdev' && a.hostdev) return true;
      if (at.local === 'filesystem' && a.filesystem) return true;
      if (at.local === 'shmem' && a.shmem) return true;
    }
    const owner = el.parent;
    if ((el.local === 'script' || el.local === 'downscript') && a.interfaceScripts) return true;
    if (el.local === 'backend' && owner?.local === 'interface' && a.hostdev) return true;
    if (owner?.local === 'input' && ['passthrough', 'evdev'].includes(owner.attr('type') ?? '') && a.hostdev)
      return true;
    if (el.local === 'source' && owner !== undefined && a.charSourceTypes.includes(owner.attr('type') ?? 'pty')) {
      return CHAR_DEVICES.includes(owner.local) || ['redirdev', 'smartcard', 'backend'].includes(owner.local);
    }
    return false;
  }

  /** Path places with a rule of their own; undefined for the storage rule every other path meets. */
  #specialValue(el: Located, attribute: string, value: string): Requirement | 'allowed' | undefined {
    const place = `${el.parentName(this.kind)}/${el.local}@${attribute}`;
    switch (place) {
      case 'devices/emulator@#text':
        return { kind: 'emulator', path: value };
      case 'rng/backend@#text':
        return RNG_DEVICES.includes(value) ? 'allowed' : undefined;
      // A file the network's TFTP server (or another server) offers to PXE clients, not read by libvirt.
      case 'dhcp/bootp@file':
        return value.startsWith('/') ? undefined : 'allowed';
      // A snapshot's disk is named by its target (vda) or by its source path: only a path is one.
      case 'disks/disk@name':
        return value.startsWith('/') ? undefined : 'allowed';
      case 'resource/partition@#text':
        if (value === DEFAULT_PARTITION || this.allow.seclabel) return 'allowed';
        return {
          kind: 'refuse',
          why: `moves the guest to the host’s resource partition ${value}`,
          allowedBy: 'xml.allow.seclabel',
        };
      default:
        return undefined;
    }
  }

  /** Element rules: what an element reaches on the host by being there, wherever it stands. */
  #element(el: Located): void {
    const parent = el.parentName(this.kind);
    switch (el.local) {
      case 'disk':
        if (parent === 'devices' || parent === 'disks') this.#disk(el);
        return;
      case 'backingStore':
        if (this.kind !== 'volume' && el.children().length > 0) this.#diskType(el, el.attr('type') ?? 'file');
        return;
      case 'source':
        this.#source(el);
        return;
      case 'interface':
        if (parent === 'devices') this.#interface(el);
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
        if (el.attr('mode') !== 'passthrough' && !this.allow.hostdev) {
          this.#refuse(el, 'uses the host’s smartcard or certificates', 'xml.allow.hostdev');
        } else this.#charSource(el);
        return;
      case 'redirdev':
        this.#charSource(el);
        return;
      case 'backend':
        this.#backend(el);
        return;
      case 'input':
        if (['passthrough', 'evdev'].includes(el.attr('type') ?? '') && !this.allow.hostdev) {
          this.#refuse(el, 'hands a host input device to the guest', 'xml.allow.hostdev');
        }
        return;
      case 'script':
      case 'downscript':
        if (!this.allow.interfaceScripts) {
          this.#refuse(el, `runs ${el.attr('path') ?? 'a program'} on the host`, 'xml.allow.interfaceScripts');
        }
        return;
      case 'seclabel':
        this.#seclabel(el);
        return;
      case 'forward':
        if (this.kind === 'network') this.#forward(el);
        return;
      case 'pool':
        if (this.kind === 'pool' && el.parent === undefined) this.#poolType(el);
        return;
      default:
        if (CHAR_DEVICES.includes(el.local) && parent === 'devices') {
          this.#charSource(el);
        }
    }
  }

  #disk(el: Located): void {
    this.#diskType(el, el.attr('type') ?? 'file');
  }

  #diskType(el: Located, type: string): void {
    if (!DISK_TYPES.includes(type) && !this.allow.diskTypes.includes(type)) {
      this.#refuse(el, `of type ${type} reaches beyond the host’s storage`, 'xml.allow.diskTypes');
    }
  }

  /** A disk's (or backing store's) source naming a pool volume; NIC sources naming networks and bridges. */
  #source(el: Located): void {
    const owner = el.parent;
    if (owner === undefined || owner.namespace !== undefined) return;
    const ownerType = owner.attr('type');
    if ((owner.local === 'disk' || owner.local === 'backingStore') && ownerType === 'volume') {
      const pool = el.attr('pool');
      const volume = el.attr('volume');
      if (pool !== undefined && volume !== undefined) this.#add(el, { kind: 'volume', pool, volume });
      else this.#refuse(el, 'names a volume without its pool and name', 'xml.allow.diskTypes');
    }
    if (owner.local === 'interface' && (ownerType === 'network' || ownerType === 'bridge')) {
      const name = el.attr(ownerType);
      if (name !== undefined && !this.allow.unlistedNetworks) this.#add(el, { kind: ownerType, name });
    }
  }

  #interface(el: Located): void {
    const type = el.attr('type') ?? '';
    if (type !== 'network' && type !== 'bridge' && !this.allow.interfaceTypes.includes(type)) {
      this.#refuse(el, `of type ${type || '(none)'} reaches the host’s network directly`, 'xml.allow.interfaceTypes');
    }
  }

  /** serial, console, parallel, channel, redirdev, passthrough smartcards and char backends: where their data goes. */
  #charSource(el: Located): void {
    const type = el.attr('type') ?? 'pty';
    const sources = el.childrenNamed('source');
    // libvirt picks the socket path itself (under its own directory) when none is given.
    const libvirtsSocket = type === 'unix' && sources.every((s) => s.attr('path') === undefined);
    if (!SAFE_CHAR_TYPES.includes(type) && !libvirtsSocket && !this.allow.charSourceTypes.includes(type)) {
      this.#refuse(el, `with a ${type} source reaches host files, sockets or ports`, 'xml.allow.charSourceTypes');
    }
  }

  /** rng, tpm and NIC backends. */
  #backend(el: Located): void {
    const owner = el.parent?.local;
    if (owner === 'rng' && el.attr('model') === 'egd') this.#charSource(el);
    if (owner === 'tpm') {
      const type = el.attr('type');
      if (type === 'passthrough' && !this.allow.hostdev) {
        this.#refuse(el, 'hands the host’s TPM to the guest', 'xml.allow.hostdev');
      } else if (type === 'external') this.#charSource(el);
    }
    if (owner === 'interface' && (el.attr('tap') !== undefined || el.attr('vhost') !== undefined)) {
      if (!this.allow.hostdev) this.#refuse(el, 'opens host device files for the NIC', 'xml.allow.hostdev');
    }
  }

  #seclabel(el: Located): void {
    const dynamic = (el.attr('type') ?? 'dynamic') === 'dynamic' && el.children().length === 0;
    if ((!dynamic || el.attr('relabel') === 'no') && !this.allow.seclabel) {
      this.#refuse(el, 'changes how the host confines the guest', 'xml.allow.seclabel');
    }
  }

  #forward(el: Located): void {
    const listed = !this.allow.unlistedNetworks;
    const dev = el.attr('dev');
    if (dev !== undefined && listed) this.#add(el, { kind: 'hostInterface', name: dev });
    for (const iface of [...el.childrenNamed('interface'), ...el.childrenNamed('pf')]) {
      const d = iface.attr('dev');
      if (d !== undefined && listed) this.#add(iface, { kind: 'hostInterface', name: d });
    }
    if ((el.attr('mode') === 'hostdev' || el.childrenNamed('address').length > 0) && !this.allow.hostdev) {
      this.#refuse(el, 'hands host PCI functions to guests', 'xml.allow.hostdev');
    }
  }

  #poolType(el: Located): void {
    const type = el.attr('type') ?? '';
    if (!POOL_TYPES.includes(type) && !this.allow.poolTypes.includes(type)) {
      this.#refuse(el, `of type ${type || '(none)'} reaches beyond the host’s local storage`, 'xml.allow.poolTypes');
    }
  }
}

export function scanDocument(root: XmlElement, kind: ClientDocumentKind, allow: XmlAllowConfig): Finding[] {
  const scanner = new Scanner(allow, kind);
  scanner.scan(Located.root(root.node));
  return scanner.findings;
}
