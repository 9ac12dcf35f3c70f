// The only module that loads the native binding (src/native, built by node-gyp into build/).
import { createRequire } from 'node:module';

declare const handleBrand: unique symbol;
/** An opaque libvirt object handle; the binding checks its kind on every call. */
export type Handle<K extends string> = { readonly [handleBrand]: K };
export type ConnHandle = Handle<'connection'>;
export type DomainHandle = Handle<'domain'>;
export type NetworkHandle = Handle<'network'>;
export type InterfaceHandle = Handle<'interface'>;
export type PoolHandle = Handle<'storage pool'>;
export type VolumeHandle = Handle<'storage volume'>;
export type SnapshotHandle = Handle<'domain snapshot'>;
export type NodeDeviceHandle = Handle<'node device'>;
export type SecretHandle = Handle<'secret'>;
export type StreamHandle = Handle<'stream'>;
export type TransferHandle = Handle<'transfer'>;

export interface RawDomain {
  handle: DomainHandle;
  name: string;
  uuid: string;
  id: number;
}
export interface RawNetwork {
  handle: NetworkHandle;
  name: string;
  uuid: string;
}
export interface RawInterface {
  handle: InterfaceHandle;
  name: string;
  mac: string;
}
export interface RawPool {
  handle: PoolHandle;
  name: string;
  uuid: string;
}
export interface RawVolume {
  handle: VolumeHandle;
  name: string;
  key: string;
  path: string;
}
export interface RawSnapshot {
  handle: SnapshotHandle;
  name: string;
}
export interface RawNodeDevice {
  handle: NodeDeviceHandle;
  name: string;
}
/** A secret's identity, kept in its handle (no call reads it). */
export interface RawSecret {
  handle: SecretHandle;
  uuid: string;
  /** virSecretUsageType. */
  usageType: number;
  /** The usage's id: a volume path, a Ceph or iSCSI name, a TLS name or a vTPM name; empty for none. */
  usageId: string;
}
/** A snapshot as listed with its document, without a handle (reads need none). */
export interface RawSnapshotDetail {
  name: string;
  xml: string;
  current: boolean;
}
/** One guest interface as virDomainInterfaceAddresses reports it. */
export interface RawInterfaceAddresses {
  name: string;
  hwaddr: string;
  addrs: Array<{ type: number; addr: string; prefix: number }>;
}
export interface RawBlockJobInfo {
  type: number;
  bandwidth: bigint;
  cur: bigint;
  end: bigint;
}
export type TypedParams = Record<string, number | bigint | boolean | string>;
export interface RawNodeInfo {
  model: string;
  memoryKiB: bigint;
  cpus: number;
  mhz: number;
  nodes: number;
  sockets: number;
  cores: number;
  threads: number;
}
export interface RawDomainInfo {
  state: number;
  maxMemKiB: bigint;
  memoryKiB: bigint;
  vcpus: number;
  cpuTimeNs: bigint;
}
export interface RawPoolInfo {
  state: number;
  capacityBytes: bigint;
  allocationBytes: bigint;
  availableBytes: bigint;
}
export interface RawVolumeInfo {
  type: number;
  capacityBytes: bigint;
  allocationBytes: bigint;
}
export type RawEvent =
  | {
      kind: 'domain';
      /** VIR_DOMAIN_EVENT_ID_*: 0 for lifecycle, where event and detail are its type and detail. */
      id: number;
      /** The callback's integers, in its order (e.g. block job type and status). */
      event: number;
      detail: number;
      /** The callback's strings, in its order (device alias, path, namespace URI...). */
      strings: Array<string | null>;
      /** BALLOON_CHANGE: the balloon's size in KiB. */
      big?: bigint;
      subject: RawDomain;
    }
  | { kind: 'network'; event: number; detail: number; subject: RawNetwork }
  | { kind: 'storagePool'; event: number; detail: number; subject: RawPool }
  | { kind: 'close'; event: number; detail: number };
/** What a console stream reports, on Node's thread, in order. */
export type RawStreamEvent =
  | { type: 'data'; data: Buffer }
  | { type: 'end' }
  | { type: 'error'; error: RawLibvirtError }
  | { type: 'writable' };
