import { vncAuthResponse } from './vnc-des.ts';

/** The RFB exchange failed: the peer does not speak it, refused the password, or closed. */
export class RfbError extends Error {
  override readonly name = 'RfbError';
}

/** RFB security types (RFC 6143 §7.1.2). */
export const SecurityType = { Invalid: 0, None: 1, VncAuth: 2 } as const;

/** A failure reason is a length and text; longer ones are cut, so a peer cannot make us read megabytes. */
const MAX_REASON = 1024;

/**
 * Bytes as they arrive from a socket or a WebSocket, read back in exact counts: one RFB message
 * at a time during a handshake, the rest handed on afterwards with `drain()`.
 */
export class ByteQueue {
  #chunks: Buffer[] = [];
  #length = 0;
  #want: { n: number; resolve: (b: Buffer) => void; reject: (e: Error) => void } | undefined;
  #error: Error | undefined;

  /** @param limit bytes held before the queue fails: a handshake needs a few dozen. */
  constructor(private readonly limit = 65_536) {}

  push(data: Buffer): void {
    if (this.#error) return;
    this.#chunks.push(data);
    this.#length += data.length;
    if (this.#length > this.limit) this.fail(new RfbError('too much data during the RFB handshake'));
    else this.#check();
  }

  /** Ends the queue: the pending read and later ones reject with `error`. */
  fail(error: Error): void {
    this.#error ??= error;
    const want = this.#want;
    this.#want = undefined;
    want?.reject(error);
  }

  read(n: number): Promise<Buffer> {
    if (this.#want) return Promise.reject(new Error('one read at a time'));
    if (this.#error && this.#length < n) return Promise.reject(this.#error);
    return new Promise((resolve, reject) => {
      this.#want = { n, resolve, reject };
      this.#check();
    });
  }

  /** What arrived beyond the reads, in order; the queue is empty afterwards. */
  drain(): Buffer {
    const all = Buffer.concat(this.#chunks);
    this.#chunks = [];
    this.#length = 0;
    return all;
  }

  #check(): void {
    const want = this.#want;
    if (!want || this.#length < want.n) return;
    const all = Buffer.concat(this.#chunks);
    this.#chunks = all.length > want.n ? [all.subarray(want.n)] : [];
    this.#length = all.length - want.n;
    this.#want = undefined;
    want.resolve(all.subarray(0, want.n));
  }
}

/** The minor version of a ProtocolVersion message `RFB 003.00x\n`. */
function minorVersion(message: Buffer, who: string): number {
  const match = /^RFB 003\.(\d{3})\n$/.exec(message.toString('latin1'));
  if (!match) throw new RfbError(`${who} does not speak RFB 3.x`);
  return Number(match[1]);
}

async function readReason(queue: ByteQueue): Promise<string> {
  const length = (await queue.read(4)).readUInt32BE(0);
  return (await queue.read(Math.min(length, MAX_REASON))).toString('utf8');
}

/**
 * The gateway as the display's RFB client, up to (not including) ClientInit: RFB 3.8 (or 3.3 when
 * the server is older) with VNC authentication, answering the challenge with `password`. Rejects
 * with RfbError when the display offers no VNC authentication or refuses the password.
 */
export async function authenticateToDisplay(
  queue: ByteQueue,
  write: (data: Buffer) => void,
  password: string,
): Promise<void> {
  const minor = minorVersion(await queue.read(12), 'the display');
  let type: number;
  if (minor >= 7) {
    write(Buffer.from('RFB 003.008\n', 'latin1'));
    const count = (await queue.read(1))[0] ?? 0;
    if (count === 0) throw new RfbError(`the display refused the connection: ${await readReason(queue)}`);
    const offered = [...(await queue.read(count))];
    if (!offered.includes(SecurityType.VncAuth)) {
      throw new RfbError(
        `the display does not offer VNC password authentication (security types ${offered.join(', ')})`,
      );
    }
    type = SecurityType.VncAuth;
    write(Buffer.from([type]));
  } else {
    write(Buffer.from('RFB 003.003\n', 'latin1'));
    type = (await queue.read(4)).readUInt32BE(0);
    if (type === SecurityType.Invalid) {
      throw new RfbError(`the display refused the connection: ${await readReason(queue)}`);
    }
    if (type !== SecurityType.VncAuth) throw new RfbError(`the display asks for security type ${type}, not VNC`);
  }
  write(vncAuthResponse(password, await queue.read(16)));
  const result = (await queue.read(4)).readUInt32BE(0);
  if (result !== 0) {
    const why = minor >= 8 ? `: ${await readReason(queue)}` : '';
    throw new RfbError(`the display refused the one-time password${why}`);
  }
}

/**
 * The gateway as the browser's RFB server, up to (not including) ClientInit: the client is
 * offered security type None only, as it was offered when libvirt skipped the VNC password, so
 * noVNC and other clients connect unchanged. After this, ClientInit and everything else pass
 * through to the display, which is at the same point of its own handshake.
 */
export async function offerNoAuth(queue: ByteQueue, write: (data: Buffer) => void): Promise<void> {
  write(Buffer.from('RFB 003.008\n', 'latin1'));
  const minor = minorVersion(await queue.read(12), 'the client');
  if (minor < 7) {
    // 3.3: the server names the security type; there is no SecurityResult for None.
    write(Buffer.from([0, 0, 0, SecurityType.None]));
    return;
  }
  write(Buffer.from([1, SecurityType.None]));
  const chosen = (await queue.read(1))[0];
  if (chosen !== SecurityType.None) throw new RfbError(`the client chose security type ${chosen}, not None`);
  // 3.7 sends no SecurityResult for None; 3.8 does.
  if (minor >= 8) write(Buffer.from([0, 0, 0, 0]));
}
