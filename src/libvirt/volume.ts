import type { Connection } from './connection.ts';
import {
  StorageVolDeleteFlags,
  StorageVolResizeFlags,
  type StorageVolTypeName,
  StorageVolWipeAlgorithm,
  storageVolTypeName,
} from './enums.ts';
import { invoke, invokeMany, type LibvirtError } from './errors.ts';
import { native, type RawVolume, type RawVolumeInfo, type VolumeHandle } from './native.ts';
import type { StoragePool } from './storage-pool.ts';
import { type TransferRange, VolumeDownload, VolumeUpload } from './volume-stream.ts';

export type WipeAlgorithm = keyof typeof StorageVolWipeAlgorithm;

export interface VolumeInfo {
  type: StorageVolTypeName | 'UNKNOWN';
  capacityBytes: bigint;
  allocationBytes: bigint;
}

function toVolumeInfo(i: RawVolumeInfo): VolumeInfo {
  return { type: storageVolTypeName(i.type), capacityBytes: i.capacityBytes, allocationBytes: i.allocationBytes };
}

/** A storage volume (virStorageVolPtr): identified by key, found by path or key. */
export class Volume {
  readonly name: string;
  readonly key: string;
  readonly path: string;
  readonly #handle: VolumeHandle;

  constructor(
    readonly connection: Connection,
    raw: RawVolume,
  ) {
    this.#handle = raw.handle;
    this.name = raw.name;
    this.key = raw.key;
    this.path = raw.path;
  }

  /** The binding's handle, for calls of another object that take this volume (virStorageVolCreateXMLFrom). */
  get handle(): VolumeHandle {
    return this.#handle;
  }

  async info(): Promise<VolumeInfo> {
    return toVolumeInfo(await invoke(() => native.storageVolGetInfo(this.#handle)));
  }

  /**
   * The size of what backs the volume (the file or the device): what a download reads, which is not
   * the capacity for a qcow2. Drivers without VIR_STORAGE_VOL_GET_PHYSICAL (the test driver) reject it.
   */
  physicalBytes(): Promise<bigint> {
    return invoke(() => native.storageVolGetPhysical(this.#handle));
  }

  /** info() of many volumes in one binding call; a volume that fails has its error in its slot. */
  static infoMany(volumes: readonly Volume[]): Promise<Array<VolumeInfo | LibvirtError>> {
    return invokeMany(() => native.storageVolGetInfoMany(volumes.map((v) => v.#handle)), toVolumeInfo);
  }

  xml(): Promise<string> {
    return invoke(() => native.storageVolGetXMLDesc(this.#handle));
  }

  /** xml() of many volumes in one binding call. */
  static xmlMany(volumes: readonly Volume[]): Promise<Array<string | LibvirtError>> {
    return invokeMany(() => native.storageVolGetXMLDescMany(volumes.map((v) => v.#handle)), String);
  }

  pool(): Promise<StoragePool> {
    return this.connection.storagePoolByVolume(this);
  }

  /** Removes the volume and its data; `zeroed` overwrites the data first. */
  delete(options: { zeroed?: boolean } = {}): Promise<void> {
    const flags = options.zeroed ? StorageVolDeleteFlags.ZEROED : StorageVolDeleteFlags.NORMAL;
    return invoke(() => native.storageVolDelete(this.#handle, flags));
  }

  /** virStorageVolResize: a new capacity in bytes; a smaller one only with `shrink`. */
  resize(capacityBytes: bigint, options: { shrink?: boolean; allocate?: boolean } = {}): Promise<void> {
    const flags =
      (options.shrink ? StorageVolResizeFlags.SHRINK : 0) | (options.allocate ? StorageVolResizeFlags.ALLOCATE : 0);
    return invoke(() => native.storageVolResize(this.#handle, capacityBytes, flags));
  }

  /** virStorageVolWipePattern: overwrites the volume's data (ZERO by default); the volume stays. */
  wipe(algorithm: WipeAlgorithm = 'ZERO'): Promise<void> {
    return invoke(() => native.storageVolWipe(this.#handle, StorageVolWipeAlgorithm[algorithm], 0));
  }

  /** virStorageVolUpload: writes data from `range.offset` on, as the returned upload is given it. */
  upload(range: TransferRange, options: { sparse: boolean }): Promise<VolumeUpload> {
    return VolumeUpload.open(this.#handle, range, options.sparse);
  }

  /** virStorageVolDownload (sparse): reads the range, holes as their length, one stream per `window` bytes. */
  download(range: TransferRange, window?: bigint): Promise<VolumeDownload> {
    return VolumeDownload.open(this.#handle, range, window);
  }
}
