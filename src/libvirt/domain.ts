import type { Connection } from './connection.ts';
import {
  DomainBackupBeginFlags,
  DomainBlockCommitFlags,
  DomainBlockCopyFlags,
  DomainBlockJobAbortFlags,
  type DomainBlockJobTypeName,
  DomainBlockResizeFlags,
  DomainCreateFlags,
  DomainDestroyFlagsValues,
  DomainGetJobStatsFlags,
  DomainGuestInfoTypes,
  DomainInterfaceAddressesSource,
  type DomainJobTypeName,
  DomainMetadataType,
  DomainMigrateFlags,
  DomainRebootFlagValues,
  DomainSaveRestoreFlags,
  DomainShutdownFlagValues,
  DomainSnapshotCreateFlags,
  type DomainStateName,
  DomainUndefineFlagsValues,
  DomainVcpuFlags,
  DomainXMLFlags,
  domainBlockJobTypeName,
  domainJobTypeName,
  domainStateName,
  domainStateReasonName,
  type IPAddrTypeName,
  ipAddrTypeName,
  KeycodeSet,
  VIR_MIGRATE_PARAM_BANDWIDTH,
  VIR_MIGRATE_PARAM_BANDWIDTH_POSTCOPY,
  VIR_MIGRATE_PARAM_DEST_NAME,
  VIR_MIGRATE_PARAM_DEST_XML,
  VIR_MIGRATE_PARAM_PERSIST_XML,
  VIR_MIGRATE_PARAM_URI,
} from './enums.ts';
import { invoke, invokeMany, type LibvirtError } from './errors.ts';
import { flagsOf, type Scope, scopeFlags } from './flags.ts';
import {
  type DefinitionSlot,
  type DomainHandle,
  type MigrateParams,
  native,
  type RawDomain,
  type RawDomainInfo,
  type TypedParams,
} from './native.ts';
import { DomainSnapshot, type SnapshotDetail } from './snapshot.ts';

export type SaveRestoreFlag = 'BYPASS_CACHE' | 'RUNNING' | 'PAUSED';
export type AddressSource = keyof typeof DomainInterfaceAddressesSource;
export type GuestInfoType = keyof typeof DomainGuestInfoTypes;
export type KeycodeSetName = keyof typeof KeycodeSet;

/** A guest interface and its addresses (virDomainInterfaceAddresses). */
export interface GuestInterfaceAddresses {
  name: string;
  /** The MAC address; empty when the source does not report it. */
  mac: string;
  addresses: Array<{ type: IPAddrTypeName | 'UNKNOWN'; address: string; prefix: number }>;
}

export type BlockCopyFlag = keyof typeof DomainBlockCopyFlags;
export type BlockCommitFlag = keyof typeof DomainBlockCommitFlags;

/** A disk's running block job (virDomainGetBlockJobInfo): progress as cur of end. */
export interface BlockJobInfo {
  type: DomainBlockJobTypeName;
  curBytes: bigint;
  endBytes: bigint;
}

export type SnapshotCreateFlag = 'DISK_ONLY' | 'QUIESCE' | 'ATOMIC' | 'LIVE' | 'HALT' | 'VALIDATE';

export interface DomainInfo {
  state: DomainStateName | 'UNKNOWN';
  maxMemoryKiB: bigint;
  memoryKiB: bigint;
  vcpus: number;
  cpuTimeNs: bigint;
}

export interface DomainStateWithReason {
  state: DomainStateName | 'UNKNOWN';
  /** The reason name for that state, e.g. BOOTED, USER, DESTROYED. */
  reason: string;
}

export interface DomainJobStats {
  type: DomainJobTypeName | 'UNKNOWN';
  /** libvirt's job fields (VIR_DOMAIN_JOB_*), e.g. data_processed, data_remaining, downtime. */
  fields: TypedParams;
}

export type MigrateFlag = keyof typeof DomainMigrateFlags;

export interface MigrateOptions {
  flags?: MigrateFlag[];
  /** Where QEMU sends the migration stream, e.g. tcp://127.0.0.1 (VIR_MIGRATE_PARAM_URI). */
  migrateUri?: string;
  /** A new name for the domain on the destination. */
  destinationName?: string;
  /** Bandwidth limit in MiB/s. */
  bandwidthMiBs?: bigint;
  /** Bandwidth limit in MiB/s once switched to post-copy (VIR_MIGRATE_PARAM_BANDWIDTH_POSTCOPY). */
  postcopyBandwidthMiBs?: bigint;
  destinationXml?: string;
  persistentXml?: string;
}