/** Flow-control state of a console stream. */
export interface RawStreamInfo {
  paused: boolean;
  /** Reading stopped by the binding itself: `inflight` reached `cap`. */
  autoPaused: boolean;
  /** Bytes read from libvirt and queued for Node's thread, not yet delivered. */
  inflight: number;
  cap: number;
}
/** Migration typed parameters: string → string, number → int, bigint → unsigned long long. */
export type MigrateParams = Record<string, string | number | bigint | undefined>;

/** Errors the binding rejects with: a plain Error carrying libvirt's numbers. */
export interface RawLibvirtError extends Error {
  libvirtCode: number;
  libvirtDomain: number;
  libvirtLevel: number;
}

type P<T> = Promise<T>;
/** One slot of a batch call: the result, or that object's own libvirt error. */
export type Slots<T> = P<Array<T | RawLibvirtError>>;

/**
 * One document of a definitions batch (src/native/definitions.h): its generation when the
 * caller's parse of it is current; `[generation, tree JSON]` after a parse; `[0, null, why]` when
 * it is malformed.
 */
export type DefinitionSlot = number | [number, string] | [0, null, string];

export interface Native {
  readonly libraryVersion: number;
  connectOpen(uri: string, username?: string | null, password?: string | null, readonly?: boolean): P<ConnHandle>;
  connectClose(c: ConnHandle): P<void>;
  connectIsAlive(c: ConnHandle): P<boolean>;
  connectGetHostname(c: ConnHandle): P<string>;
  connectGetURI(c: ConnHandle): P<string>;
  connectGetType(c: ConnHandle): P<string>;
  connectGetVersion(c: ConnHandle): P<number>;
  connectGetLibVersion(c: ConnHandle): P<number>;
  connectGetCapabilities(c: ConnHandle): P<string>;
  connectGetDomainCapabilities(c: ConnHandle, arch?: string, machine?: string, virttype?: string): P<string>;
  nodeGetInfo(c: ConnHandle): P<RawNodeInfo>;
  nodeGetFreeMemory(c: ConnHandle): P<bigint>;
  nodeGetCPUStats(c: ConnHandle, cpuNum: number): P<Record<string, bigint>>;
  nodeGetMemoryStats(c: ConnHandle, cellNum: number): P<Record<string, bigint>>;
  nodeGetCellsFreeMemory(c: ConnHandle, startCell: number, maxCells: number): P<bigint[]>;
  connectSetKeepAlive(c: ConnHandle, intervalSeconds: number, count: number): P<boolean>;
  connectGetAllDomainStats(
    c: ConnHandle,
    stats: number,
    flags: number,
  ): P<Array<{ domain: RawDomain; params: TypedParams }>>;
  connectRegisterEvents(c: ConnHandle, callback: (event: RawEvent) => void): P<void>;
  connectSetEventsRef(c: ConnHandle, ref: boolean): void;
  /** Not a libvirt call: parses documents with libxml2 on the libuv pool, each to the JSON of its ordered tree. */
  xmlParseTrees(documents: readonly string[]): P<Array<string | Error>>;
  /** Not a libvirt call: validates documents against a RelaxNG schema file with libxml2 on the pool; null when valid, else "line N: why". */
  xmlValidateRelaxNG(schemaFile: string, documents: readonly string[]): P<Array<string | null>>;

