import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiToken } from '../auth/auth-clients.ts';
import { chromiumSkipReason, launchChromium } from '../support/chromium.ts';
import { startGateway, type TestGateway } from '../support/gateway.ts';
import { fixtureUri } from '../support/test-host.ts';

const skipReason = chromiumSkipReason;
const alice = apiToken('alice');

/** Types the bearer token into GraphiQL's Headers tab and runs the query, which needs it. */
async function signIn(page: Page): Promise<void> {
  await page.locator('.graphiql-execute-button').waitFor({ state: 'visible', timeout: 30_000 });
  // Once the page has settled: the query editor takes the focus when its text arrives.
  await expect.poll(() => page.locator('.graphiql-query-editor').innerText(), { timeout: 30_000 }).toContain('hosts');
  await page.waitForLoadState('networkidle');
  await page.getByRole('button', { name: 'Headers' }).click();
  // The visible one of the tool pane's two editors (variables, headers); typed into only once it has focus.
  const headers = page.locator('.graphiql-editor-tool .graphiql-editor:not(.hidden) .monaco-editor');
  await headers.waitFor({ state: 'visible', timeout: 30_000 });
  await headers.click();
  await expect.poll(() => headers.evaluate((e) => e.contains(document.activeElement))).toBe(true);
  await page.keyboard.press('ControlOrMeta+A');
  await page.keyboard.insertText(JSON.stringify({ Authorization: alice.bearer }));
  await expect.poll(() => headers.innerText()).toContain('Authorization');
  await expect.poll(() => page.locator('.graphiql-query-editor').innerText()).toContain('hosts');
  await page.locator('.graphiql-execute-button').click();
  await expect.poll(() => page.locator('.graphiql-response').innerText(), { timeout: 30_000 }).toContain('"web"');
}

/** Every value of the page's localStorage and sessionStorage, joined. */
const stored = (page: Page, area: 'localStorage' | 'sessionStorage') =>
  page.evaluate((name) => {
    const storage = window[name];
    return Object.keys(storage)
      .map((k) => `${k}=${storage.getItem(k)}`)
      .join('\n');
  }, area);

describe.skipIf(skipReason !== undefined)(
  skipReason ? `GraphiQL credentials (skipped: ${skipReason})` : 'GraphiQL credentials in Chromium',
  () => {
    let dir: string;
    let browser: BrowserContext;
    const gateways: TestGateway[] = [];

    async function open(config: Record<string, unknown>): Promise<string> {
      const gw = await startGateway({ fixture: fixtureUri }, 'fixture', {
        config: { auth: { tokens: [alice.entry], grants: [{ identity: 'alice', role: 'viewer' }] }, ...config },
      });
      gateways.push(gw);
      return (await gw.app.start()).replace('//localhost:', '//127.0.0.1:');
    }

    beforeAll(async () => {
      dir = await mkdtemp(join(tmpdir(), 'virtql-graphiql-credentials-'));
      browser = await launchChromium(join(dir, 'profile'));
    }, 60_000);
    afterAll(async () => {
      await browser?.close();
      for (const gw of gateways) await gw.close();
      await rm(dir, { recursive: true, force: true });
    });

    it('by default keeps the token for the tab only: kept across a reload, never in localStorage, not in a new tab', async () => {
      const url = await open({ graphiql: true });
      // What an older page left in localStorage goes.
      const before = await browser.newPage();
      await before.goto(`${new URL(url).origin}/health`);
      await before.evaluate(() => localStorage.setItem('graphiql:headers', '{"Authorization":"Bearer vq_old"}'));
      await before.close();
      const page = await browser.newPage();
      await page.goto(url);
      await signIn(page);
      // GraphiQL saves its state a moment after an edit.
      await expect.poll(() => stored(page, 'sessionStorage'), { timeout: 10_000 }).toContain(alice.secret);
      expect(await stored(page, 'localStorage')).not.toContain(alice.secret);
      expect(await stored(page, 'localStorage')).not.toContain('vq_old');
      await page.reload();
      await page.locator('.graphiql-execute-button').waitFor({ state: 'visible', timeout: 30_000 });
      expect(await stored(page, 'sessionStorage')).toContain(alice.secret);
      const other = await browser.newPage();
      await other.goto(url);
      await other.locator('.graphiql-execute-button').waitFor({ state: 'visible', timeout: 30_000 });
      expect(await stored(other, 'sessionStorage')).not.toContain(alice.secret);
      expect(await stored(other, 'localStorage')).not.toContain(alice.secret);
      await page.close();
      await other.close();
    }, 120_000);

    it('with graphiqlCredentials: browser keeps it in localStorage, as the operator chose', async () => {
      const url = await open({ graphiql: true, graphiqlCredentials: 'browser' });
      const page = await browser.newPage();
      await page.goto(url);
      await signIn(page);
      await expect.poll(() => stored(page, 'localStorage'), { timeout: 10_000 }).toContain(alice.secret);
      await page.close();
    }, 120_000);
  },
);
