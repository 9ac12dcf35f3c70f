import type { Readable, Writable } from 'node:stream';
import { GraphQLError } from 'graphql';
import type { Volume } from '../libvirt/index.ts';

/** What goes to libvirt in one job, and comes back from it in one read. */
export const CHUNK = 1024 * 1024;

/** Holes leave as zeros over HTTP: this one buffer, never written to, is what every hole sends. */
const ZEROS = Buffer.alloc(CHUNK);

export interface Pumped {
  bytes: bigint;
  sha256: string;
  offset: bigint;
}

/** A transfer that ended early: INTERRUPTED, with the bytes that went through (where a resume starts). */
export function interrupted(message: string, offset: bigint, bytes: bigint): GraphQLError {
  return new GraphQLError(message, {
    extensions: { code: 'INTERRUPTED', bytesWritten: String(bytes), resumeOffset: String(offset + bytes) },
  });
}

export interface UploadInput {
  volume: Volume;
  grant: { offset: bigint; length: bigint; capacity: bigint; sparse: boolean };
  body: Readable;
  signal: AbortSignal;
  onProgress(bytes: bigint): void;
  /** The sha256 (hex) the bytes must have: else the upload is aborted, not finished. */
  expectSha256?: string;
}

/**
 * The body into virStorageVolUpload, CHUNK by CHUNK, double-buffered: one chunk fills from the
 * body while libvirt takes the other, and the body is read no further while both are full (async
 * iteration pauses the socket), so memory holds two chunks whatever the size. A cut body commits
 * what arrived (virStreamFinish, so the count the error gives is what the volume holds and a
 * resume from it is sound); a cancel or a libvirt failure aborts (virStreamAbort).
 */
export async function pumpUpload({
  volume,
  grant,
  body,
  signal,
  onProgress,
  expectSha256,
}: UploadInput): Promise<Pumped> {
  const up = await volume.upload({ offset: grant.offset, length: grant.length }, { sparse: grant.sparse });
  const buffers = [Buffer.allocUnsafe(CHUNK), Buffer.allocUnsafe(CHUNK)];
  let filling = 0;
  let fill = 0;
  let received = 0n;
  let committed = 0n;
  /** The write of the other buffer, while libvirt takes it. */
  let inFlight: Promise<void> | undefined;
  const settle = async () => {
    const pending = inFlight;
    inFlight = undefined;
    await pending;
  };
  /** Hands the filled buffer to libvirt (after the previous one went) and goes on with the other. */
  const launch = async () => {
    await settle();
    if (fill === 0) return;
    const n = fill;
    const write = up.write((buffers[filling] as Buffer).subarray(0, n)).then(() => {
      committed += BigInt(n);
      onProgress(committed);
    });
    write.catch(() => undefined); // observed by the next settle
    inFlight = write;
    filling ^= 1;
    fill = 0;
  };
  const flush = async () => {
    await launch();
    await settle();
  };
  const cancel = () => body.destroy(new Error('cancelled'));
  signal.addEventListener('abort', cancel, { once: true });
  let libvirtFailed = false;
  try {
    for await (const chunk of body as AsyncIterable<Buffer>) {
      received += BigInt(chunk.length);
      if (received > grant.length) {
        throw new GraphQLError(`the body is larger than the transfer's ${grant.length} bytes`, {
          extensions: { code: 'INVALID_INPUT' },
        });
      }
      for (let at = 0; at < chunk.length; ) {
        const staging = buffers[filling] as Buffer;
        const n = Math.min(CHUNK - fill, chunk.length - at);
        chunk.copy(staging, fill, at, at + n);
        fill += n;
        at += n;
        if (fill === CHUNK) {
          libvirtFailed = true;
          await launch();
          libvirtFailed = false;
        }
      }
    }
    libvirtFailed = true;
    await flush();
    const sha256 = up.sha256();
    if (expectSha256 !== undefined && sha256 !== expectSha256.toLowerCase()) {
      throw new GraphQLError(`sha256 mismatch: the ${received} bytes have ${sha256}, not ${expectSha256}`, {
        extensions: { code: 'INVALID_INPUT', field: 'sha256' },
      });
    }
    await up.finish(grant.offset + received === grant.capacity);
    return { bytes: received, sha256, offset: grant.offset };
  } catch (e) {
    if (libvirtFailed || signal.aborted || e instanceof GraphQLError) {
      await settle().catch(() => undefined);
      await up.abort();
      if (signal.aborted) throw interrupted(`cancelled after ${committed} bytes`, grant.offset, committed);
      throw e;
    }
    // The client went away: keep what it sent.
    try {
      await flush();
      await up.finish(false);
    } catch {
      await settle().catch(() => undefined);
      await up.abort();
      throw interrupted(`the connection was cut and libvirt failed on the way out`, grant.offset, 0n);
    }
    throw interrupted(
      `the connection was cut after ${committed} bytes written: resume with offset ${grant.offset + committed}`,
      grant.offset,
      committed,
    );
  } finally {
    signal.removeEventListener('abort', cancel);
  }
}

