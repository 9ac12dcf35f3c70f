import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import pino from 'pino';
import type { BrowserContext } from 'playwright-core';
import { PNG } from 'pngjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConsoleCloseCode } from '../../src/console/console-server.ts';
import { Connection, type Domain } from '../../src/libvirt/index.ts';
import { graphicsPasswordXml } from '../../src/libvirt/xml/index.ts';
import { chromiumSkipReason, launchChromium } from '../support/chromium.ts';
import { startGateway, type TestGateway } from '../support/gateway.ts';
import { buildGuestImage, guestDomainXml, guestImageUnavailableReason } from '../support/guest-image.ts';
import { type PrivateLibvirtd, startLibvirtd } from '../support/libvirtd.ts';
import { forwardIntoNetns, type NetnsForwarder } from '../support/netns-forwarder.ts';
import { type NoVncPages, noVncState, serveNoVncPages, waitForDrawing } from '../support/novnc-page.ts';
import { privateDaemonSkipReason } from '../support/private-daemon.ts';
import { closed, connect, handshake, vncAuthenticate } from './console-clients.ts';

// A host the gateway reaches over qemu+tcp, a real TCP hop: a private libvirtd listening on the
// loopback of its own network namespace, reached through a forwarder; the guest's VNC display
// listens on 0.0.0.0 there, at a port the test's second forwarder also listens on here, so the
// address the gateway derives (the URI's host, the live definition's port) reaches it.

const skip = privateDaemonSkipReason() ?? (await guestImageUnavailableReason());
if (skip) console.warn(`skipping the remote VNC cases: ${skip}`);

const NAME = 'console-remote-vnc';
const CONNECT_TIMEOUT_MS = 1500;
/** TEST-NET-1 (RFC 5737): nothing answers there, so a connect is refused, unroutable or hangs. */
const BLACKHOLE = '192.0.2.1';
/** A loopback address of this namespace where the test accepts connections at the display's port and says nothing. */
const SILENT = '127.0.0.2';

type Ticket = { openConsole: { ticket: string } };

