import { PNG } from 'pngjs';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createApiToken } from '../../src/auth/authenticator.ts';
import { authSchema } from '../../src/config/security-schema.ts';
import { ConsoleCloseCode } from '../../src/console/console-server.ts';
import { CloseCode } from '../../src/events/graphql-ws-server.ts';
import type { Connection, Domain } from '../../src/libvirt/index.ts';
import { startGateway, type TestGateway } from '../support/gateway.ts';
import { buildGuestImage, guestDomainXml, guestImageUnavailableReason } from '../support/guest-image.ts';
import { openPrivateDaemon, privateDaemon, privateDaemonSkipReason } from '../support/private-daemon.ts';
import { closed, connect, handshake } from './console-clients.ts';

const skip = privateDaemonSkipReason() ?? (await guestImageUnavailableReason());
if (skip) console.warn(`skipping the VNC console cases: ${skip}`);

const NAME = 'console-vnc';
/** A small bound, so the backpressure case needs little traffic to reach it. */
const MAX_BUFFERED = 256 * 1024;
const MAX_MESSAGE = 64 * 1024;
const tokens = { operator: createApiToken(), spare: createApiToken() };
const bearer = { authorization: `Bearer ${tokens.operator.secret}` };
/** Identities and grants with the named tokens only. */
const auth = (names: Array<keyof typeof tokens>) => ({
  tokens: names.map((name) => ({ name, sha256: tokens[name].sha256 })),
  grants: names.map((identity) => ({ identity, role: 'operator' })),
});

/** FramebufferUpdateRequest for the whole screen, not incremental: the server sends every pixel again. */
function fullUpdateRequest(width: number, height: number): Buffer {
  const b = Buffer.alloc(10);
  b.writeUInt8(3, 0);
  b.writeUInt8(0, 1);
  b.writeUInt16BE(0, 2);
  b.writeUInt16BE(0, 4);
  b.writeUInt16BE(width, 6);
  b.writeUInt16BE(height, 8);
  return b;
}

