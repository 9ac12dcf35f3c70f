import WebSocket from 'ws';
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