export interface XmlOptions {
  /** The persistent definition instead of the live one. */
  inactive?: boolean;
  secure?: boolean;
  migratable?: boolean;
}

function xmlFlags(o: XmlOptions): number {
  return (
    (o.inactive ? DomainXMLFlags.INACTIVE : 0) |
    (o.secure ? DomainXMLFlags.SECURE : 0) |
    (o.migratable ? DomainXMLFlags.MIGRATABLE : 0)
  );
}

function toDomainInfo(i: RawDomainInfo): DomainInfo {
  const state = domainStateName(i.state);
  return {
    state,
    maxMemoryKiB: i.maxMemKiB,
    memoryKiB: i.memoryKiB,
    vcpus: i.vcpus,
    // libvirt 9.0's QEMU driver reports libvirtd's own CPU time for a domain that is not running.
    cpuTimeNs: state === 'SHUTOFF' ? 0n : i.cpuTimeNs,
  };
}

function migrateParams(o: MigrateOptions): MigrateParams {
  return {
    [VIR_MIGRATE_PARAM_URI]: o.migrateUri,
    [VIR_MIGRATE_PARAM_DEST_NAME]: o.destinationName,
    [VIR_MIGRATE_PARAM_BANDWIDTH]: o.bandwidthMiBs,
    [VIR_MIGRATE_PARAM_BANDWIDTH_POSTCOPY]: o.postcopyBandwidthMiBs,
    [VIR_MIGRATE_PARAM_DEST_XML]: o.destinationXml,
    [VIR_MIGRATE_PARAM_PERSIST_XML]: o.persistentXml,
  };
}

/** A libvirt domain (virDomainPtr). Identity is read once; everything else is a call. */
export class Domain {
  readonly name: string;
  readonly uuid: string;
  /** The runtime id when this handle was obtained; -1 when inactive. See currentId(). */
  readonly id: number;
  readonly #handle: DomainHandle;

  constructor(
    readonly connection: Connection,
    raw: RawDomain,
  ) {
    this.#handle = raw.handle;
    this.name = raw.name;
    this.uuid = raw.uuid;
    this.id = raw.id;
  }

