import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BrowserContext } from 'playwright-core';
import { PNG } from 'pngjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Connection, Domain } from '../../src/libvirt/index.ts';
import { chromiumSkipReason, launchChromium } from '../support/chromium.ts';
import { startGateway, type TestGateway } from '../support/gateway.ts';
import { type NoVncPages, noVncState, serveNoVncPages, waitForDrawing } from '../support/novnc-page.ts';
import { openPrivateDaemon, privateDaemon, privateDaemonSkipReason } from '../support/private-daemon.ts';

const skip = privateDaemonSkipReason() ?? chromiumSkipReason;
if (skip) console.warn(`skipping noVNC in Chromium: ${skip}`);

const NAME = 'console-novnc';
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
  let pages: NoVncPages;
  let gw: TestGateway;
  let base: string;
  let c: Connection;
  let dom: Domain;
  let dir: string;
  let browser: BrowserContext;

  beforeAll(async () => {
    const daemon = privateDaemon();
    if (!daemon) throw new Error('unreachable');
    pages = await serveNoVncPages();
    c = await openPrivateDaemon();
    await (await c.domainByName(NAME).catch(() => undefined))?.destroy().catch(() => undefined);
    dom = await c.createDomain(domainXml(daemon.kvm));
    // The page's origin is listed, as an operator lists the frontend's.
    gw = await startGateway({ qemu: daemon.uri }, undefined, { config: { cors: { origins: [pages.origin] } } });
    base = (await gw.app.start()).replace(/^http/, 'ws').replace('/graphql', '');
    dir = await mkdtemp(join(tmpdir(), 'virtql-novnc-'));
    browser = await launchChromium(join(dir, 'profile'));
  }, 120_000);
  afterAll(async () => {
    await browser?.close();
    if (dom && (await dom.isActive().catch(() => false))) await dom.destroy();
    await gw?.close();
    await c?.close();
    await pages?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('connects with an openConsole ticket and draws the display at its framebuffer size', async () => {
    const res = await gw.query<{ openConsole: { ticket: string } }>(
      `mutation { openConsole(input: { domain: { name: "${NAME}" }, kind: VNC }) { ticket } }`,
    );
    expect(res.errors).toBeUndefined();
    const url = `${base}/console?ticket=${res.data?.openConsole.ticket}`;
    const page = await browser.newPage();
    await page.goto(pages.pageFor(url));
    expect(await noVncState(page)).toBe('connected');

    const shot = await gw.query<{ domain: { screenshot: string } }>(
      `{ domain(ref: { name: "${NAME}" }) { screenshot } }`,
    );
    const png = PNG.sync.read(Buffer.from(shot.data?.domain.screenshot ?? '', 'base64'));
    // noVNC sizes its canvas to the framebuffer, and draws something other than one colour.
    await waitForDrawing(page, { width: png.width, height: png.height });
    await page.close();
  });
});