describe.skipIf(skip !== undefined)('VNC of a host reached over qemu+tcp', { timeout: 90_000 }, () => {
  let daemon: PrivateLibvirtd;
  let libvirtPort: NetnsForwarder;
  let displayPort: NetnsForwarder;
  /** A port for a display without a password: the forwarder keeps it taken here (the gateway never gets to connect). */
  let openPort: NetnsForwarder;
  let c: Connection;
  let dom: Domain;
  let gw: TestGateway;
  let base: string;
  let pages: NoVncPages;
  let silent: Server;
  const silentSockets = new Set<Socket>();
  const lines: string[] = [];
  /** Set while a test wants the password the gateway gives the display (read when it connects). */
  let capture: ((password: string | undefined) => void) | undefined;

  /** The display's live password and expiry, as only a libvirt client with the secure flag sees them. */
  async function livePassword(): Promise<{ passwd: string | undefined; validTo: string | undefined }> {
    const graphics = /<graphics [^>]*>/.exec(await dom.xml({ secure: true }))?.[0] ?? '';
    const attr = (name: string) => new RegExp(` ${name}='([^']*)'`).exec(graphics)?.[1];
    return { passwd: attr('passwd'), validTo: attr('passwdValidTo') };
  }

  async function ticket(host = 'remote'): Promise<string> {
    const res = await gw.query<Ticket>(
      `mutation { openConsole(input: { host: "${host}", domain: { name: "${NAME}" }, kind: VNC }) { ticket } }`,
    );
    expect(res.errors).toBeUndefined();
    return res.data?.openConsole.ticket ?? '';
  }

  beforeAll(async () => {
    const image = await buildGuestImage();
    pages = await serveNoVncPages();
    daemon = await startLibvirtd({ name: 'vnc-remote', tcp: true });
    const tcpPort = Number(new URL((daemon.tcpUri ?? '').replace('qemu+tcp', 'http')).port);
    libvirtPort = await forwardIntoNetns(daemon.netnsPid, tcpPort);
    displayPort = await forwardIntoNetns(daemon.netnsPid, undefined, {
      beforeConnect: async () => {
        // The gateway sets the password before it connects: read it while the connection waits.
        if (capture) capture((await livePassword()).passwd);
      },
    });
    silent = createServer((socket) => {
      silentSockets.add(socket);
      socket.once('close', () => silentSockets.delete(socket));
    });
    await new Promise<void>((resolve) => silent.listen(displayPort.port, SILENT, resolve));
    openPort = await forwardIntoNetns(daemon.netnsPid);
    c = await Connection.open(daemon.uri);
    dom = await c.createDomain(
      guestDomainXml({ name: NAME, image, serial: 'pty', vnc: { port: displayPort.port, listen: '0.0.0.0' } }),
    );
    const uri = `qemu+tcp://127.0.0.1:${libvirtPort.port}/system`;
    const log = new Writable({
      write(chunk: Buffer, _encoding, done) {
        lines.push(chunk.toString());
        done();
      },
    });
    gw = await startGateway({ remote: uri }, 'remote', {
      logger: pino({ level: 'trace' }, log),
      config: {
        consoles: { connectTimeoutMs: CONNECT_TIMEOUT_MS },
        cors: { origins: [pages.origin] },
        hosts: [
          { name: 'firewalled', uri, consoles: { graphicsAddress: BLACKHOLE } },
          { name: 'silent', uri, consoles: { graphicsAddress: SILENT } },
        ],
      },
    });
    base = (await gw.app.start()).replace(/^http/, 'ws').replace('/graphql', '');
  }, 180_000);
  afterAll(async () => {
    await gw?.close();
    if (dom && (await dom.isActive().catch(() => false))) await dom.destroy();
    await c?.close();
    await displayPort?.close();
    await openPort?.close();
    await libvirtPort?.close();
    await daemon?.stop();
    await pages?.close();
    for (const socket of silentSockets) socket.destroy();
    await new Promise((resolve) => silent?.close(resolve));
  });

  it('offers the client security None while the gateway answers the display’s VNC challenge', async () => {
    const client = await connect(`${base}/console?ticket=${await ticket()}`, { protocols: ['binary'] });
    expect(client.status).toBeUndefined();
    const { version, width, height } = await handshake(client.ws);
    expect(version).toBe('RFB 003.008\n');
    // ServerInit came from QEMU: VGA text mode or a graphics mode.
    expect(width).toBeGreaterThanOrEqual(640);
    expect(height).toBeGreaterThanOrEqual(400);
    client.ws.close();
    await closed(client.ws);
  });

  it('two consoles of one display at once: their passwords are set one after the other, both open', async () => {
    const [a, b] = await Promise.all([ticket(), ticket()]);
    const clients = await Promise.all(
      [a, b].map((t) => connect(`${base}/console?ticket=${t}`, { protocols: ['binary'] })),
    );
    const sizes = await Promise.all(clients.map((client) => handshake(client.ws)));
    expect(sizes[0]).toEqual(sizes[1]);
    for (const client of clients) client.ws.close();
    await Promise.all(clients.map((client) => closed(client.ws)));
  });

  it('a display without password authentication is refused, saying what it needs', async () => {
    const bare = await c.createDomain(`<domain type='qemu'>
  <name>${NAME}-nopw</name>
  <memory unit='MiB'>32</memory>
  <os><type arch='x86_64' machine='pc'>hvm</type></os>
  <devices>
    <graphics type='vnc' port='${openPort.port}' autoport='no'><listen type='address' address='0.0.0.0'/></graphics>
    <video><model type='vga'/></video>
  </devices>
</domain>`);
    try {
      const res = await gw.query<Ticket>(
        `mutation { openConsole(input: { domain: { name: "${NAME}-nopw" }, kind: VNC }) { ticket } }`,
      );
      const client = await connect(`${base}/console?ticket=${res.data?.openConsole.ticket}`, { protocols: ['binary'] });
      const end = await closed(client.ws);
      expect(end.code).toBe(ConsoleCloseCode.Unavailable);
      expect(end.reason).toBe(
        'CONSOLE_UNAVAILABLE: the display has no VNC password authentication: give its <graphics> a passwd (an expired one will do)',
      );
    } finally {
      await bare.destroy();
    }
  });

  it('refuses a ticket-less and a replayed connection', async () => {
    const none = await connect(`${base}/console`, { protocols: ['binary'] });
    expect(none.status).toBe(401);
    const url = `${base}/console?ticket=${await ticket()}`;
    const first = await connect(url, { protocols: ['binary'] });
    expect(first.status).toBeUndefined();
    await handshake(first.ws);
    const replay = await connect(url, { protocols: ['binary'] });
    expect(replay.status).toBe(401);
    first.ws.close();
    await closed(first.ws);
  });

  it('after the session the one-time password opens the display no more, and was never logged', async () => {
    // The raw client and the test's way of setting a password work: a known one opens the display.
    const live = await dom.xml();
    await dom.updateDevice(graphicsPasswordXml(live, 0, 'known-pw', new Date(Date.now() + 60_000)), 'live');
    expect(await vncAuthenticate(displayPort.port, 'known-pw')).toBe(0);
    await dom.updateDevice(graphicsPasswordXml(live, 0, 'expired1', new Date(1000)), 'live');
    expect(await vncAuthenticate(displayPort.port, 'known-pw')).not.toBe(0);

    const used = new Promise<string | undefined>((resolve) => {
      capture = resolve;
    });
    const client = await connect(`${base}/console?ticket=${await ticket()}`, { protocols: ['binary'] });
    await handshake(client.ws);
    capture = undefined;
    const password = await used;
    expect(password).toMatch(/^[A-Za-z0-9_-]{8}$/);
    client.ws.close();
    await closed(client.ws);

    expect(await vncAuthenticate(displayPort.port, password ?? '')).not.toBe(0);
    // The display holds another password now, expired.
    const after = await livePassword();
    expect(after.passwd).not.toBe(password);
    expect(Date.parse(`${after.validTo}Z`)).toBeLessThan(Date.now());
    // The gateway logged the session (its audit records included), and the password nowhere.
    expect(lines.join('\n')).toContain('audit console.close');
    expect(lines.join('\n')).not.toContain(password);
  });

  it('an unreachable display is a typed error naming its address within the connect timeout', async () => {
    const before = await livePassword();
    const client = await connect(`${base}/console?ticket=${await ticket('firewalled')}`, { protocols: ['binary'] });
    expect(client.status).toBeUndefined();
    const started = Date.now();
    const end = await closed(client.ws);
    expect(Date.now() - started).toBeLessThan(CONNECT_TIMEOUT_MS + 3000);
    expect(end.code).toBe(ConsoleCloseCode.Unavailable);
    expect(end.reason).toContain(`CONSOLE_UNAVAILABLE: cannot reach the display at ${BLACKHOLE}:${displayPort.port}`);
    // The password set for it was taken back: another one, expired.
    const after = await livePassword();
    expect(after.passwd).not.toBe(before.passwd);
    expect(Date.parse(`${after.validTo}Z`)).toBeLessThan(Date.now());
  });

  it('a display that accepts but never speaks RFB is a typed error within the timeout, not a hang', async () => {
    const client = await connect(`${base}/console?ticket=${await ticket('silent')}`, { protocols: ['binary'] });
    expect(client.status).toBeUndefined();
    const started = Date.now();
    const end = await closed(client.ws);
    expect(Date.now() - started).toBeLessThan(2 * CONNECT_TIMEOUT_MS + 3000);
    expect(end).toEqual({
      code: ConsoleCloseCode.Unavailable,
      reason: `CONSOLE_UNAVAILABLE: the display at ${SILENT}:${displayPort.port} did not answer within ${CONNECT_TIMEOUT_MS} ms`,
    });
  });

  describe.skipIf(chromiumSkipReason !== undefined)('noVNC in headless Chromium', () => {
    let dir: string;
    let browser: BrowserContext;

    beforeAll(async () => {
      dir = await mkdtemp(join(tmpdir(), 'virtql-novnc-remote-'));
      browser = await launchChromium(join(dir, 'profile'));
    }, 120_000);
    afterAll(async () => {
      await browser?.close();
      if (dir) await rm(dir, { recursive: true, force: true });
    });

    it('draws the guest’s display through the remote host', async () => {
      const page = await browser.newPage();
      await page.goto(pages.pageFor(`${base}/console?ticket=${await ticket()}`));
      expect(await noVncState(page)).toBe('connected');
      const shot = await gw.query<{ domain: { screenshot: string } }>(
        `{ domain(ref: { name: "${NAME}" }) { screenshot } }`,
      );
      expect(shot.errors).toBeUndefined();
      const png = PNG.sync.read(Buffer.from(shot.data?.domain.screenshot ?? '', 'base64'));
      await waitForDrawing(page, { width: png.width, height: png.height });
      await page.close();
    });
  });
});
