import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BrowserContext, Page, Request, Response } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromiumSkipReason, launchChromium } from '../support/chromium.ts';
import { startGateway, type TestGateway } from '../support/gateway.ts';
import { fixtureUri } from '../support/test-host.ts';

const skipReason = chromiumSkipReason;

const SUSPEND = 'mutation { suspendDomain(input: { domain: { name: "web" } }) { state } }';

/** The attacker's page: a form into a hidden frame, nothing else; each attack is driven from the test. */
const PAGE = '<!doctype html><html><body><iframe name="sink"></iframe></body></html>';

let gw: TestGateway;
let gatewayUrl: string;
let dir: string;
let auditFile: string;
let attacker: Server;
let attackerUrl: string;
let browser: BrowserContext;
let page: Page;

async function webState(): Promise<string | undefined> {
  const res = await gw.query<{ domain: { state: string } }>('{ domain(ref: { name: "web" }) { state } }');
  return res.data?.domain.state;
}

async function auditLines(): Promise<string[]> {
  const text = await readFile(auditFile, 'utf8').catch((e: NodeJS.ErrnoException) => {
    if (e.code === 'ENOENT') return '';
    throw e;
  });
  return text.split('\n').filter((l) => l !== '');
}

/** Submits an HTML form from the attacker's page into its frame; resolves with the gateway's HTTP status. */
async function submitForm(enctype: string, fields: Record<string, string>): Promise<number> {
  const response = page.waitForResponse((r) => r.url() === gatewayUrl && r.request().method() === 'POST');
  await page.evaluate(
    ({ action, enctype, fields }) => {
      const form = document.createElement('form');
      form.method = 'POST';
      form.action = action;
      form.enctype = enctype;
      form.target = 'sink';
      for (const [name, value] of Object.entries(fields)) {
        const input = document.createElement('input');
        input.type = 'hidden';
        input.name = name;
        input.value = value;
        form.append(input);
      }
      document.body.append(form);
      form.submit();
    },
    { action: gatewayUrl, enctype, fields },
  );
  return (await response).status();
}

