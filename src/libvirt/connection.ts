import { Domain, type SaveRestoreFlag } from './domain.ts';
import {
  ConnectGetAllDomainStatsFlags,
  ConnectListAllDomainsFlags,
  ConnectListAllInterfacesFlags,
  ConnectListAllNetworksFlags,
  ConnectListAllStoragePoolsFlags,
  DomainCreateFlags,
  DomainDefineFlags,
  DomainSaveRestoreFlags,
  DomainState,
  DomainStatsTypes,
  StoragePoolCreateFlags,
} from './enums.ts';
import { ErrorNumber } from './error-codes.ts';
import { invoke, LibvirtError } from './errors.ts';
import { type EventListener, type LibvirtEvent, toEvent } from './events.ts';
import { flagsOf, type ListFilter, listFlags } from './flags.ts';
import { HostInterface } from './host-interface.ts';
import { type ConnHandle, native, type RawEvent, type TypedParams } from './native.ts';
import { Network } from './network.ts';
import { StoragePool } from './storage-pool.ts';
import { parseVersion, type Version } from './version.ts';
import { Volume } from './volume.ts';

export interface OpenOptions {
  /** Answers libvirt's username prompt (SASL, ssh password auth...). */
  username?: string;
  /** Answers libvirt's passphrase prompt. */
  password?: string;
  readonly?: boolean;
}

export interface NodeInfo {
  /** CPU model, e.g. x86_64. */
  model: string;
  memoryKiB: bigint;
  cpus: number;
  mhz: number;
  numaNodes: number;
  sockets: number;
  cores: number;
  threads: number;
}

export type PoolCreateBuild = Exclude<keyof typeof StoragePoolCreateFlags, 'NORMAL'>;

export type DomainStatsType = keyof typeof DomainStatsTypes;

export interface DomainStats {
  domain: Domain;
  /** libvirt's flat stat names, e.g. state.state, balloon.current, vcpu.current. */
  params: TypedParams;
}

/** VIR_NODE_CPU_STATS_ALL_CPUS and VIR_NODE_MEMORY_STATS_ALL_CELLS. */
const NODE_ALL = -1;
/** The most cells the remote protocol answers for at once (REMOTE_NODE_MAX_CELLS). */
const MAX_CELLS = 1024;

const CPU_TIMES = /^(?:cpu\.(?:time|user|system)|vcpu\.\d+\.time)$/;

/**
 * libvirt 9.0's QEMU driver reports libvirtd's own CPU time as the
 * `cpu.*` times of a domain that is not running: a shut-off domain has none, so they go.
 */
function withoutInactiveCpu(params: TypedParams, keepState: boolean): TypedParams {
  const shutOff = params['state.state'] === DomainState.SHUTOFF;
  if (!shutOff && keepState) return params;
  return Object.fromEntries(
    Object.entries(params).filter(
      ([key]) => !(shutOff && CPU_TIMES.test(key)) && (keepState || !key.startsWith('state.')),
    ),
  );
}

/** One libvirt connection (virConnectPtr) and everything reachable through it. */
export class Connection {
  readonly #handle: ConnHandle;
  readonly #listeners = new Set<EventListener>();
  #registration: Promise<void> | undefined;
  #closed = false;

  private constructor(
    handle: ConnHandle,
    /** The URI this connection was opened with. */
    readonly uri: string,
  ) {
    this.#handle = handle;
  }

  /** virConnectOpenAuth. */
  static async open(uri: string, options: OpenOptions = {}): Promise<Connection> {
    const { username, password, readonly = false } = options;
    const handle = await invoke(() => native.connectOpen(uri, username, password, readonly));
    return new Connection(handle, uri);
  }