  connectListAllDomains(c: ConnHandle, flags: number): P<RawDomain[]>;
  domainLookupByName(c: ConnHandle, name: string): P<RawDomain>;
  domainLookupByUUID(c: ConnHandle, uuid: string): P<RawDomain>;
  domainLookupByID(c: ConnHandle, id: number): P<RawDomain>;
  domainDefineXML(c: ConnHandle, xml: string, flags: number): P<RawDomain>;
  domainCreateXML(c: ConnHandle, xml: string, flags: number): P<RawDomain>;
  domainGetInfo(d: DomainHandle): P<RawDomainInfo>;
  domainGetState(d: DomainHandle): P<{ state: number; reason: number }>;
  domainGetID(d: DomainHandle): P<number>;
  domainGetXMLDesc(d: DomainHandle, flags: number): P<string>;
  domainGetInfoMany(d: DomainHandle[]): Slots<RawDomainInfo>;
  domainGetXMLDescMany(d: DomainHandle[], flags: number): Slots<string>;
  domainDefinitionsMany(d: DomainHandle[], known: number[], flags: number): Slots<DefinitionSlot>;
  domainGetOSType(d: DomainHandle): P<string>;
  domainIsActive(d: DomainHandle): P<boolean>;
  domainIsPersistent(d: DomainHandle): P<boolean>;
  domainGetAutostart(d: DomainHandle): P<boolean>;
  domainSetAutostart(d: DomainHandle, on: boolean): P<void>;
  domainCreate(d: DomainHandle, flags: number): P<void>;
  domainShutdown(d: DomainHandle, flags: number): P<void>;
  domainReboot(d: DomainHandle, flags: number): P<void>;
  domainDestroy(d: DomainHandle, flags: number): P<void>;
  domainUndefine(d: DomainHandle, flags: number): P<void>;
  domainSuspend(d: DomainHandle): P<void>;
  domainResume(d: DomainHandle): P<void>;
  domainAttachDevice(d: DomainHandle, xml: string, flags: number): P<void>;
  domainDetachDevice(d: DomainHandle, xml: string, flags: number): P<void>;
  domainUpdateDevice(d: DomainHandle, xml: string, flags: number): P<void>;
  domainSetMemory(d: DomainHandle, kib: bigint, flags: number): P<void>;
  domainSetMaxMemory(d: DomainHandle, kib: bigint, flags: number): P<void>;
  domainSetVcpus(d: DomainHandle, count: number, flags: number): P<void>;
  domainGetVcpus(d: DomainHandle, flags: number): P<number>;
  domainGetJobStats(d: DomainHandle, flags: number): P<{ type: number; fields: TypedParams }>;
  domainAbortJob(d: DomainHandle, flags: number): P<void>;
  domainMigrateStartPostCopy(d: DomainHandle, flags: number): P<void>;
  domainMigrateToURI(d: DomainHandle, dconnuri: string, params: MigrateParams, flags: number): P<void>;
  domainMigrate(d: DomainHandle, dest: ConnHandle, params: MigrateParams, flags: number): P<RawDomain>;
  domainManagedSave(d: DomainHandle, flags: number): P<void>;
  domainManagedSaveRemove(d: DomainHandle, flags: number): P<void>;
  domainHasManagedSaveImage(d: DomainHandle): P<boolean>;
  domainSave(d: DomainHandle, path: string, flags: number): P<void>;
  domainRestore(c: ConnHandle, path: string, flags: number): P<void>;
  domainSaveImageGetXMLDesc(c: ConnHandle, path: string, flags: number): P<string>;
  domainReset(d: DomainHandle, flags: number): P<void>;
  domainRename(d: DomainHandle, name: string, flags: number): P<void>;
  domainPMWakeup(d: DomainHandle, flags: number): P<void>;
  domainSendKey(d: DomainHandle, codeset: number, holdtimeMs: number, keycodes: number[], flags: number): P<void>;
  domainSetMetadata(
    d: DomainHandle,
    type: number,
    metadata: string | null,
    key: string | null,
    uri: string | null,
    flags: number,
  ): P<void>;
  domainInterfaceAddresses(d: DomainHandle, source: number): P<RawInterfaceAddresses[]>;
  domainGetGuestInfo(d: DomainHandle, types: number, timeoutSeconds: number, flags: number): P<TypedParams>;

  connectListAllNetworks(c: ConnHandle, flags: number): P<RawNetwork[]>;
  networkLookupByName(c: ConnHandle, name: string): P<RawNetwork>;
  networkLookupByUUID(c: ConnHandle, uuid: string): P<RawNetwork>;
  networkDefineXML(c: ConnHandle, xml: string, flags: number): P<RawNetwork>;
  networkCreateXML(c: ConnHandle, xml: string, flags: number): P<RawNetwork>;
  networkGetXMLDesc(n: NetworkHandle, flags: number): P<string>;
  networkGetBridgeName(n: NetworkHandle): P<string>;
  networkGetXMLDescMany(n: NetworkHandle[], flags: number): Slots<string>;
  networkIsActive(n: NetworkHandle): P<boolean>;
  networkIsPersistent(n: NetworkHandle): P<boolean>;
  networkGetAutostart(n: NetworkHandle): P<boolean>;
  networkSetAutostart(n: NetworkHandle, on: boolean): P<void>;
  networkCreate(n: NetworkHandle): P<void>;
  networkDestroy(n: NetworkHandle): P<void>;
  networkUndefine(n: NetworkHandle): P<void>;