describe.skipIf(skipReason !== undefined)(
  skipReason ? `a real Chromium (skipped: ${skipReason})` : 'a real Chromium on a page of another origin',
  () => {
    beforeAll(async () => {
      dir = await mkdtemp(join(tmpdir(), 'virtql-browser-'));
      auditFile = join(dir, 'audit.jsonl');
      // The development mode: no identities, every caller is the anonymous admin. Only the origin checks stand.
      gw = await startGateway({ fixture: fixtureUri }, 'fixture', { config: { audit: { file: auditFile } } });
      gatewayUrl = (await gw.app.start()).replace('//localhost:', '//127.0.0.1:');
      attacker = createServer((_req, res) => res.writeHead(200, { 'content-type': 'text/html' }).end(PAGE));
      await new Promise<void>((resolve) => attacker.listen(0, '127.0.0.1', resolve));
      attackerUrl = `http://127.0.0.1:${(attacker.address() as AddressInfo).port}/`;
      browser = await launchChromium(join(dir, 'profile'));
      page = await browser.newPage();
      await page.goto(attackerUrl);
    }, 60_000);

    afterAll(async () => {
      await browser?.close();
      await new Promise((resolve) => attacker?.close(resolve));
      await gw?.close();
      await rm(dir, { recursive: true, force: true });
    });

    it('a text/plain form POST carrying a JSON body is refused', async () => {
      // The classic trick: name + value of one field make a JSON document.
      const status = await submitForm('text/plain', { [`{"query":${JSON.stringify(SUSPEND)},"x":"`]: '"}' });
      expect(status).toBe(403);
      expect(await webState()).toBe('RUNNING');
    });

    it('an urlencoded form POST is refused', async () => {
      expect(await submitForm('application/x-www-form-urlencoded', { query: SUSPEND })).toBe(403);
      expect(await webState()).toBe('RUNNING');
    });

    it('an image whose URL is a mutation is refused', async () => {
      const src = `${gatewayUrl}?query=${encodeURIComponent(SUSPEND)}`;
      const ours = (r: Request) => r.url().startsWith(`${gatewayUrl}?`);
      let settle: (outcome: string) => void = () => {};
      const outcome = new Promise<string>((resolve) => {
        settle = resolve;
      });
      const answered = (r: Response) => ours(r.request()) && settle(`answered ${r.status()}`);
      // Chromium's opaque-response blocking hides the gateway's JSON refusal from the page (and from the response event).
      const failed = (r: Request) => ours(r) && settle(`failed ${r.failure()?.errorText}`);
      page.on('response', answered).on('requestfailed', failed);
      await page.evaluate((src) => {
        const img = document.createElement('img');
        img.src = src;
        document.body.append(img);
      }, src);
      const seen = await outcome;
      page.off('response', answered).off('requestfailed', failed);
      expect(['answered 403', 'failed net::ERR_BLOCKED_BY_ORB']).toContain(seen);
      expect(await webState()).toBe('RUNNING');
    });

    it('a JSON fetch with credentials never gets past the preflight', async () => {
      const outcome = await page.evaluate(
        async ({ url, query }) => {
          try {
            const res = await fetch(url, {
              method: 'POST',
              credentials: 'include',
              headers: { 'content-type': 'application/json' },
              body: JSON.stringify({ query }),
            });
            return `answered ${res.status}: ${await res.text()}`;
          } catch (e) {
            return `blocked: ${(e as Error).name}`;
          }
        },
        { url: gatewayUrl, query: SUSPEND },
      );
      expect(outcome).toBe('blocked: TypeError');
      expect(await webState()).toBe('RUNNING');
    });

    it('a graphql-transport-ws WebSocket is refused before the handshake', async () => {
      const outcome = await page.evaluate(
        ({ url, query }) =>
          new Promise<string[]>((resolve) => {
            const seen: string[] = [];
            const ws = new WebSocket(url, 'graphql-transport-ws');
            ws.onopen = () => {
              seen.push('open');
              ws.send(JSON.stringify({ type: 'connection_init' }));
            };
            ws.onmessage = (m) => {
              seen.push(String(m.data));
              const { type } = JSON.parse(String(m.data));
              if (type === 'complete' || type === 'error') ws.close();
              if (type === 'connection_ack') {
                ws.send(JSON.stringify({ id: '1', type: 'subscribe', payload: { query } }));
                ws.send(
                  JSON.stringify({
                    id: '2',
                    type: 'subscribe',
                    payload: { query: 'subscription { auditEvents { operation } }' },
                  }),
                );
              }
            };
            ws.onclose = (e) => {
              seen.push(`close ${e.code}`);
              resolve(seen);
            };
          }),
        { url: gatewayUrl.replace(/^http/, 'ws'), query: SUSPEND },
      );
      expect(outcome).toEqual(['close 1006']);
      expect(await webState()).toBe('RUNNING');
    });

    it('ran none of them: no audit record, while the same mutation from a non-browser client works', async () => {
      expect(await auditLines()).toEqual([]);
      expect((await gw.query(SUSPEND)).data).toEqual({ suspendDomain: { state: 'PAUSED' } });
      const lines = await auditLines();
      expect(lines.map((l) => JSON.parse(l).operation)).toEqual(['suspendDomain']);
    });

    it('a page the gateway serves itself (same origin) may still call it', async () => {
      await page.goto(gatewayUrl.replace('/graphql', '/health'));
      const outcome = await page.evaluate(
        async ({ url }) => {
          const res = await fetch(url, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ query: 'mutation { resumeDomain(input: { domain: { name: "web" } }) { state } }' }),
          });
          return res.json();
        },
        { url: gatewayUrl },
      );
      expect(outcome).toEqual({
        extensions: { cost: expect.any(Object) },
        data: { resumeDomain: { state: 'RUNNING' } },
      });
    });

    it('an EventSource on its own page subscribes over GET; one on another site is refused', async () => {
      const subscription = encodeURIComponent('subscription { domainEvents(types: [SUSPENDED]) { type domainName } }');
      const listen = (url: string) =>
        page.evaluate(
          (url) =>
            new Promise<string>((resolve) => {
              const source = new EventSource(url);
              // yoga names its SSE events: `next` carries each result.
              source.addEventListener('next', (e) => {
                source.close();
                resolve(`next ${(e as MessageEvent).data}`);
              });
              source.onopen = () => ((window as unknown as { opened: boolean }).opened = true);
              source.onerror = () => {
                source.close();
                resolve('error');
              };
            }),
          url,
        );
      // Same origin (a page the gateway serves): the subscription opens without the CSRF header.
      const same = listen(`${gatewayUrl}?query=${subscription}`);
      await page.waitForFunction(() => (window as unknown as { opened?: boolean }).opened === true);
      await gw.query(SUSPEND);
      // The first payload tells the subscription's cost: domainEvents, type and domainName.
      expect(await same).toBe(
        'next {"data":{"domainEvents":{"type":"SUSPENDED","domainName":"web"}},"extensions":{"cost":{"requested":3,"limit":50000000}}}',
      );
      await gw.query('mutation { resumeDomain(input: { domain: { name: "web" } }) { state } }');
      // The attacker's page: the browser sends its Origin, which the gate refuses before anything runs.
      await page.goto(attackerUrl);
      expect(await listen(`${gatewayUrl}?query=${subscription}`)).toBe('error');
    });
  },
);
