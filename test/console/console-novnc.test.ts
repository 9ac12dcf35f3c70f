import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, normalize } from 'node:path';
import type { BrowserContext } from 'playwright-core';
import { PNG } from 'pngjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Connection, Domain } from '../../src/libvirt/index.ts';
import { chromiumSkipReason, launchChromium } from '../support/chromium.ts';
import { startGateway, type TestGateway } from '../support/gateway.ts';
import { openPrivateDaemon, privateDaemon, privateDaemonSkipReason } from '../support/private-daemon.ts';

const skip = privateDaemonSkipReason() ?? chromiumSkipReason;
if (skip) console.warn(`skipping noVNC in Chromium: ${skip}`);

const NAME = 'console-novnc';
/** The package's root: its export is core/rfb.js. */
const NOVNC = dirname(dirname(createRequire(import.meta.url).resolve('@novnc/novnc')));

/** A page of another origin than the gateway's, as a frontend would serve it: noVNC's own RFB client, unchanged. */
const PAGE = `<!doctype html>
<title>noVNC</title>
<div id="screen" style="width: 800px; height: 500px"></div>
<script type="module">
  import RFB from '/novnc/core/rfb.js';
  const url = new URLSearchParams(location.search).get('url');
  const rfb = new RFB(document.getElementById('screen'), url);
  window.vnc = { state: 'connecting' };
  rfb.addEventListener('connect', () => { window.vnc.state = 'connected'; });
  rfb.addEventListener('disconnect', (e) => { window.vnc.state = e.detail.clean ? 'closed' : 'failed'; });
</script>`;

/** A domain without an OS: the display shows SeaBIOS' text, enough for a framebuffer. */
const domainXml = (kvm: boolean) => `<domain type="${kvm ? 'kvm' : 'qemu'}">
  <name>${NAME}</name>
  <memory unit="MiB">64</memory>
  <os><type arch="x86_64" machine="pc">hvm</type></os>
  <devices>
    <graphics type="vnc"><listen type="none"/></graphics>
    <video><model type="vga"/></video>
  </devices>
</domain>`;

describe.skipIf(skip !== undefined)('noVNC in headless Chromium through the gateway', { timeout: 90_000 }, () => {
  let pages: Server;
  let origin: string;
  let gw: TestGateway;
  let base: string;
  let c: Connection;
  let dom: Domain;
  let dir: string;
  let browser: BrowserContext;

  beforeAll(async () => {
    const daemon = privateDaemon();
    if (!daemon) throw new Error('unreachable');
    pages = createServer((req, res) => {
      const path = new URL(req.url ?? '/', 'http://page').pathname;
      if (path === '/') {
        res.writeHead(200, { 'content-type': 'text/html' }).end(PAGE);
        return;
      }
      const file = normalize(join(NOVNC, path.replace(/^\/novnc\//, '')));
      if (!path.startsWith('/novnc/') || !file.startsWith(NOVNC)) {
        res.writeHead(404).end();
        return;
      }
      readFile(file).then(
        (body) => res.writeHead(200, { 'content-type': 'text/javascript' }).end(body),
        () => res.writeHead(404).end(),
      );
    });
    await new Promise<void>((resolve) => pages.listen(0, '127.0.0.1', resolve));
    origin = `http://127.0.0.1:${(pages.address() as AddressInfo).port}`;
    c = await openPrivateDaemon();
    await (await c.domainByName(NAME).catch(() => undefined))?.destroy().catch(() => undefined);
    dom = await c.createDomain(domainXml(daemon.kvm));
    // The page's origin is listed, as an operator lists the frontend's.
    gw = await startGateway({ qemu: daemon.uri }, undefined, { config: { cors: { origins: [origin] } } });
    base = (await gw.app.start()).replace(/^http/, 'ws').replace('/graphql', '');
    dir = await mkdtemp(join(tmpdir(), 'virtql-novnc-'));
    browser = await launchChromium(join(dir, 'profile'));
  }, 120_000);
  afterAll(async () => {
    await browser?.close();
    if (dom && (await dom.isActive().catch(() => false))) await dom.destroy();
    await gw?.close();
    await c?.close();
    await new Promise((resolve) => pages?.close(resolve));
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('connects with an openConsole ticket and draws the display at its framebuffer size', async () => {
    const res = await gw.query<{ openConsole: { ticket: string } }>(
      `mutation { openConsole(input: { domain: { name: "${NAME}" }, kind: VNC }) { ticket } }`,
    );
    expect(res.errors).toBeUndefined();
    const url = `${base}/console?ticket=${res.data?.openConsole.ticket}`;
    const page = await browser.newPage();
    await page.goto(`${origin}/?url=${encodeURIComponent(url)}`);
    // The page's module may not have run yet when the wait starts: until window.vnc exists, keep waiting.
    await page.waitForFunction(() => {
      const state = (window as unknown as { vnc?: { state: string } }).vnc?.state;
      return state !== undefined && state !== 'connecting';
    });
    expect(await page.evaluate(() => (window as unknown as { vnc: { state: string } }).vnc.state)).toBe('connected');

    const shot = await gw.query<{ domain: { screenshot: string } }>(
      `{ domain(ref: { name: "${NAME}" }) { screenshot } }`,
    );
    const png = PNG.sync.read(Buffer.from(shot.data?.domain.screenshot ?? '', 'base64'));
    // noVNC sizes its canvas to the framebuffer, and draws something other than one colour.
    await page.waitForFunction(
      ({ width, height }) => {
        const canvas = document.querySelector('#screen canvas') as HTMLCanvasElement | null;
        if (!canvas || canvas.width !== width || canvas.height !== height) return false;
        const data = canvas.getContext('2d')?.getImageData(0, 0, width, height).data;
        if (!data) return false;
        for (let i = 4; i < data.length; i += 4) if (data[i] !== data[0]) return true;
        return false;
      },
      { width: png.width, height: png.height },
    );
    await page.close();
  });
});