  connectListAllInterfaces(c: ConnHandle, flags: number): P<RawInterface[]>;
  interfaceLookupByName(c: ConnHandle, name: string): P<RawInterface>;
  interfaceLookupByMAC(c: ConnHandle, mac: string): P<RawInterface>;
  interfaceDefineXML(c: ConnHandle, xml: string, flags: number): P<RawInterface>;
  interfaceGetXMLDesc(i: InterfaceHandle, flags: number): P<string>;
  interfaceIsActive(i: InterfaceHandle): P<boolean>;
  interfaceGetXMLDescMany(i: InterfaceHandle[], flags: number): Slots<string>;
  interfaceCreate(i: InterfaceHandle): P<void>;
  interfaceDestroy(i: InterfaceHandle): P<void>;
  interfaceUndefine(i: InterfaceHandle): P<void>;

  connectListAllStoragePools(c: ConnHandle, flags: number): P<RawPool[]>;
  storagePoolLookupByName(c: ConnHandle, name: string): P<RawPool>;
  storagePoolLookupByUUID(c: ConnHandle, uuid: string): P<RawPool>;
  storagePoolDefineXML(c: ConnHandle, xml: string, flags: number): P<RawPool>;
  storagePoolCreateXML(c: ConnHandle, xml: string, flags: number): P<RawPool>;
  storagePoolGetInfo(p: PoolHandle): P<RawPoolInfo>;
  storagePoolGetXMLDesc(p: PoolHandle, flags: number): P<string>;
  storagePoolIsActive(p: PoolHandle): P<boolean>;
  storagePoolGetInfoMany(p: PoolHandle[]): Slots<RawPoolInfo>;
  storagePoolGetXMLDescMany(p: PoolHandle[], flags: number): Slots<string>;
  storagePoolListAllVolumesMany(p: PoolHandle[]): Slots<RawVolume[]>;
  storagePoolIsPersistent(p: PoolHandle): P<boolean>;
  storagePoolGetAutostart(p: PoolHandle): P<boolean>;
  storagePoolSetAutostart(p: PoolHandle, on: boolean): P<void>;
  storagePoolCreate(p: PoolHandle, flags: number): P<void>;
  storagePoolBuild(p: PoolHandle, flags: number): P<void>;
  storagePoolRefresh(p: PoolHandle, flags: number): P<void>;
  storagePoolDelete(p: PoolHandle, flags: number): P<void>;
  storagePoolDestroy(p: PoolHandle): P<void>;
  storagePoolUndefine(p: PoolHandle): P<void>;
  storagePoolListAllVolumes(p: PoolHandle): P<RawVolume[]>;
  storageVolLookupByName(p: PoolHandle, name: string): P<RawVolume>;
  storageVolCreateXML(p: PoolHandle, xml: string, flags: number): P<RawVolume>;
  storageVolLookupByPath(c: ConnHandle, path: string): P<RawVolume>;
  storageVolLookupByKey(c: ConnHandle, key: string): P<RawVolume>;
  storageVolGetInfo(v: VolumeHandle): P<RawVolumeInfo>;
  /** virStorageVolGetInfoFlags(VIR_STORAGE_VOL_GET_PHYSICAL): the file's or device's size in bytes. */
  storageVolGetPhysical(v: VolumeHandle): P<bigint>;
  storageVolGetXMLDesc(v: VolumeHandle): P<string>;
  storageVolGetPath(v: VolumeHandle): P<string>;
  storageVolGetInfoMany(v: VolumeHandle[]): Slots<RawVolumeInfo>;
  storageVolGetXMLDescMany(v: VolumeHandle[]): Slots<string>;
  storageVolDelete(v: VolumeHandle, flags: number): P<void>;
  storageVolGetPool(v: VolumeHandle): P<RawPool>;
  storageVolCreateXMLFrom(p: PoolHandle, xml: string, from: VolumeHandle, flags: number): P<RawVolume>;
  storageVolResize(v: VolumeHandle, capacityBytes: bigint, flags: number): P<void>;
  storageVolWipe(v: VolumeHandle, algorithm: number, flags: number): P<void>;

