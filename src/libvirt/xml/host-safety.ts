import { realpath } from 'node:fs/promises';
import { dirname, isAbsolute, posix } from 'node:path';
import { type ClientDocumentKind, type Finding, scanDocument, type XmlAllowConfig } from './host-safety-scan.ts';
import type { XmlElement } from './xml-codec.ts';

export type { ClientDocumentKind, XmlAllowConfig } from './host-safety-scan.ts';
export { QEMU_NAMESPACE } from './host-safety-scan.ts';

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

export const UNSAFE_PRIVILEGE = 'Sys.Unsafe';

/** A storage pool's directory on the host. */
export interface PoolTarget {
  pool: string;
  path: string;
}

/** What the policy asks of the host, lazily: only documents that need an answer cost a libvirt call. */
export interface HostInventory {
  /** Whether libvirt shares this machine's filesystem, so symlinks can be resolved here. */
  readonly local: boolean;
  poolTargets(): Promise<PoolTarget[]>;
  /** The path of a pool's volume, or undefined when the host has no such pool or volume. */
  volumePath(pool: string, volume: string): Promise<string | undefined>;
  networks(): Promise<string[]>;
  /** Bridges of the host's networks (with the network's name) and host interfaces of type bridge. */
  bridges(): Promise<Array<{ name: string; network?: string }>>;
  hostInterfaces(): Promise<string[]>;
  emulators(): Promise<string[]>;
}

/** What the caller's grants let it use (Storage.Use, Network.Use) and see (Storage.Audit, Network.Audit). */
export interface HostAccess {
  usePool(pool: string): boolean;
  seePool(pool: string): boolean;
  /** Storage outside every pool (storage.allowedPaths): Storage.Use on the whole host. */
  useUnpooledStorage(): boolean;
  useNetwork(network: string): boolean;
  seeNetwork(network: string): boolean;
  /** Bridges no network of the host owns: Network.Use on the whole host. */
  useHostBridges(): boolean;
  /** Whether the volume at this path is used by a domain the caller may not see. */
  volumeHidden(path: string): Promise<boolean>;
}

/** Everything allowed: the policy's paths and elements still apply, grants do not narrow them. */
export const FULL_ACCESS: HostAccess = {
  usePool: () => true,
  seePool: () => true,
  useUnpooledStorage: () => true,
  useNetwork: () => true,
  seeNetwork: () => true,
  useHostBridges: () => true,
  volumeHidden: async () => false,
};

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

/** Client input naming storage or a network the caller's grants do not cover: FORBIDDEN, or NOT_FOUND when it may not even see it. */
export class UseDeniedError extends Error {
  override readonly name = 'UseDeniedError';
  constructor(
    message: string,
    readonly visible: boolean,
    /** The privilege that is missing: Storage.Use or Network.Use. */
    readonly privilege: 'Storage.Use' | 'Network.Use',
    readonly location: string,
  ) {
    super(message);
  }
}

/**
 * One canonical form of a host path: `.`, `..`, repeated and trailing slashes resolved and, when
 * the host is local, symlinks too (through its deepest existing ancestor). Every candidate and
 * every root or volume it is compared with goes through here.
 */