  async info(): Promise<DomainInfo> {
    return toDomainInfo(await invoke(() => native.domainGetInfo(this.#handle)));
  }

  /** info() of many domains in one binding call; a domain that fails has its error in its slot. */
  static infoMany(domains: readonly Domain[]): Promise<Array<DomainInfo | LibvirtError>> {
    return invokeMany(() => native.domainGetInfoMany(domains.map((d) => d.#handle)), toDomainInfo);
  }

  /** xml() of many domains in one binding call. */
  static xmlMany(domains: readonly Domain[], options: XmlOptions = {}): Promise<Array<string | LibvirtError>> {
    return invokeMany(
      () =>
        native.domainGetXMLDescMany(
          domains.map((d) => d.#handle),
          xmlFlags(options),
        ),
      String,
    );
  }

  /**
   * The documents of many domains through the connection's definition cache: `known` holds, per
   * domain, the generation of the document the caller has parsed (0 for none). See DefinitionSlot.
   */
  static definitionsMany(
    domains: readonly Domain[],
    known: number[],
    options: XmlOptions = {},
  ): Promise<Array<DefinitionSlot | LibvirtError>> {
    return invokeMany(
      () =>
        native.domainDefinitionsMany(
          domains.map((d) => d.#handle),
          known,
          xmlFlags(options),
        ),
      (slot) => slot,
    );
  }

  async state(): Promise<DomainStateWithReason> {
    const s = await invoke(() => native.domainGetState(this.#handle));
    return { state: domainStateName(s.state), reason: domainStateReasonName(s.state, s.reason) };
  }

  currentId(): Promise<number> {
    return invoke(() => native.domainGetID(this.#handle));
  }

  /** virDomainGetXMLDesc: the live definition, or the persistent one with `inactive`. */
  xml(options: XmlOptions = {}): Promise<string> {
    return invoke(() => native.domainGetXMLDesc(this.#handle, xmlFlags(options)));
  }

  osType(): Promise<string> {
    return invoke(() => native.domainGetOSType(this.#handle));
  }

  isActive(): Promise<boolean> {
    return invoke(() => native.domainIsActive(this.#handle));
  }

  isPersistent(): Promise<boolean> {
    return invoke(() => native.domainIsPersistent(this.#handle));
  }

  autostart(): Promise<boolean> {
    return invoke(() => native.domainGetAutostart(this.#handle));
  }

  setAutostart(on: boolean): Promise<void> {
    return invoke(() => native.domainSetAutostart(this.#handle, on));
  }

  /** virDomainCreateWithFlags: starts a defined domain (from its managed save image, if any, unless `forceBoot`). */
  start(options: { paused?: boolean; forceBoot?: boolean } = {}): Promise<void> {
    const flags =
      (options.paused ? DomainCreateFlags.START_PAUSED : 0) |
      (options.forceBoot ? DomainCreateFlags.START_FORCE_BOOT : 0);
    return invoke(() => native.domainCreate(this.#handle, flags));
  }

  /** Asks the guest to shut down (ACPI by default); the guest may ignore it. */
  shutdown(method: (keyof typeof DomainShutdownFlagValues)[] = []): Promise<void> {
    return invoke(() => native.domainShutdown(this.#handle, flagsOf(DomainShutdownFlagValues, method)));
  }

  reboot(method: (keyof typeof DomainRebootFlagValues)[] = []): Promise<void> {
    return invoke(() => native.domainReboot(this.#handle, flagsOf(DomainRebootFlagValues, method)));
  }

  /** Stops the domain at once; `graceful` gives the guest a SIGTERM-style chance first. */
  destroy(options: { graceful?: boolean } = {}): Promise<void> {
    const flags = options.graceful ? DomainDestroyFlagsValues.GRACEFUL : 0;
    return invoke(() => native.domainDestroy(this.#handle, flags));
  }

  undefine(flags: (keyof typeof DomainUndefineFlagsValues)[] = []): Promise<void> {
    return invoke(() => native.domainUndefine(this.#handle, flagsOf(DomainUndefineFlagsValues, flags)));
  }

  suspend(): Promise<void> {
    return invoke(() => native.domainSuspend(this.#handle));
  }

  resume(): Promise<void> {
    return invoke(() => native.domainResume(this.#handle));
  }

  attachDevice(xml: string, scope?: Scope): Promise<void> {
    return invoke(() => native.domainAttachDevice(this.#handle, xml, scopeFlags(scope)));
  }

  detachDevice(xml: string, scope?: Scope): Promise<void> {
    return invoke(() => native.domainDetachDevice(this.#handle, xml, scopeFlags(scope)));
  }

  updateDevice(xml: string, scope?: Scope): Promise<void> {
    return invoke(() => native.domainUpdateDevice(this.#handle, xml, scopeFlags(scope)));
  }

  /** The balloon target (or configured current memory) in KiB. */
  setMemory(kib: bigint, scope?: Scope): Promise<void> {
    return invoke(() => native.domainSetMemory(this.#handle, kib, scopeFlags(scope)));
  }

  setMaxMemory(kib: bigint, scope?: Scope): Promise<void> {
    return invoke(() => native.domainSetMaxMemory(this.#handle, kib, scopeFlags(scope)));
  }

  setVcpus(count: number, scope?: Scope): Promise<void> {
    return invoke(() => native.domainSetVcpus(this.#handle, count, scopeFlags(scope)));
  }

  /** Current vCPU count in the scope, or the maximum with `maximum`. */
  vcpus(scope?: Scope, options: { maximum?: boolean } = {}): Promise<number> {
    const flags = scopeFlags(scope) | (options.maximum ? DomainVcpuFlags.MAXIMUM : 0);
    return invoke(() => native.domainGetVcpus(this.#handle, flags));
  }

  /** The running job's statistics, or with `completed` those of the job that ended last. */
  async jobStats(options: { completed?: boolean } = {}): Promise<DomainJobStats> {
    const flags = options.completed ? DomainGetJobStatsFlags.COMPLETED : 0;
    const s = await invoke(() => native.domainGetJobStats(this.#handle, flags));
    return { type: domainJobTypeName(s.type), fields: s.fields };
  }

  abortJob(): Promise<void> {
    return invoke(() => native.domainAbortJob(this.#handle, 0));
  }

  /** virDomainMigrateStartPostCopy: an outgoing migration started with POSTCOPY switches to post-copy. */
  startPostCopy(): Promise<void> {
    return invoke(() => native.domainMigrateStartPostCopy(this.#handle, 0));
  }

  /** virDomainBlockResize in bytes: the guest sees the new size at once. */
  blockResize(disk: string, bytes: bigint): Promise<void> {
    return invoke(() => native.domainBlockResize(this.#handle, disk, bytes, DomainBlockResizeFlags.BYTES));
  }

  /** virDomainBlockCopy: mirrors the disk into the image `destinationXml` describes, until pivot or abort. */
  blockCopy(
    disk: string,
    destinationXml: string,
    options: { flags?: readonly BlockCopyFlag[]; bandwidthBytesPerSecond?: bigint } = {},
  ): Promise<void> {
    const flags = flagsOf(DomainBlockCopyFlags, options.flags);
    const bandwidth = options.bandwidthBytesPerSecond ?? 0n;
    return invoke(() => native.domainBlockCopy(this.#handle, disk, destinationXml, bandwidth, flags));
  }

  /** virDomainBlockCommit: merges `top` (the active layer when null) down into `base` (the chain's bottom when null). */
  blockCommit(
    disk: string,
    options: { base?: string | null; top?: string | null; flags?: readonly BlockCommitFlag[] } = {},
  ): Promise<void> {
    const flags = flagsOf(DomainBlockCommitFlags, options.flags);
    return invoke(() => native.domainBlockCommit(this.#handle, disk, options.base ?? null, options.top ?? null, flags));
  }

  /** virDomainBlockPull: copies the backing chain into the active layer, which then stands alone. */
  blockPull(disk: string): Promise<void> {
    return invoke(() => native.domainBlockPull(this.#handle, disk, 0));
  }

  /** The disk's block job, or null when it has none. */
  async blockJob(disk: string): Promise<BlockJobInfo | null> {
    const raw = await invoke(() => native.domainGetBlockJobInfo(this.#handle, disk, 0));
    return raw === null ? null : { type: domainBlockJobTypeName(raw.type), curBytes: raw.cur, endBytes: raw.end };
  }

  /** virDomainBlockJobAbort: ends the disk's job; with pivot, a ready copy or active commit switches over to its result. */
  blockJobAbort(disk: string, options: { pivot?: boolean } = {}): Promise<void> {
    const flags = options.pivot ? DomainBlockJobAbortFlags.PIVOT : 0;
    return invoke(() => native.domainBlockJobAbort(this.#handle, disk, flags));
  }

  /**
   * virDomainBackupBegin in push mode: libvirt copies the disks into the targets the backup document
   * names (existing images with `reuseExternal`), optionally starting the checkpoint `checkpointXml`.
   */
  backupBegin(
    backupXml: string,
    checkpointXml: string | null,
    options: { reuseExternal?: boolean } = {},
  ): Promise<void> {
    const flags = options.reuseExternal ? DomainBackupBeginFlags.REUSE_EXTERNAL : 0;
    return invoke(() => native.domainBackupBegin(this.#handle, backupXml, checkpointXml, flags));
  }

  /** The domain's checkpoints (virDomainListAllCheckpoints) with their XML. */
  checkpoints(): Promise<Array<{ name: string; xml: string }>> {
    return invoke(() => native.domainCheckpointDetails(this.#handle, 0));
  }

  /** virDomainCheckpointDelete of the named checkpoint (its bitmaps go; its children hang from its parent). */
  deleteCheckpoint(name: string): Promise<void> {
    return invoke(() => native.domainCheckpointDelete(this.#handle, name, 0));
  }

  /** virDomainMigrateToURI3: the source daemon connects to `destinationUri` itself (peer-to-peer). */
  migrateToUri(destinationUri: string, options: MigrateOptions = {}): Promise<void> {
    const flags = flagsOf(DomainMigrateFlags, options.flags);
    return invoke(() => native.domainMigrateToURI(this.#handle, destinationUri, migrateParams(options), flags));
  }

  /** virDomainMigrate3: this process drives both connections; returns the domain on the destination. */
  async migrate(destination: Connection, options: MigrateOptions = {}): Promise<Domain> {
    const flags = flagsOf(DomainMigrateFlags, options.flags);
    const raw = await invoke(() =>
      native.domainMigrate(this.#handle, destination.handle, migrateParams(options), flags),
    );
    return new Domain(destination, raw);
  }

  /** virDomainManagedSave: saves the running domain to libvirt's own file and stops it; the next start resumes it. */
  managedSave(flags: readonly SaveRestoreFlag[] = []): Promise<void> {
    return invoke(() => native.domainManagedSave(this.#handle, flagsOf(DomainSaveRestoreFlags, flags)));
  }

  /** virDomainManagedSaveRemove: drops the managed save image; the next start boots afresh. */
  removeManagedSave(): Promise<void> {
    return invoke(() => native.domainManagedSaveRemove(this.#handle, 0));
  }

  hasManagedSave(): Promise<boolean> {
    return invoke(() => native.domainHasManagedSaveImage(this.#handle));
  }

  /** virDomainSaveFlags: writes the domain's memory and device state to `path` and stops it. */
  save(path: string, flags: readonly SaveRestoreFlag[] = []): Promise<void> {
    return invoke(() => native.domainSave(this.#handle, path, flagsOf(DomainSaveRestoreFlags, flags)));
  }

  /** virDomainReset: a hardware reset, without the guest's cooperation. */
  reset(): Promise<void> {
    return invoke(() => native.domainReset(this.#handle, 0));
  }

  /** virDomainRename: a new name for an inactive domain (the UUID stays). */
  rename(name: string): Promise<void> {
    return invoke(() => native.domainRename(this.#handle, name, 0));
  }

  /** virDomainPMWakeup: wakes a guest suspended to RAM (PMSUSPENDED). */
  pmWakeup(): Promise<void> {
    return invoke(() => native.domainPMWakeup(this.#handle, 0));
  }

  /** virDomainSendKey: presses the keys together for `holdtimeMs`, then releases them. */
  sendKey(codeset: KeycodeSetName, keycodes: readonly number[], holdtimeMs = 0): Promise<void> {
    return invoke(() => native.domainSendKey(this.#handle, KeycodeSet[codeset], holdtimeMs, [...keycodes], 0));
  }

  /** virDomainSetMetadata for the description or title; null removes it. */
  setMetadata(type: 'DESCRIPTION' | 'TITLE', text: string | null, scope?: Scope): Promise<void> {
    return invoke(() =>
      native.domainSetMetadata(this.#handle, DomainMetadataType[type], text, null, null, scopeFlags(scope)),
    );
  }

  /** virDomainInterfaceAddresses: the guest's interfaces with their IP addresses, from `source`. */
  async interfaceAddresses(source: AddressSource): Promise<GuestInterfaceAddresses[]> {
    const raws = await invoke(() =>
      native.domainInterfaceAddresses(this.#handle, DomainInterfaceAddressesSource[source]),
    );
    return raws.map((r) => ({
      name: r.name,
      mac: r.hwaddr,
      addresses: r.addrs.map((a) => ({ type: ipAddrTypeName(a.type), address: a.addr, prefix: a.prefix })),
    }));
  }

  /**
   * virDomainGetGuestInfo: what the guest agent reports (hostname, OS, timezone, users,
   * filesystems…), as libvirt's flat typed parameters. The agent gets `timeoutSeconds` to answer.
   */
  guestInfo(types: readonly GuestInfoType[], timeoutSeconds: number): Promise<TypedParams> {
    return invoke(() =>
      native.domainGetGuestInfo(this.#handle, flagsOf(DomainGuestInfoTypes, types), timeoutSeconds, 0),
    );
  }

  /** virDomainSnapshotCreateXML: a snapshot from a snapshot document (formatsnapshot.html). */
  async createSnapshot(xml: string, flags: readonly SnapshotCreateFlag[] = []): Promise<DomainSnapshot> {
    const raw = await invoke(() =>
      native.domainSnapshotCreateXML(this.#handle, xml, flagsOf(DomainSnapshotCreateFlags, flags)),
    );
    return new DomainSnapshot(this, raw);
  }

  /** virDomainListAllSnapshots: every snapshot of the domain. */
  async snapshots(): Promise<DomainSnapshot[]> {
    const raws = await invoke(() => native.domainListAllSnapshots(this.#handle, 0));
    return raws.map((raw) => new DomainSnapshot(this, raw));
  }

  /** virDomainSnapshotLookupByName: fails with NO_DOMAIN_SNAPSHOT when there is none. */
  async snapshotByName(name: string): Promise<DomainSnapshot> {
    return new DomainSnapshot(this, await invoke(() => native.domainSnapshotLookupByName(this.#handle, name)));
  }

  /** virDomainSnapshotCurrent: fails with NO_DOMAIN_SNAPSHOT when no snapshot is current. */
  async currentSnapshot(): Promise<DomainSnapshot> {
    return new DomainSnapshot(this, await invoke(() => native.domainSnapshotCurrent(this.#handle)));
  }

  hasCurrentSnapshot(): Promise<boolean> {
    return invoke(() => native.domainHasCurrentSnapshot(this.#handle));
  }

  /**
   * Every snapshot of many domains with its XML and whether it is current, in one binding call.
   * libvirt has no bulk snapshot call: that is one list call per domain and one XML read per snapshot.
   */
  static snapshotDetailsMany(domains: readonly Domain[]): Promise<Array<SnapshotDetail[] | LibvirtError>> {
    return invokeMany(
      () =>
        native.domainSnapshotDetailsMany(
          domains.map((d) => d.#handle),
          0,
        ),
      (details) => details,
    );
  }
}