  connectListAllNodeDevices(c: ConnHandle, flags: number): P<RawNodeDevice[]>;
  nodeDeviceLookupByName(c: ConnHandle, name: string): P<RawNodeDevice>;
  nodeDeviceGetXMLDesc(d: NodeDeviceHandle, flags: number): P<string>;
  nodeDeviceGetXMLDescMany(d: NodeDeviceHandle[], flags: number): Slots<string>;

  connectListAllSecrets(c: ConnHandle, flags: number): P<RawSecret[]>;
  secretLookupByUUID(c: ConnHandle, uuid: string): P<RawSecret>;
  secretLookupByUsage(c: ConnHandle, usageType: number, usageId: string): P<RawSecret>;
  secretDefineXML(c: ConnHandle, xml: string, flags: number): P<RawSecret>;
  secretGetXMLDesc(s: SecretHandle, flags: number): P<string>;
  secretGetXMLDescMany(s: SecretHandle[], flags: number): Slots<string>;
  /** The binding copies the bytes and wipes its copy after the call; there is no way to read a value back. */
  secretSetValue(s: SecretHandle, value: Buffer, flags: number): P<void>;
  secretUndefine(s: SecretHandle): P<void>;

  domainSnapshotCreateXML(d: DomainHandle, xml: string, flags: number): P<RawSnapshot>;
  domainListAllSnapshots(d: DomainHandle, flags: number): P<RawSnapshot[]>;
  domainSnapshotLookupByName(d: DomainHandle, name: string): P<RawSnapshot>;
  domainSnapshotCurrent(d: DomainHandle): P<RawSnapshot>;
  domainHasCurrentSnapshot(d: DomainHandle): P<boolean>;
  domainSnapshotDetailsMany(d: DomainHandle[], flags: number): Slots<RawSnapshotDetail[]>;
  domainSnapshotGetXMLDesc(s: SnapshotHandle, flags: number): P<string>;
  domainSnapshotGetParent(s: SnapshotHandle): P<RawSnapshot>;
  domainSnapshotIsCurrent(s: SnapshotHandle): P<boolean>;
  domainSnapshotListAllChildren(s: SnapshotHandle, flags: number): P<RawSnapshot[]>;
  domainRevertToSnapshot(s: SnapshotHandle, flags: number): P<void>;
  domainSnapshotDelete(s: SnapshotHandle, flags: number): P<void>;

  domainBlockResize(d: DomainHandle, disk: string, size: bigint, flags: number): P<void>;
  /** bandwidth in bytes/s; 0 for no limit. */
  domainBlockCopy(d: DomainHandle, disk: string, destXml: string, bandwidth: bigint, flags: number): P<void>;
  /** base and top: null (or empty) for libvirt's defaults (the whole chain below, the active layer). */
  domainBlockCommit(d: DomainHandle, disk: string, base: string | null, top: string | null, flags: number): P<void>;
  domainBlockPull(d: DomainHandle, disk: string, flags: number): P<void>;
  /** null when the disk has no block job. */
  domainGetBlockJobInfo(d: DomainHandle, disk: string, flags: number): P<RawBlockJobInfo | null>;
  domainBlockJobAbort(d: DomainHandle, disk: string, flags: number): P<void>;

  /** checkpointXml null for a backup that starts no checkpoint. */
  domainBackupBegin(d: DomainHandle, backupXml: string, checkpointXml: string | null, flags: number): P<void>;
  domainBackupGetXMLDesc(d: DomainHandle, flags: number): P<string>;
  domainCheckpointDetails(d: DomainHandle, flags: number): P<Array<{ name: string; xml: string }>>;
  domainCheckpointDelete(d: DomainHandle, name: string, flags: number): P<void>;