export async function canonicalPath(p: string, local: boolean): Promise<string> {
  const normal = normalPath(p);
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

/** The spelling-only part of the canonical form (`.`, `..`, repeated and trailing slashes), without the filesystem. */
export function normalPath(p: string): string {
  const normal = posix.normalize(p);
  return normal.length > 1 && normal.endsWith('/') ? normal.slice(0, -1) : normal;
}

/** Whether canonical `p` is `root` or lies under it. */
export function isInside(root: string, p: string): boolean {
  if (root === '/') return true;
  return p === root || p.startsWith(`${root}/`);
}

function unsafe(f: Pick<Finding, 'element' | 'location'>, why: string, allowedBy: string, path?: string) {
  const thing = `<${f.element}> at ${f.location}`;
  return new UnsafeInputError(
    `${thing} ${why}; allowed by ${allowedBy} or the ${UNSAFE_PRIVILEGE} privilege`,
    f.element,
    f.location,
    allowedBy,
    path,
  );
}

/** Where a path lies: the pool whose directory holds it, or a configured root, or neither. */
export interface PathPlace {
  canonical: string;
  pool?: PoolTarget;
  underAllowedPath: boolean;
}

/** Places paths among the host's pools and the configured roots, all in canonical form. */
export class StorageMap {
  #pools: Promise<PoolTarget[]> | undefined;
  #roots: Promise<string[]> | undefined;
  constructor(
    private readonly config: HostSafetyConfig,
    private readonly host: HostInventory,
  ) {}

  pools(): Promise<PoolTarget[]> {
    this.#pools ??= (async () => {
      const targets = (await this.host.poolTargets()).filter((t) => isAbsolute(t.path));
      const resolved = await Promise.all(
        targets.map(async (t) => ({ pool: t.pool, path: await canonicalPath(t.path, this.host.local) })),
      );
      // The deepest directory first, so a path is placed in the innermost pool holding it.
      return resolved.sort((a, b) => b.path.length - a.path.length);
    })();
    return this.#pools;
  }

  roots(): Promise<string[]> {
    this.#roots ??= Promise.all(this.config.allowedPaths.map((r) => canonicalPath(r, this.host.local)));
    return this.#roots;
  }

  async place(p: string): Promise<PathPlace> {
    const canonical = await canonicalPath(p, this.host.local);
    const pool = (await this.pools()).find((t) => isInside(t.path, canonical));
    const underAllowedPath = (await this.roots()).some((r) => isInside(r, canonical));
    return { canonical, ...(pool ? { pool } : {}), underAllowedPath };
  }
}

/** Checks what a document's findings ask of the host against the storage map, the host and the caller's grants. */
class FindingCheck {
  readonly storage: StorageMap;
  constructor(
    private readonly config: HostSafetyConfig,
    private readonly host: HostInventory,
    private readonly access: HostAccess,
  ) {
    this.storage = new StorageMap(config, host);
  }

  async check(f: Finding): Promise<void> {
    const { need } = f;
    switch (need.kind) {
      case 'refuse':
        throw unsafe(f, need.why, need.allowedBy);
      case 'path':
        if (need.role === 'pool') await this.#poolDirectory(f, need.path);
        else await this.storagePath(f, need.path);
        return;
      case 'volume': {
        const path = this.access.seePool(need.pool) ? await this.host.volumePath(need.pool, need.volume) : undefined;
        if (path === undefined || (await this.access.volumeHidden(path))) {
          throw new UseDeniedError(
            `<${f.element}> at ${f.location} names volume ${need.volume} of pool ${need.pool}, which does not exist`,
            false,
            'Storage.Use',
            f.location,
          );
        }
        this.#usePool(f, need.pool);
        return;
      }
      case 'network':
        if (!(await this.host.networks()).includes(need.name) || !this.access.seeNetwork(need.name)) {
          throw unsafe(f, `names network ${need.name}, which the host does not have`, 'xml.allow.unlistedNetworks');
        }
        this.#useNetwork(f, need.name);
        return;
      case 'bridge': {
        const bridge = (await this.host.bridges()).find((b) => b.name === need.name);
        const visible = bridge && (bridge.network === undefined || this.access.seeNetwork(bridge.network));
        if (!visible) {
          throw unsafe(f, `names bridge ${need.name}, which the host does not have`, 'xml.allow.unlistedNetworks');
        }
        if (bridge.network !== undefined) this.#useNetwork(f, bridge.network);
        else if (!this.access.useHostBridges()) {
          throw new UseDeniedError(
            `<${f.element}> at ${f.location} names bridge ${need.name}: a bridge outside the host’s networks needs Network.Use on the whole host`,
            true,
            'Network.Use',
            f.location,
          );
        }
        return;
      }
      case 'hostInterface':
        if (!(await this.host.hostInterfaces()).includes(need.name)) {
          throw unsafe(
            f,
            `names host interface ${need.name}, which the host does not have`,
            'xml.allow.unlistedNetworks',
          );
        }
        return;
      case 'emulator':
        if (!this.config.allow.emulator && !(await this.host.emulators()).includes(need.path)) {
          throw unsafe(
            f,
            `runs ${need.path}, which is not an emulator the host lists`,
            'xml.allow.emulator',
            need.path,
          );
        }
        return;
    }
  }

