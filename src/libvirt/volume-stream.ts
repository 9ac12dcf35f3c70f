import { StorageVolDownloadFlags, StorageVolUploadFlags } from './enums.ts';
import { invoke } from './errors.ts';
import { native, type TransferHandle, type VolumeHandle } from './native.ts';

/** One piece of a download: bytes, or a hole of that many zero bytes libvirt did not send. */
export type DownloadPiece = { data: Buffer } | { hole: bigint };

export interface TransferRange {
  /** Where in the volume the transfer starts, in bytes. */
  offset: bigint;
  /** How many bytes at most; 0 for up to the volume's end. */
  length: bigint;
}

/**
 * Data into a volume (virStorageVolUpload), one buffer at a time: each write resolves once
 * libvirt took it, and the caller writes the next only then. With `sparse`, runs of zeros of
 * 64 KiB or more go as holes (VIR_STORAGE_VOL_UPLOAD_SPARSE_STREAM): the daemon seeks over them,
 * so what the volume held there stays — sparse suits a new or zeroed volume only.
 */
export class VolumeUpload {
  #heldZeros = 0n;
  /** The buffer the binding is reading off Node's thread: referenced here so it lives until the job ends. */
  #inFlight: Buffer | undefined;

  private constructor(
    readonly handle: TransferHandle,
    readonly sparse: boolean,
  ) {}

  static async open(volume: VolumeHandle, range: TransferRange, sparse: boolean): Promise<VolumeUpload> {
    const flags = sparse ? StorageVolUploadFlags.SPARSE_STREAM : 0;
    return new VolumeUpload(
      await invoke(() => native.storageVolUpload(volume, range.offset, range.length, flags)),
      sparse,
    );
  }

  /**
   * Sends `data` (zero runs held back may go later, as a hole or as zeros). The binding reads
   * `data` in place, off Node's thread: keep it unchanged until the promise settles. One write at a time.
   */
  async write(data: Buffer): Promise<void> {
    if (this.#inFlight) throw new Error('a volume upload takes one write at a time');
    const held = Number(this.#heldZeros);
    this.#inFlight = data;
    try {
      this.#heldZeros = BigInt(await invoke(() => native.transferSend(this.handle, data, this.sparse, held)));
    } finally {
      this.#inFlight = undefined;
    }
  }

  /**
   * Ends the upload (virStreamFinish). Zeros still held go as a hole when they reach the volume's
   * end (`atEnd`), where the daemon's truncate is right, and as zeros otherwise.
   */
  async finish(atEnd: boolean): Promise<void> {
    if (this.#heldZeros > 0n) {
      const held = this.#heldZeros;
      this.#heldZeros = 0n;
      if (atEnd) await invoke(() => native.transferSendHole(this.handle, held));
      else await invoke(() => native.transferSend(this.handle, Buffer.alloc(0), false, Number(held)));
    }
    await invoke(() => native.transferEnd(this.handle, false));
  }

  /** virStreamAbort: the daemon drops the transfer. Idempotent, never rejects. */
  abort(): Promise<void> {
    return invoke(() => native.transferEnd(this.handle, true)).catch(() => undefined);
  }

  /** SHA-256 (hex) of every byte written so far, zeros held back included; hashed off Node's thread. */
  sha256(): string {
    if (this.#inFlight) throw new Error('the sha256 of a volume upload is known between writes only');
    return native.transferSha256(this.handle);
  }
}

/**
 * Data out of a volume (virStorageVolDownload with VIR_STORAGE_VOL_DOWNLOAD_SPARSE_STREAM): each
 * read resolves with up to `max` bytes, or the length of a hole libvirt skipped, or null at the end.
 */
export class VolumeDownload {
  #reading = false;

  private constructor(readonly handle: TransferHandle) {}

  static async open(volume: VolumeHandle, range: TransferRange): Promise<VolumeDownload> {
    const flags = StorageVolDownloadFlags.SPARSE_STREAM;
    return new VolumeDownload(await invoke(() => native.storageVolDownload(volume, range.offset, range.length, flags)));
  }

  async read(max: number): Promise<DownloadPiece | null> {
    if (this.#reading) throw new Error('a volume download takes one read at a time');
    this.#reading = true;
    let piece: Awaited<ReturnType<typeof native.transferRecv>>;
    try {
      piece = await invoke(() => native.transferRecv(this.handle, max));
    } finally {
      this.#reading = false;
    }
    if (piece === null) return null;
    return typeof piece === 'bigint' ? { hole: piece } : piece;
  }

  /** virStreamFinish, after the end was read. */
  finish(): Promise<void> {
    return invoke(() => native.transferEnd(this.handle, false));
  }

  /** virStreamAbort. Idempotent, never rejects. */
  abort(): Promise<void> {
    return invoke(() => native.transferEnd(this.handle, true)).catch(() => undefined);
  }

  /** SHA-256 (hex) of every byte read so far, holes as their zeros; hashed off Node's thread. */
  sha256(): string {
    if (this.#reading) throw new Error('the sha256 of a volume download is known between reads only');
    return native.transferSha256(this.handle);
  }
}