  domainOpenConsole(
    d: DomainHandle,
    device: string | null,
    flags: number,
    onEvent: (event: RawStreamEvent) => void,
    cap: number,
  ): P<StreamHandle>;
  domainOpenGraphicsFD(d: DomainHandle, idx: number, flags: number): P<number>;
  domainScreenshot(d: DomainHandle, screen: number): P<{ mime: string; data: Buffer }>;
  streamSend(s: StreamHandle, data: Buffer): P<number>;
  streamSetPaused(s: StreamHandle, paused: boolean): P<void>;
  streamInfo(s: StreamHandle): RawStreamInfo;
  streamClose(s: StreamHandle, abort: boolean): P<void>;

  storageVolUpload(v: VolumeHandle, offset: bigint, length: bigint, flags: number): P<TransferHandle>;
  /** `previous` (an ended download) hands its running SHA-256 on to the new one. */
  storageVolDownload(
    v: VolumeHandle,
    offset: bigint,
    length: bigint,
    flags: number,
    previous?: TransferHandle,
  ): P<TransferHandle>;
  /** Resolves with the trailing zero bytes held back (sparse), to pass as `heldZeros` next time. */
  transferSend(t: TransferHandle, data: Buffer, sparse: boolean, heldZeros: number): P<number>;
  transferSendHole(t: TransferHandle, length: bigint): P<void>;
  /** Bytes read into `into` (≥ 1, written in place: keep it until this settles), a hole's length, or null at the end. */
  transferRecv(t: TransferHandle, into: Buffer): P<number | bigint | null>;
  transferEnd(t: TransferHandle, abort: boolean): P<void>;
  /** SHA-256 (hex) of the bytes so far, holes as zeros; synchronous, no libvirt call. */
  transferSha256(t: TransferHandle): string;
}

// Long calls (migration, volume creation) hold a pool thread each; libuv reads this once,
// when its pool first starts, so it only helps if nothing queued work before this import.
process.env.UV_THREADPOOL_SIZE ??= '16';

const require = createRequire(import.meta.url);
const addon: Native = require('../../build/Release/virtql_native.node');

/** Calls made into the binding since the process started (tests and benchmarks count round trips). */
export const bindingCalls = { total: 0, byName: new Map<string, number>() };

/** Told of each binding call once it settles: the function's name, its duration, whether it failed. */
export type BindingCallObserver = (name: string, seconds: number, failed: boolean) => void;
const observers = new Set<BindingCallObserver>();

/** Times every binding call while at least one observer is registered (/metrics); returns the function that stops it. */
export function observeBindingCalls(observer: BindingCallObserver): () => void {
  observers.add(observer);
  return () => {
    observers.delete(observer);
  };
}

/**
 * Runs each binding call (already timed for the observers) inside a caller's frame, e.g. a
 * tracing span that needs both its start and its end. Unset, it costs one check per call.
 */
export type BindingCallWrapper = (name: string, call: () => unknown) => unknown;
let wrapper: BindingCallWrapper | undefined;

/** Sets the wrapper every binding call goes through, or removes it (undefined). */
export function wrapBindingCalls(next: BindingCallWrapper | undefined): void {
  wrapper = next;
}

function timed(name: string, call: () => unknown): unknown {
  const start = performance.now();
  const settle = (failed: boolean) => {
    const seconds = (performance.now() - start) / 1000;
    for (const observer of observers) observer(name, seconds, failed);
  };
  let result: unknown;
  try {
    result = call();
  } catch (e) {
    settle(true);
    throw e;
  }
  if (result instanceof Promise) {
    result.then(
      () => settle(false),
      () => settle(true),
    );
  } else settle(false);
  return result;
}

/** Functions of the binding that make no libvirt call, so count as no round trip. */
const LOCAL_FUNCTIONS = new Set(['xmlParseTrees', 'xmlValidateRelaxNG', 'transferSha256']);

export const native: Native = Object.fromEntries(
  Object.entries(addon).map(([name, value]) => [
    name,
    typeof value === 'function' && !LOCAL_FUNCTIONS.has(name)
      ? (...args: unknown[]) => {
          bindingCalls.total += 1;
          bindingCalls.byName.set(name, (bindingCalls.byName.get(name) ?? 0) + 1);
          const call = () => (value as (...a: unknown[]) => unknown)(...args);
          if (wrapper !== undefined) return wrapper(name, observers.size === 0 ? call : () => timed(name, call));
          return observers.size === 0 ? call() : timed(name, call);
        }
      : value,
  ]),
) as unknown as Native;
