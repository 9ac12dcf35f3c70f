import { Socket } from 'node:net';
import type { Domain } from './domain.ts';
import { invoke, toLibvirtError } from './errors.ts';
import { native, type RawStreamEvent, type RawStreamInfo, type StreamHandle } from './native.ts';

// virDomainConsoleFlags — libvirt-libvirt-domain.html#virDomainConsoleFlags
export const DomainConsoleFlags = { FORCE: 1, SAFE: 2 } as const;
// virDomainOpenGraphicsFlags — libvirt-libvirt-domain.html#virDomainOpenGraphicsFlags
export const DomainOpenGraphicsFlags = { SKIPAUTH: 1 } as const;

/** What a console stream tells its owner. Exactly one of `onEnd` or `onError` ends it. */
export interface ConsoleStreamListener {
  onData(data: Buffer): void;
  /** libvirt ended the stream (EOF): the domain stopped or the device went away. */
  onEnd(): void;
  onError(error: unknown): void;
}

export interface OpenConsoleOptions {
  /** The alias of a serial or console device (e.g. serial0, console0); the first console when omitted. */
  device?: string;
  /**
   * Take the console from whoever holds it (VIR_DOMAIN_CONSOLE_FORCE). The gateway never does:
   * a second client is refused, so one user cannot silently cut off another. @default false
   */
  force?: boolean;
  /** Bytes read from libvirt but not yet delivered to JS before reading pauses. @default 256 KiB */
  inflightCap?: number;
}

/**
 * The binding's handle of a domain: the Domain object keeps its own private, so the console
 * functions look the domain up again by UUID (a local call of a few microseconds per console).
 */
async function handleOf(domain: Domain) {
  return (await invoke(() => native.domainLookupByUUID(domain.connection.handle, domain.uuid))).handle;
}

/**
 * A serial or console device of a running domain (virDomainOpenConsole over a non-blocking
 * virStream). Reading runs on libvirt's event thread and stops while `pause()` holds or while
 * the binding has `inflightCap` bytes queued for JS; writes go through the libuv pool one at a
 * time, and `write` resolves once libvirt took the bytes (waiting out EAGAIN).
 */
export class ConsoleStream {
  #handle: StreamHandle | undefined;
  #listener: ConsoleStreamListener;
  #queue: Array<{ data: Buffer; resolve: () => void; reject: (e: unknown) => void }> = [];
  #writing = false;
  #writable: (() => void) | undefined;
  #pending = 0;
  #done = false;
  #closed: Promise<void> | undefined;
  #early: RawStreamEvent[] = [];
  /** Bytes received from libvirt / sent to it. */
  bytesIn = 0;
  bytesOut = 0;

  private constructor(listener: ConsoleStreamListener) {
    this.#listener = listener;
  }

  static async open(domain: Domain, listener: ConsoleStreamListener, options: OpenConsoleOptions = {}) {
    const stream = new ConsoleStream(listener);
    const handle = await handleOf(domain);
    const flags = DomainConsoleFlags.SAFE | (options.force ? DomainConsoleFlags.FORCE : 0);
    stream.#handle = await invoke(() =>
      native.domainOpenConsole(
        handle,
        options.device ?? null,
        flags,
        (event) => stream.#event(event),
        options.inflightCap ?? 256 * 1024,
      ),
    );
    // Events that arrived before the handle did (the callback starts with the stream).
    for (const event of stream.#early.splice(0)) stream.#event(event);
    return stream;
  }

  #event(event: RawStreamEvent): void {
    if (this.#handle === undefined) {
      this.#early.push(event);
      return;
    }
    if (this.#done) return;
    switch (event.type) {
      case 'data':
        this.bytesIn += event.data.length;
        this.#listener.onData(event.data);
        return;
      case 'writable':
        this.#writable?.();
        return;
      case 'end':
        this.#done = true;
        this.#failQueue(new Error('the console stream ended'));
        this.#listener.onEnd();
        return;
      case 'error':
        this.#done = true;
        this.#failQueue(toLibvirtError(event.error));
        this.#listener.onError(toLibvirtError(event.error));
        return;
    }
  }