describe.skipIf(skip !== undefined)(
  'VNC and screenshots through the gateway (tiny guest, TCG)',
  { timeout: 90_000 },
  () => {
    let gw: TestGateway;
    let base: string;
    let c: Connection;
    let dom: Domain;

    async function vncUrl(): Promise<string> {
      const res = await gw.query<{ openConsole: { ticket: string } }>(
        `mutation { openConsole(input: { domain: { name: "${NAME}" }, kind: VNC }) { ticket } }`,
        undefined,
        bearer,
      );
      expect(res.errors).toBeUndefined();
      return `${base}/console?ticket=${res.data?.openConsole.ticket}`;
    }

    beforeAll(async () => {
      const daemon = privateDaemon();
      if (!daemon) throw new Error('unreachable');
      const image = await buildGuestImage();
      c = await openPrivateDaemon();
      await (await c.domainByName(NAME).catch(() => undefined))?.destroy().catch(() => undefined);
      dom = await c.createDomain(guestDomainXml({ name: NAME, image, serial: 'pty', vnc: true }));
      gw = await startGateway({ qemu: daemon.uri }, undefined, {
        config: {
          auth: auth(['operator', 'spare']),
          consoles: { maxBufferedBytes: MAX_BUFFERED, maxMessageBytes: MAX_MESSAGE },
        },
      });
      base = (await gw.app.start()).replace(/^http/, 'ws').replace('/graphql', '');
    }, 180_000);
    afterAll(async () => {
      if (dom && (await dom.isActive().catch(() => false))) await dom.destroy();
      await gw?.close();
      await c?.close();
    });

    it('speaks RFB 3.8 over the binary subprotocol, and its framebuffer is the size of the screenshot', async () => {
      const client = await connect(await vncUrl(), { protocols: ['binary'] });
      expect(client.status).toBeUndefined();
      expect(client.ws.protocol).toBe('binary');
      const { version, width, height } = await handshake(client.ws);
      expect(version).toBe('RFB 003.008\n');

      const res = await gw.query<{ domain: { screenshot: string } }>(
        `{ domain(ref: { name: "${NAME}" }) { screenshot } }`,
        undefined,
        bearer,
      );
      expect(res.errors).toBeUndefined();
      const png = PNG.sync.read(Buffer.from(res.data?.domain.screenshot ?? '', 'base64'));
      expect({ width: png.width, height: png.height }).toEqual({ width, height });
      // VGA text mode (SeaBIOS' and the boot loader's lines): 720x400, or a graphics mode at least 640x400.
      expect(width).toBeGreaterThanOrEqual(640);
      expect(height).toBeGreaterThanOrEqual(400);
      const first = png.data.readUInt32BE(0);
      let differs = false;
      for (let i = 4; i < png.data.length && !differs; i += 4) differs = png.data.readUInt32BE(i) !== first;
      expect(differs, 'the screenshot is all one colour').toBe(true);
      client.ws.close();
      await closed(client.ws);
    });

    it('a client that stops reading: the gateway stops reading the display, its buffer and memory stay bounded', async () => {
      const client = await connect(await vncUrl(), { protocols: ['binary'] });
      const { width, height } = await handshake(client.ws);
      const rssBefore = process.memoryUsage().rss;
      // The client stops reading and keeps asking for full frames (~1.1 MB each at 720x400x32):
      // QEMU answers one request at a time, so the ask goes on until the gateway has paused.
      client.ws.pause();
      await vi.waitFor(
        () => {
          client.ws.send(fullUpdateRequest(width, height));
          expect(gw.app.consoles.sessions()[0]?.readingPaused).toBe(true);
        },
        { timeout: 30_000, interval: 20 },
      );
      const atPause = gw.app.consoles.sessions()[0]?.bytesToClient ?? 0;
      // More requests while paused: QEMU cannot send them, the kernel's socket buffers are full.
      for (let i = 0; i < 100; i++) client.ws.send(fullUpdateRequest(width, height));
      for (let i = 0; i < 20; i++) await gw.query('{ host { hostname } }', undefined, bearer);
      const [session] = gw.app.consoles.sessions();
      expect(session?.readingPaused).toBe(true);
      expect(session?.bufferedToClient).toBeLessThanOrEqual(MAX_BUFFERED + 2 * MAX_MESSAGE);
      // Nothing more was read from the display than the chunk libuv had in hand.
      expect((session?.bytesToClient ?? 0) - atPause).toBeLessThanOrEqual(MAX_MESSAGE);
      // Far less than the ~460 MB asked for: what the sockets hold, not the frames.
      expect(session?.bytesToClient).toBeLessThan(64 * 1024 * 1024);
      expect(process.memoryUsage().rss - rssBefore).toBeLessThan(64 * 1024 * 1024);

      // Reading again drains it, and the display flows once more.
      client.ws.resume();
      const sent = session?.bytesToClient ?? 0;
      await vi.waitFor(
        () => expect(gw.app.consoles.sessions()[0]?.bytesToClient).toBeGreaterThan(sent + MAX_BUFFERED),
        {
          timeout: 30_000,
          interval: 50,
        },
      );
      client.ws.close();
      await closed(client.ws);
    });

    it('a console whose WebSocket presented the token ends when the token is revoked', async () => {
      const client = await connect(await vncUrl(), { protocols: ['binary'], headers: bearer });
      expect(client.status).toBeUndefined();
      await handshake(client.ws);
      const end = closed(client.ws);
      await gw.app.reloadAuth(authSchema.parse(auth(['spare'])));
      expect((await end).code).toBe(CloseCode.Forbidden);
      await gw.app.reloadAuth(authSchema.parse(auth(['operator', 'spare'])));
    });

    it('stopping the domain closes the VNC socket 4410', async () => {
      const client = await connect(await vncUrl(), { protocols: ['binary'] });
      await handshake(client.ws);
      const end = closed(client.ws);
      await dom.destroy();
      expect(await end).toEqual({ code: ConsoleCloseCode.Ended, reason: 'CONSOLE_ENDED: the display closed' });
    });
  },
);
