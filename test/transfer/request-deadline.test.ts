import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { liftRequestDeadline, startRequestDeadline } from '../../src/request-deadline.ts';

/** A PUT whose 5-byte body trickles out one byte every `gapMs`: resolves with the answer, or how it failed. */
function slowPut(port: number, path: string, gapMs: number): Promise<string> {
  return new Promise((resolve) => {
    const req = request({ port, host: '127.0.0.1', method: 'PUT', path, headers: { 'content-length': 5 } }, (res) => {
      let body = '';
      res.on('data', (d) => {
        body += d;
      });
      res.on('end', () => resolve(`${res.statusCode} ${body}`));
    });
    req.on('error', (e: NodeJS.ErrnoException) => resolve(`error ${e.code}`));
    let sent = 0;
    const timer = setInterval(() => {
      if (req.destroyed) return clearInterval(timer);
      req.write('x');
      if (++sent === 5) {
        clearInterval(timer);
        req.end();
      }
    }, gapMs);
  });
}

describe('request deadline (Node requestTimeout replaced, so volume uploads may take their time)', () => {
  let server: Server | undefined;
  afterEach(async () => {
    await new Promise((resolve) => server?.close(resolve));
  });

  async function serve(): Promise<number> {
    const s = createServer({ requestTimeout: 0 }, async (req, res) => {
      startRequestDeadline(req, res, 300);
      if (req.url === '/lifted') liftRequestDeadline(req);
      let n = 0;
      try {
        for await (const chunk of req) n += (chunk as Buffer).length;
      } catch {
        return;
      }
      res.end(String(n));
    });
    server = s;
    await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
    return (s.address() as AddressInfo).port;
  }

  it('cuts a body slower than the deadline, and lets a lifted one (a transfer URL) take longer', async () => {
    const port = await serve();
    const [cut, lifted, quick] = await Promise.all([
      slowPut(port, '/other', 150),
      slowPut(port, '/lifted', 150),
      slowPut(port, '/other', 10),
    ]);
    expect(cut).toMatch(/^error (ECONNRESET|EPIPE)$/);
    expect(lifted).toBe('200 5');
    expect(quick).toBe('200 5');
  });
});
