import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isLoopbackHost } from '../../src/security/loopback-host.ts';
import { chromiumSkipReason, launchChromium } from '../support/chromium.ts';
import { startGateway, type TestGateway } from '../support/gateway.ts';
import { fixtureUri } from '../support/test-host.ts';

const skipReason = chromiumSkipReason;

/** Whether a URL the page asked for stays on this machine (blob: and data: URLs never leave the page). */
function staysLocal(url: string): boolean {
  const parsed = new URL(url);
  if (parsed.protocol === 'blob:' || parsed.protocol === 'data:') return true;
  return isLoopbackHost(parsed.host);
}

describe.skipIf(skipReason !== undefined)(
  skipReason
    ? `GraphiQL in Chromium (skipped: ${skipReason})`
    : 'GraphiQL in Chromium without any network beyond loopback',
  () => {
    let gw: TestGateway;
    let origin: string;
    let dir: string;
    let browser: BrowserContext;
    let page: Page;
    const leftLoopback: string[] = [];
    const requested: string[] = [];

    beforeAll(async () => {
      dir = await mkdtemp(join(tmpdir(), 'virtql-graphiql-'));
      gw = await startGateway({ fixture: fixtureUri });
      origin = new URL(await gw.app.start()).origin.replace('//localhost:', '//127.0.0.1:');
      browser = await launchChromium(join(dir, 'profile'));
      browser.on('request', (request) => requested.push(request.url()));
      await browser.route('**/*', (route) => {
        const url = route.request().url();
        if (staysLocal(url)) return route.continue();
        leftLoopback.push(url);
        return route.abort('internetdisconnected');
      });
      page = await browser.newPage();
    }, 60_000);

    afterAll(async () => {
      await browser?.close();
      await gw?.close();
      await rm(dir, { recursive: true, force: true });
    });

    it('opens from /, titled virtql, and runs its example query on the test driver', async () => {
      const response = await page.goto(`${origin}/`);
      expect(new URL(page.url()).pathname).toBe('/graphql');
      expect(response?.status()).toBe(200);
      expect(await page.title()).toBe('virtql');
      const run = page.locator('.graphiql-execute-button');
      await run.waitFor({ state: 'visible', timeout: 30_000 });
      await expect
        .poll(() => page.locator('.graphiql-query-editor').innerText(), { timeout: 30_000 })
        .toContain('hosts');
      await run.click();
      const result = page.locator('.graphiql-response');
      await expect.poll(() => result.innerText(), { timeout: 30_000 }).toContain('"web"');
      const text = await result.innerText();
      expect(text).toContain('"db"');
      expect(text).toContain('"RUNNING"');
      // Everything the page loaded came from the gateway, the Monaco workers included.
      expect(requested.some((url) => url.includes('/graphiql/') && url.endsWith('.worker.js'))).toBe(true);
      expect(leftLoopback).toEqual([]);
    }, 90_000);

    it('runs a subscription over SSE with the CSRF header, and shows its events', async () => {
      await page.locator('.graphiql-query-editor .monaco-editor').first().click();
      await page.keyboard.press('ControlOrMeta+A');
      await page.keyboard.insertText('subscription Watch { domainEvents { domainName domain { state } } }');
      await expect.poll(() => page.locator('.graphiql-query-editor').innerText()).toContain('Watch');
      const streaming = page.waitForResponse(
        (r) =>
          r.url().startsWith(`${origin}/graphql`) && `${r.url()} ${r.request().postData() ?? ''}`.includes('Watch'),
      );
      await page.locator('.graphiql-execute-button').click();
      const response = await streaming;
      expect(response.status()).toBe(200);
      expect(response.request().headers()['x-graphql-yoga-csrf']).toBeDefined();
      const suspended = await gw.query('mutation { suspendDomain(input: { domain: { name: "web" } }) { state } }');
      expect(suspended.errors).toBeUndefined();
      await expect
        .poll(() => page.locator('.graphiql-response').innerText(), { timeout: 30_000 })
        .toContain('"PAUSED"');
      expect(await page.locator('.graphiql-response').innerText()).toContain('"web"');
      expect(leftLoopback).toEqual([]);
    }, 90_000);

    it('names no outside URL in its HTML', async () => {
      const res = await gw.app.yoga.fetch('http://localhost/graphql', { headers: { accept: 'text/html' } });
      const html = await res.text();
      expect(html).toContain('<title>virtql</title>');
      expect(html).not.toMatch(/https?:\/\//);
      expect(html.length).toBeLessThan(10_000);
    });
  },
);
