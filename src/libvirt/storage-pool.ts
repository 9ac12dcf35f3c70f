import type { Connection } from './connection.ts';
import { StoragePoolBuildFlags, type StoragePoolStateName, StorageXMLFlags, storagePoolStateName } from './enums.ts';
import { invoke, invokeMany, type LibvirtError } from './errors.ts';
import { flagsOf } from './flags.ts';
import { native, type PoolHandle, type RawPool, type RawPoolInfo } from './native.ts';
import { Volume } from './volume.ts';

export interface StoragePoolInfo {
  state: StoragePoolStateName | 'UNKNOWN';
  capacityBytes: bigint;
  allocationBytes: bigint;
  availableBytes: bigint;
}

function toPoolInfo(i: RawPoolInfo): StoragePoolInfo {
  return {
    state: storagePoolStateName(i.state),
    capacityBytes: i.capacityBytes,
    allocationBytes: i.allocationBytes,
    availableBytes: i.availableBytes,
  };
}

export type PoolBuildFlag = keyof typeof StoragePoolBuildFlags;

/** A storage pool (virStoragePoolPtr). */
export class StoragePool {
  readonly name: string;
  readonly uuid: string;
  readonly #handle: PoolHandle;

  constructor(
    readonly connection: Connection,
    raw: RawPool,
  ) {
    this.#handle = raw.handle;
    this.name = raw.name;
    this.uuid = raw.uuid;
  }

  async info(): Promise<StoragePoolInfo> {
    return toPoolInfo(await invoke(() => native.storagePoolGetInfo(this.#handle)));
  }

  /** info() of many pools in one binding call; a pool that fails has its error in its slot. */
  static infoMany(pools: readonly StoragePool[]): Promise<Array<StoragePoolInfo | LibvirtError>> {
    return invokeMany(() => native.storagePoolGetInfoMany(pools.map((p) => p.#handle)), toPoolInfo);
  }

  /** xml() of many pools in one binding call. */
  static xmlMany(pools: readonly StoragePool[]): Promise<Array<string | LibvirtError>> {
    return invokeMany(
      () =>
        native.storagePoolGetXMLDescMany(
          pools.map((p) => p.#handle),
          0,
        ),
      String,
    );
  }

  /** volumes() of many pools of one connection in one binding call. */
  static volumesMany(pools: readonly StoragePool[]): Promise<Array<Volume[] | LibvirtError>> {
    const [first] = pools;
    if (!first) return Promise.resolve([]);
    return invokeMany(
      () => native.storagePoolListAllVolumesMany(pools.map((p) => p.#handle)),
      (raws) => raws.map((raw) => new Volume(first.connection, raw)),
    );
  }

  xml(options: { inactive?: boolean } = {}): Promise<string> {
    return invoke(() => native.storagePoolGetXMLDesc(this.#handle, options.inactive ? StorageXMLFlags.INACTIVE : 0));
  }

  isActive(): Promise<boolean> {
    return invoke(() => native.storagePoolIsActive(this.#handle));
  }

  isPersistent(): Promise<boolean> {
    return invoke(() => native.storagePoolIsPersistent(this.#handle));
  }

  autostart(): Promise<boolean> {
    return invoke(() => native.storagePoolGetAutostart(this.#handle));
  }

  setAutostart(on: boolean): Promise<void> {
    return invoke(() => native.storagePoolSetAutostart(this.#handle, on));
  }

  start(): Promise<void> {
    return invoke(() => native.storagePoolCreate(this.#handle, 0));
  }

  /** Prepares the pool's backing (creates the directory, formats the disk...). */
  build(flags: PoolBuildFlag[] = []): Promise<void> {
    return invoke(() => native.storagePoolBuild(this.#handle, flagsOf(StoragePoolBuildFlags, flags)));
  }

  refresh(): Promise<void> {
    return invoke(() => native.storagePoolRefresh(this.#handle, 0));
  }

  stop(): Promise<void> {
    return invoke(() => native.storagePoolDestroy(this.#handle));
  }

  /** Removes the pool's backing (the directory, ...): the inverse of build(). */
  deleteBacking(): Promise<void> {
    return invoke(() => native.storagePoolDelete(this.#handle, 0));
  }

  undefine(): Promise<void> {
    return invoke(() => native.storagePoolUndefine(this.#handle));
  }

  async volumes(): Promise<Volume[]> {
    const raws = await invoke(() => native.storagePoolListAllVolumes(this.#handle));
    return raws.map((raw) => new Volume(this.connection, raw));
  }

  async volumeByName(name: string): Promise<Volume> {
    return new Volume(this.connection, await invoke(() => native.storageVolLookupByName(this.#handle, name)));
  }

  async createVolume(xml: string): Promise<Volume> {
    return new Volume(this.connection, await invoke(() => native.storageVolCreateXML(this.#handle, xml, 0)));
  }

  /** virStorageVolCreateXMLFrom: a new volume in this pool holding a copy of `from` (of any pool of the host). */
  async cloneVolume(xml: string, from: Volume): Promise<Volume> {
    return new Volume(
      this.connection,
      await invoke(() => native.storageVolCreateXMLFrom(this.#handle, xml, from.handle, 0)),
    );
  }
}
