import { readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { dirname, join, normalize } from 'node:path';
import type { Page } from 'playwright-core';

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

export interface NoVncPages {
  /** http://127.0.0.1:PORT: list it in cors.origins. */
  origin: string;
  /** The page's address for a console WebSocket URL. */
  pageFor(url: string): string;
  close(): Promise<void>;
}

/** Serves the page and noVNC's modules on a port of its own. */
export async function serveNoVncPages(): Promise<NoVncPages> {
  const server: Server = createServer((req, res) => {
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
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    origin,
    pageFor: (url) => `${origin}/?url=${encodeURIComponent(url)}`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

/** noVNC's state once it left `connecting`: connected, closed or failed. */
export async function noVncState(page: Page): Promise<string> {
  // The page's module may not have run yet when the wait starts: until window.vnc exists, keep waiting.
  await page.waitForFunction(() => {
    const state = (window as unknown as { vnc?: { state: string } }).vnc?.state;
    return state !== undefined && state !== 'connecting';
  });
  return page.evaluate(() => (window as unknown as { vnc: { state: string } }).vnc.state);
}

/** Waits until noVNC's canvas has the framebuffer's size and holds more than one colour. */
export async function waitForDrawing(page: Page, size: { width: number; height: number }): Promise<void> {
  await page.waitForFunction(({ width, height }) => {
    const canvas = document.querySelector('#screen canvas') as HTMLCanvasElement | null;
    if (!canvas || canvas.width !== width || canvas.height !== height) return false;
    const data = canvas.getContext('2d')?.getImageData(0, 0, width, height).data;
    if (!data) return false;
    for (let i = 4; i < data.length; i += 4) if (data[i] !== data[0]) return true;
    return false;
  }, size);
}