  /** Bytes given to write() that libvirt has not taken yet. */
  get pendingWrite(): number {
    return this.#pending;
  }

  /** Sends bytes to the device; writes keep their order. */
  write(data: Buffer): Promise<void> {
    if (this.#done || this.#closed) return Promise.reject(new Error('the console stream is closed'));
    this.#pending += data.length;
    const written = new Promise<void>((resolve, reject) => this.#queue.push({ data, resolve, reject }));
    void this.#drain();
    return written;
  }

  async #drain(): Promise<void> {
    if (this.#writing || this.#handle === undefined) return;
    this.#writing = true;
    const handle = this.#handle;
    try {
      for (let next = this.#queue[0]; next !== undefined; next = this.#queue[0]) {
        let rest = next.data;
        try {
          while (rest.length > 0) {
            const writable = new Promise<void>((resolve) => {
              this.#writable = resolve;
            });
            const n = await invoke(() => native.streamSend(handle, rest));
            this.#pending -= n;
            this.bytesOut += n;
            rest = rest.subarray(n);
            if (rest.length > 0) await writable;
          }
          this.#queue.shift();
          next.resolve();
        } catch (e) {
          this.#failQueue(e);
        }
      }
    } finally {
      this.#writing = false;
      this.#writable = undefined;
    }
  }

  #failQueue(e: unknown): void {
    for (const item of this.#queue.splice(0)) {
      this.#pending -= item.data.length;
      item.reject(e);
    }
    this.#writable?.();
  }

  /** Stops reading from libvirt until resume(); bytes already read still arrive. */
  pause(): Promise<void> {
    const handle = this.#handle;
    if (handle === undefined || this.#closed) return Promise.resolve();
    return invoke(() => native.streamSetPaused(handle, true));
  }

  resume(): Promise<void> {
    const handle = this.#handle;
    if (handle === undefined || this.#closed) return Promise.resolve();
    return invoke(() => native.streamSetPaused(handle, false));
  }

  /** The binding's flow-control state. */
  info(): RawStreamInfo | undefined {
    return this.#handle === undefined ? undefined : native.streamInfo(this.#handle);
  }

  /** Ends the stream (finish after EOF, abort otherwise); later events are dropped. Idempotent. */
  close(): Promise<void> {
    this.#closed ??= (async () => {
      const ended = this.#done;
      this.#done = true;
      this.#failQueue(new Error('the console stream is closed'));
      const handle = this.#handle;
      if (handle !== undefined) await invoke(() => native.streamClose(handle, !ended));
    })();
    return this.#closed;
  }
}

/**
 * A socket connected to the domain's graphics server (virDomainOpenGraphicsFD, SKIPAUTH: the
 * gateway has authorized the caller, so the VNC password is not asked again). libvirt passes
 * the descriptor over its UNIX socket, so this works on local connections only.
 *
 * The descriptor becomes a net.Socket: libuv then does the non-blocking I/O and the socket's
 * pause()/write() give backpressure down to the kernel's buffers, with no native code on the
 * data path.
 */
export async function openGraphicsSocket(domain: Domain, index = 0): Promise<Socket> {
  const handle = await handleOf(domain);
  const fd = await invoke(() => native.domainOpenGraphicsFD(handle, index, DomainOpenGraphicsFlags.SKIPAUTH));
  return new Socket({ fd, readable: true, writable: true });
}

/** virDomainScreenshot: the image libvirt's driver produces (PPM for QEMU) and its MIME type. */
export async function takeScreenshot(domain: Domain, screen = 0): Promise<{ mime: string; data: Buffer }> {
  const handle = await handleOf(domain);
  return invoke(() => native.domainScreenshot(handle, screen));
}