  /** @internal for the other port classes (migration needs the destination's handle). */
  get handle(): ConnHandle {
    return this.#handle;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Deregisters events and closes; harmless when already closed. */
  async close(): Promise<void> {
    this.#closed = true;
    this.#listeners.clear();
    await invoke(() => native.connectClose(this.#handle));
  }

  isAlive(): Promise<boolean> {
    return invoke(() => native.connectIsAlive(this.#handle));
  }

  hostname(): Promise<string> {
    return invoke(() => native.connectGetHostname(this.#handle));
  }

  /** The canonical URI libvirt reports for this connection. */
  canonicalUri(): Promise<string> {
    return invoke(() => native.connectGetURI(this.#handle));
  }

  /** The hypervisor driver name, e.g. QEMU or TEST. */
  hypervisorType(): Promise<string> {
    return invoke(() => native.connectGetType(this.#handle));
  }

  async hypervisorVersion(): Promise<Version> {
    return parseVersion(await invoke(() => native.connectGetVersion(this.#handle)));
  }

  /** The libvirt version of the daemon (or library, for in-process drivers). */
  async libVersion(): Promise<Version> {
    return parseVersion(await invoke(() => native.connectGetLibVersion(this.#handle)));
  }

  capabilities(): Promise<string> {
    return invoke(() => native.connectGetCapabilities(this.#handle));
  }

  /** virConnectGetDomainCapabilities: what guests of this arch, machine and virt type can have (firmware, CPU modes…). */
  domainCapabilities(options: { arch?: string; machine?: string; virtType?: string } = {}): Promise<string> {
    return invoke(() =>
      native.connectGetDomainCapabilities(this.#handle, options.arch, options.machine, options.virtType),
    );
  }

  async nodeInfo(): Promise<NodeInfo> {
    const n = await invoke(() => native.nodeGetInfo(this.#handle));
    return { ...n, numaNodes: n.nodes };
  }

  freeMemoryBytes(): Promise<bigint> {
    return invoke(() => native.nodeGetFreeMemory(this.#handle));
  }

  /**
   * virNodeGetCPUStats of all CPUs together: cumulative nanoseconds by libvirt's field name
   * (kernel, user, idle, iowait, intr; or utilization, a percentage, on some drivers).
   */
  nodeCpuStats(): Promise<Record<string, bigint>> {
    return invoke(() => native.nodeGetCPUStats(this.#handle, NODE_ALL));
  }

  /** virNodeGetMemoryStats of all cells together: KiB by libvirt's field name (total, free, buffers, cached). */
  nodeMemoryStats(): Promise<Record<string, bigint>> {
    return invoke(() => native.nodeGetMemoryStats(this.#handle, NODE_ALL));
  }

  /** virNodeGetCellsFreeMemory: free bytes of each NUMA cell, in cell order. */
  cellsFreeMemoryBytes(): Promise<bigint[]> {
    return invoke(() => native.nodeGetCellsFreeMemory(this.#handle, 0, MAX_CELLS));
  }

  /** Sends keepalives every `intervalSeconds`; closes after `count` unanswered. False if the driver has none. */
  async setKeepAlive(intervalSeconds: number, count: number): Promise<boolean> {
    try {
      return await invoke(() => native.connectSetKeepAlive(this.#handle, intervalSeconds, count));
    } catch (e) {
      // In-process drivers (test://) have no transport to keep alive.
      if (e instanceof LibvirtError && e.code === ErrorNumber.NO_SUPPORT) return false;
      throw e;
    }
  }

  async domains(filter?: ListFilter): Promise<Domain[]> {
    const raws = await invoke(() =>
      native.connectListAllDomains(this.#handle, listFlags(ConnectListAllDomainsFlags, filter)),
    );
    return raws.map((raw) => new Domain(this, raw));
  }

  async domainByName(name: string): Promise<Domain> {
    return new Domain(this, await invoke(() => native.domainLookupByName(this.#handle, name)));
  }

  async domainByUuid(uuid: string): Promise<Domain> {
    return new Domain(this, await invoke(() => native.domainLookupByUUID(this.#handle, uuid)));
  }

  async domainById(id: number): Promise<Domain> {
    return new Domain(this, await invoke(() => native.domainLookupByID(this.#handle, id)));
  }

  /** virDomainDefineXMLFlags: a persistent domain, not started. */
  async defineDomain(xml: string, options: { validate?: boolean } = {}): Promise<Domain> {
    const flags = options.validate ? DomainDefineFlags.VALIDATE : 0;
    return new Domain(this, await invoke(() => native.domainDefineXML(this.#handle, xml, flags)));
  }

  /** virDomainCreateXML: a transient domain, started at once. */
  async createDomain(xml: string, options: { paused?: boolean } = {}): Promise<Domain> {
    const flags = options.paused ? DomainCreateFlags.START_PAUSED : 0;
    return new Domain(this, await invoke(() => native.domainCreateXML(this.#handle, xml, flags)));
  }

  /** virDomainRestoreFlags: starts the domain a save file holds (RUNNING or PAUSED override the saved state). */
  restoreDomain(path: string, flags: readonly SaveRestoreFlag[] = []): Promise<void> {
    return invoke(() => native.domainRestore(this.#handle, path, flagsOf(DomainSaveRestoreFlags, flags)));
  }

  /** virDomainSaveImageGetXMLDesc: the definition of the domain a save file holds. */
  saveImageXml(path: string): Promise<string> {
    return invoke(() => native.domainSaveImageGetXMLDesc(this.#handle, path, 0));
  }

  /**
   * virConnectGetAllDomainStats: one call for many domains' state, CPU, balloon, vCPU...
   * With `enforce` (the default) a stat group the driver lacks is an error; without it the
   * driver returns the groups it has. With `nowait` a domain busy in a job reports what it can
   * without waiting for the job (VIR_CONNECT_GET_ALL_DOMAINS_STATS_NOWAIT).
   */
  async allDomainStats(
    stats: DomainStatsType[],
    filter?: ListFilter,
    options: { enforce?: boolean; nowait?: boolean } = {},
  ): Promise<DomainStats[]> {
    const enforce = options.enforce ?? true;
    const flags =
      listFlags(ConnectGetAllDomainStatsFlags, filter) |
      (enforce ? ConnectGetAllDomainStatsFlags.ENFORCE_STATS : 0) |
      (options.nowait ? ConnectGetAllDomainStatsFlags.NOWAIT : 0);
    // STATE comes too, so the CPU times of a domain that is not running can be told apart and dropped.
    const groups: DomainStatsType[] = stats.includes('STATE') ? stats : [...stats, 'STATE'];
    const rows = await invoke(() =>
      native.connectGetAllDomainStats(this.#handle, flagsOf(DomainStatsTypes, groups), flags >>> 0),
    );
    return rows.map((row) => ({
      domain: new Domain(this, row.domain),
      params: withoutInactiveCpu(row.params, stats.includes('STATE')),
    }));
  }

  async networks(filter?: ListFilter): Promise<Network[]> {
    const raws = await invoke(() =>
      native.connectListAllNetworks(this.#handle, listFlags(ConnectListAllNetworksFlags, filter)),
    );
    return raws.map((raw) => new Network(this, raw));
  }

  async networkByName(name: string): Promise<Network> {
    return new Network(this, await invoke(() => native.networkLookupByName(this.#handle, name)));
  }

  async networkByUuid(uuid: string): Promise<Network> {
    return new Network(this, await invoke(() => native.networkLookupByUUID(this.#handle, uuid)));
  }

  /** A persistent network, left inactive. */
  async defineNetwork(xml: string): Promise<Network> {
    return new Network(this, await invoke(() => native.networkDefineXML(this.#handle, xml, 0)));
  }

  /** A transient network, started at once. */
  async createNetwork(xml: string): Promise<Network> {
    return new Network(this, await invoke(() => native.networkCreateXML(this.#handle, xml, 0)));
  }

  async interfaces(filter?: ListFilter): Promise<HostInterface[]> {
    const raws = await invoke(() =>
      native.connectListAllInterfaces(this.#handle, listFlags(ConnectListAllInterfacesFlags, filter)),
    );
    return raws.map((raw) => new HostInterface(this, raw));
  }

  async interfaceByName(name: string): Promise<HostInterface> {
    return new HostInterface(this, await invoke(() => native.interfaceLookupByName(this.#handle, name)));
  }

  async interfaceByMac(mac: string): Promise<HostInterface> {
    return new HostInterface(this, await invoke(() => native.interfaceLookupByMAC(this.#handle, mac)));
  }

  async defineInterface(xml: string): Promise<HostInterface> {
    return new HostInterface(this, await invoke(() => native.interfaceDefineXML(this.#handle, xml, 0)));
  }

  async storagePools(filter?: ListFilter): Promise<StoragePool[]> {
    const raws = await invoke(() =>
      native.connectListAllStoragePools(this.#handle, listFlags(ConnectListAllStoragePoolsFlags, filter)),
    );
    return raws.map((raw) => new StoragePool(this, raw));
  }

  async storagePoolByName(name: string): Promise<StoragePool> {
    return new StoragePool(this, await invoke(() => native.storagePoolLookupByName(this.#handle, name)));
  }

  async storagePoolByUuid(uuid: string): Promise<StoragePool> {
    return new StoragePool(this, await invoke(() => native.storagePoolLookupByUUID(this.#handle, uuid)));
  }

  /**
   * The pool holding a volume (virStoragePoolLookupByVolume). Volume.pool() asks here: volume.ts and
   * storage-pool.ts would otherwise each need the other at run time.
   */
  async storagePoolByVolume(volume: Volume): Promise<StoragePool> {
    return new StoragePool(this, await invoke(() => native.storageVolGetPool(volume.handle)));
  }

  /** A persistent pool, left inactive (see StoragePool.build and start). */
  async defineStoragePool(xml: string): Promise<StoragePool> {
    return new StoragePool(this, await invoke(() => native.storagePoolDefineXML(this.#handle, xml, 0)));
  }

  /** A transient pool, started at once; `build` prepares its backing first. */
  async createStoragePool(xml: string, build?: PoolCreateBuild): Promise<StoragePool> {
    const flags = flagsOf(StoragePoolCreateFlags, build ? [build] : []);
    return new StoragePool(this, await invoke(() => native.storagePoolCreateXML(this.#handle, xml, flags)));
  }

  async volumeByPath(path: string): Promise<Volume> {
    return new Volume(this, await invoke(() => native.storageVolLookupByPath(this.#handle, path)));
  }

  async volumeByKey(key: string): Promise<Volume> {
    return new Volume(this, await invoke(() => native.storageVolLookupByKey(this.#handle, key)));
  }

  /**
   * Listens to every lifecycle event of this connection. libvirt is asked once per
   * connection, however many listeners there are; the returned function removes this one.
   * While no one listens, the registration does not keep the process alive.
   */
  async subscribe(listener: EventListener): Promise<() => void> {
    this.#registration ??= invoke(() => native.connectRegisterEvents(this.#handle, (raw) => this.#dispatch(raw)));
    try {
      await this.#registration;
    } catch (e) {
      this.#registration = undefined;
      throw e;
    }
    this.#listeners.add(listener);
    this.#updateRef();
    return () => {
      this.#listeners.delete(listener);
      this.#updateRef();
    };
  }

  get listenerCount(): number {
    return this.#listeners.size;
  }

  #updateRef(): void {
    if (!this.#closed) native.connectSetEventsRef(this.#handle, this.#listeners.size > 0);
  }

  #dispatch(raw: RawEvent): void {
    const event: LibvirtEvent = toEvent(this, raw);
    for (const listener of [...this.#listeners]) {
      try {
        listener(event);
      } catch (e) {
        queueMicrotask(() => {
          throw e;
        });
      }
    }
  }
}