export interface DownloadInput {
  volume: Volume;
  window: { offset: bigint; length: bigint };
  res: Writable;
  signal: AbortSignal;
  onProgress(bytes: bigint): void;
  /** Once libvirt opened the stream: where the response's head is written (a failure to open is still an error response). */
  onOpen(): void;
}

/** The response closed before the end. */
class Closed extends Error {}

/** Resolves when `out` can take more, rejects when it closed first. */
function drained(out: Writable): Promise<void> {
  return new Promise((resolve, reject) => {
    const done = (e?: Error) => {
      out.off('drain', ok);
      out.off('close', closed);
      out.off('error', closed);
      if (e) reject(e);
      else resolve();
    };
    const ok = () => done();
    const closed = () => done(new Closed('closed'));
    out.on('drain', ok);
    out.on('close', closed);
    out.on('error', closed);
  });
}

/** Buffers a download reads into: one filling on the lane while the others are on their way out. */
const DOWNLOAD_BUFFERS = 3;

/**
 * virStorageVolDownload into the response: the next read from libvirt runs while the last ones
 * are written, into a small ring of buffers reused once the socket took them, and none starts
 * while the response does not drain: memory stays a few chunks, and nothing is allocated per read.
 * Holes go out as zeros (HTTP has no holes) without libvirt sending them. A response closed early
 * aborts the stream (virStreamAbort).
 */
export async function pumpDownload({
  volume,
  window,
  res,
  signal,
  onProgress,
  onOpen,
}: DownloadInput): Promise<Pumped> {
  const down = await volume.download(window);
  onOpen();
  const free: Buffer[] = Array.from({ length: DOWNLOAD_BUFFERS }, () => Buffer.allocUnsafe(CHUNK));
  let closed = false;
  let wakeFree: (() => void) | undefined;
  const wake = () => {
    const w = wakeFree;
    wakeFree = undefined;
    w?.();
  };
  const onClose = () => {
    closed = true;
    wake();
  };
  res.once('close', onClose);
  signal.addEventListener('abort', wake, { once: true });
  const over = () => closed || signal.aborted || res.destroyed;
  let sent = 0n;
  const write = async (data: Buffer, release?: () => void) => {
    if (over()) throw new Closed('closed');
    sent += BigInt(data.length);
    onProgress(sent);
    if (!res.write(data, release)) await drained(res);
  };
  /** A buffer the socket is done with; waits while all are still queued on the response. */
  const takeFree = async (): Promise<Buffer> => {
    for (;;) {
      const buf = free.pop();
      if (buf) return buf;
      if (over()) throw new Closed('closed');
      await new Promise<void>((resolve) => {
        wakeFree = resolve;
      });
    }
  };
  /** The read under way: each starts before the previous piece is written out, so libvirt and HTTP overlap. */
  const readInto = (buf: Buffer) => {
    const read = down.read(buf);
    read.catch(() => undefined); // awaited below, or by the catch
    return read;
  };
  let into = free.pop() as Buffer; // the ring is full at the start
  let next = readInto(into);
  try {
    for (;;) {
      const piece = await next;
      const used = into;
      if (piece === null) break;
      if ('data' in piece) {
        into = await takeFree();
        next = readInto(into);
        // Back in the ring once written out (or failed: the response is then over anyway).
        await write(piece.data, () => {
          free.push(used);
          wake();
        });
        continue;
      }
      // A hole left `used` untouched: the next read goes into it while the zeros go out (and the
      // binding hashes them meanwhile).
      next = readInto(used);
      for (let left = piece.hole; left > 0n; ) {
        const n = left < BigInt(CHUNK) ? Number(left) : CHUNK;
        await write(ZEROS.subarray(0, n));
        left -= BigInt(n);
      }
    }
    await down.finish();
    await new Promise<void>((resolve, reject) => {
      res.once('error', reject);
      res.end(resolve);
    });
    return { bytes: sent, sha256: down.sha256(), offset: window.offset };
  } catch (e) {
    await next.catch(() => undefined);
    await down.abort();
    if (!(e instanceof Closed)) throw e;
    const why = signal.aborted ? 'cancelled' : 'the connection was cut';
    throw interrupted(`${why} after ${sent} bytes sent`, window.offset, sent);
  } finally {
    res.off('close', onClose);
    signal.removeEventListener('abort', wake);
  }
}