  /** A path libvirt reads or writes: inside a pool the caller may use, or under storage.allowedPaths. */
  async storagePath(f: Pick<Finding, 'element' | 'location'>, path: string): Promise<PathPlace> {
    if (!isAbsolute(path))
      throw unsafe(f, `names a relative path ${JSON.stringify(path)}`, 'storage.allowedPaths', path);
    const place = await this.storage.place(path);
    const shown = place.canonical === path ? path : `${path} (${place.canonical})`;
    // A pool the caller may not see is no storage at all to it: the same answer as any path outside.
    if (place.pool && !this.access.seePool(place.pool.pool)) {
      throw unsafe(f, `names ${path}, outside the allowed storage`, 'storage.allowedPaths', path);
    }
    if (place.pool) {
      if (await this.access.volumeHidden(place.canonical)) {
        throw new UseDeniedError(
          `<${f.element}> at ${f.location} names ${path}: no such volume`,
          false,
          'Storage.Use',
          f.location,
        );
      }
      this.#usePool(f, place.pool.pool);
      return place;
    }
    if (!place.underAllowedPath)
      throw unsafe(f, `names ${shown}, outside the allowed storage`, 'storage.allowedPaths', path);
    if (!this.access.useUnpooledStorage()) {
      throw new UseDeniedError(
        `<${f.element}> at ${f.location} names ${path}: storage outside the host’s pools needs Storage.Use on the whole host`,
        true,
        'Storage.Use',
        f.location,
      );
    }
    return place;
  }

  /** A new pool's directory: under storage.allowedPaths, and neither inside nor around another pool's directory (whose volumes it would show under another name). */
  async #poolDirectory(f: Finding, path: string): Promise<void> {
    if (!isAbsolute(path))
      throw unsafe(f, `names a relative path ${JSON.stringify(path)}`, 'storage.allowedPaths', path);
    const place = await this.storage.place(path);
    if (!place.underAllowedPath) {
      throw unsafe(f, `names ${path}, outside the allowed storage`, 'storage.allowedPaths', path);
    }
    // Who may create the pool is Storage.Allocate on its name, checked before the document is read.
    const overlap = (await this.storage.pools()).find(
      (t) => isInside(t.path, place.canonical) || isInside(place.canonical, t.path),
    );
    if (overlap) {
      const name = this.access.seePool(overlap.pool) ? `pool ${overlap.pool}’s directory` : 'another pool’s directory';
      throw unsafe(f, `names ${path}, which overlaps ${name}`, 'storage.allowedPaths', path);
    }
  }

  #usePool(f: Pick<Finding, 'element' | 'location'>, pool: string): void {
    if (!this.access.usePool(pool)) {
      throw new UseDeniedError(
        `<${f.element}> at ${f.location} uses storage of pool ${pool}, which needs Storage.Use on it`,
        true,
        'Storage.Use',
        f.location,
      );
    }
  }

  #useNetwork(f: Finding, network: string): void {
    if (!this.access.useNetwork(network)) {
      throw new UseDeniedError(
        `<${f.element}> at ${f.location} puts a NIC on network ${network}, which needs Network.Use on it`,
        true,
        'Network.Use',
        f.location,
      );
    }
  }
}

/**
 * Checks a client document against the operator's policy and the caller's grants before libvirt
 * sees it; throws UnsafeInputError or UseDeniedError for the first thing not allowed. With
 * `baseline` (the document before an edit), only what the edit added is checked.
 */
export async function checkClientDocument(
  root: XmlElement,
  kind: ClientDocumentKind,
  config: HostSafetyConfig,
  host: HostInventory,
  access: HostAccess = FULL_ACCESS,
  baseline?: XmlElement,
): Promise<void> {
  if (config.allowUnsafeXml) return;
  const findings = scanDocument(root, kind, config.allow);
  const known = new Set(
    baseline ? scanDocument(baseline, kind, config.allow).map((f) => JSON.stringify([f.location, f.need])) : [],
  );
  const check = new FindingCheck(config, host, access);
  for (const f of findings) {
    if (!known.has(JSON.stringify([f.location, f.need]))) await check.check(f);
  }
}

/**
 * Checks a path the client names outside any document (a save file) like a path in one; throws
 * naming `field` when it is refused. Returns where the path lies.
 */
export async function checkClientPath(
  path: string,
  field: string,
  config: HostSafetyConfig,
  host: HostInventory,
  access: HostAccess = FULL_ACCESS,
): Promise<PathPlace> {
  const check = new FindingCheck(config, host, access);
  if (config.allowUnsafeXml) return check.storage.place(path);
  return check.storagePath({ element: field, location: field }, path);
}
