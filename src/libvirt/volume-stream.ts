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

/** Math.min for bigints. */
function smaller(a: bigint, b: bigint): bigint {
  return a < b ? a : b;
}

/**
 * How much of a volume one download stream covers. libvirt's client queues whatever the daemon
 * sends on a stream without limit (virNetClientStreamQueuePacket), and the daemon sends as fast as
 * it reads: a consumer slower than the disk (a slow HTTP client) would see the whole volume pile up
 * in this process. Streams of one window each, opened one after the other, bound that queue to a window.
 */
export const DOWNLOAD_WINDOW = 32n * 1024n * 1024n;

/**
 * Data out of a volume (virStorageVolDownload with VIR_STORAGE_VOL_DOWNLOAD_SPARSE_STREAM), one
 * DOWNLOAD_WINDOW stream after another when the range's length is known: each read fills the
 * caller's buffer with up to its length in bytes, or gives the length of a hole libvirt skipped,
 * or null at the end.
 */
export class VolumeDownload {
  /** The buffer the binding is filling off Node's thread: referenced here so it lives until the job ends. */
  #inFlight: Buffer | undefined;
  #handle: TransferHandle;
  /** Where the next window starts, and the bytes of the range after the current window. */
  #next: bigint;
  #left: bigint;
  /** Bytes (holes included) the current window gave so far, and its length (0n: to the volume's end). */
  #got = 0n;
  #windowLength: bigint;

  private constructor(
    private readonly volume: VolumeHandle,
    private readonly window: bigint,
    handle: TransferHandle,
    next: bigint,
    left: bigint,
    windowLength: bigint,
  ) {
    this.#handle = handle;
    this.#next = next;
    this.#left = left;
    this.#windowLength = windowLength;
  }

  /** `window` 0n: one stream for the whole range. */
  static async open(volume: VolumeHandle, range: TransferRange, window = DOWNLOAD_WINDOW): Promise<VolumeDownload> {
    const first = range.length > 0n && window > 0n ? smaller(range.length, window) : range.length;
    const handle = await VolumeDownload.#stream(volume, range.offset, first);
    return new VolumeDownload(volume, window, handle, range.offset + first, range.length - first, first);
  }

  static #stream(volume: VolumeHandle, offset: bigint, length: bigint, previous?: TransferHandle) {
    const flags = StorageVolDownloadFlags.SPARSE_STREAM;
    return invoke(() => native.storageVolDownload(volume, offset, length, flags, previous));
  }

  /**
   * Reads into `into` (1 byte to 16 MiB); `data` is the filled part of `into`, not a copy. The
   * binding writes `into` off Node's thread: leave it alone until the promise settles. One read at a time.
   */
  async read(into: Buffer): Promise<DownloadPiece | null> {
    if (this.#inFlight) throw new Error('a volume download takes one read at a time');
    this.#inFlight = into;
    try {
      for (;;) {
        const got = await invoke(() => native.transferRecv(this.#handle, into));
        if (got !== null) {
          this.#got += typeof got === 'bigint' ? got : BigInt(got);
          return typeof got === 'bigint' ? { hole: got } : { data: into.subarray(0, got) };
        }
        // A window that ended short ends the range (the volume is shorter than it was).
        if (this.#left === 0n || this.#got < this.#windowLength) return null;
        await invoke(() => native.transferEnd(this.#handle, false));
        const length = smaller(this.#left, this.window);
        this.#handle = await VolumeDownload.#stream(this.volume, this.#next, length, this.#handle);
        this.#next += length;
        this.#left -= length;
        this.#got = 0n;
        this.#windowLength = length;
      }
    } finally {
      this.#inFlight = undefined;
    }
  }

  /** virStreamFinish, after the end was read. */
  finish(): Promise<void> {
    return invoke(() => native.transferEnd(this.#handle, false));
  }

  /** virStreamAbort. Idempotent, never rejects. */
  abort(): Promise<void> {
    return invoke(() => native.transferEnd(this.#handle, true)).catch(() => undefined);
  }

  /** SHA-256 (hex) of every byte read so far, holes as their zeros; hashed off Node's thread. */
  sha256(): string {
    if (this.#inFlight) throw new Error('the sha256 of a volume download is known between reads only');
    return native.transferSha256(this.#handle);
  }
}
