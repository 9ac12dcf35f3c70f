import { connect as connectTcp } from 'node:net';
import { expect } from 'vitest';
import WebSocket from 'ws';
import { ByteQueue } from '../../src/console/rfb-handshake.ts';
import { vncAuthResponse } from '../../src/console/vnc-des.ts';
import { deferred } from '../support/test-host.ts';

/** A console WebSocket as the test sees it: opened, or refused before the handshake with an HTTP status. */
export type Connected = { ws: WebSocket; status?: undefined } | { ws: WebSocket; status: number; body: string };

/** Connects and resolves once the handshake succeeded or was refused. */
export function connect(
  url: string,
  options: { headers?: Record<string, string>; protocols?: string[] } = {},
): Promise<Connected> {
  const ws = new WebSocket(url, options.protocols ?? [], { headers: options.headers ?? {} });
  const result = deferred<Connected>();
  ws.once('open', () => result.resolve({ ws }));
  ws.once('unexpected-response', (_req, res) => {
    let body = '';
    res.on('data', (c: Buffer) => {
      body += c.toString();
    });
    res.on('end', () => result.resolve({ ws, status: res.statusCode ?? 0, body }));
  });
  // A refused handshake also ends the request: ws reports it as an error we expect.
  ws.on('error', (e) => result.reject(e));
  return result.promise;
}

/** Resolves with the close code and reason. */
export function closed(ws: WebSocket): Promise<{ code: number; reason: string }> {
  const d = deferred<{ code: number; reason: string }>();
  ws.once('close', (code, reason) => d.resolve({ code, reason: reason.toString() }));
  return d.promise;
}

/** Text received on a serial console, and waits for substrings of it. */
export function transcript(ws: WebSocket) {
  let text = '';
  const waits: Array<{ needle: string; resolve: () => void }> = [];
  ws.on('message', (data: Buffer) => {
    text += data.toString('latin1');
    for (const w of waits.filter((w) => text.includes(w.needle))) {
      waits.splice(waits.indexOf(w), 1);
      w.resolve();
    }
  });
  return {
    get text() {
      return text;
    },
    until(needle: string): Promise<void> {
      if (text.includes(needle)) return Promise.resolve();
      const d = deferred<void>();
      waits.push({ needle, resolve: () => d.resolve() });
      return d.promise;
    },
  };
}

/** Reads exact byte counts from a WebSocket's binary messages, in order. */
export function reader(ws: WebSocket) {
  let buffered = Buffer.alloc(0);
  let want: { n: number; resolve: (b: Buffer) => void } | undefined;
  const check = () => {
    if (want && buffered.length >= want.n) {
      const out = buffered.subarray(0, want.n);
      buffered = buffered.subarray(want.n);
      const w = want;
      want = undefined;
      w.resolve(out);
    }
  };
  ws.on('message', (data: Buffer) => {
    buffered = Buffer.concat([buffered, data]);
    check();
  });
  return (n: number): Promise<Buffer> => {
    const d = deferred<Buffer>();
    want = { n, resolve: d.resolve };
    check();
    return d.promise;
  };
}

/** RFB 3.8 up to ServerInit with security type None; answers the framebuffer size. */
export async function handshake(ws: WebSocket): Promise<{ version: string; width: number; height: number }> {
  const read = reader(ws);
  const version = (await read(12)).toString('latin1');
  ws.send(Buffer.from('RFB 003.008\n'));
  const count = (await read(1))[0] ?? 0;
  const types = [...(await read(count))];
  expect(types).toEqual([1]); // None: libvirt opened the display with SKIPAUTH, or the gateway authenticated
  ws.send(Buffer.from([1]));
  expect((await read(4)).readUInt32BE(0)).toBe(0); // SecurityResult OK
  ws.send(Buffer.from([1])); // ClientInit, shared
  const init = await read(24);
  const nameLength = init.readUInt32BE(20);
  await read(nameLength);
  return { version, width: init.readUInt16BE(0), height: init.readUInt16BE(2) };
}

/**
 * A raw RFB 3.8 client straight to a VNC display (no gateway): VNC authentication with
 * `password`. Resolves with the SecurityResult: 0 when the password opened the display.
 */
export async function vncAuthenticate(port: number, password: string): Promise<number> {
  const socket = connectTcp({ host: '127.0.0.1', port });
  const queue = new ByteQueue();
  socket.on('data', (data: Buffer) => queue.push(data));
  socket.on('error', (e) => queue.fail(e));
  socket.on('close', () => queue.fail(new Error('the display closed the connection')));
  try {
    expect((await queue.read(12)).toString('latin1')).toMatch(/^RFB 003\.00[78]\n$/);
    socket.write('RFB 003.008\n');
    const count = (await queue.read(1))[0] ?? 0;
    expect([...(await queue.read(count))]).toEqual([2]); // VNC authentication only
    socket.write(Buffer.from([2]));
    socket.write(vncAuthResponse(password, await queue.read(16)));
    return (await queue.read(4)).readUInt32BE(0);
  } finally {
    socket.destroy();
  }
}
