import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import pino from 'pino';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type App, buildApp } from '../../src/app.ts';
import { createApiToken } from '../../src/auth/authenticator.ts';
import { resolveConfig } from '../../src/config/config.ts';
import { HostRegistry } from '../../src/hosts/host-registry.ts';
import { listening } from '../events/event-clients.ts';
import { chromiumSkipReason, launchChromium } from '../support/chromium.ts';

const EVENTS = 'subscription { domainEvents(types: [SUSPENDED]) { type domainName } }';
const OTHER = 'subscription { domainEvents { type domainName host { name } } }';
const ISSUE = `mutation ($query: String!, $variables: String) {
  createStreamTicket(input: { query: $query, variables: $variables }) { ticket url expiresAt }
}`;

const token = createApiToken();
const authConfig = {
  tokens: [{ name: 'web', sha256: token.sha256 }],
  grants: [{ identity: 'web', role: 'operator', hosts: ['*'] }],
};

let dir: string;
let app: App;
let registry: HostRegistry;
let gatewayUrl: string;
let attacker: Server;
let attackerUrl: string;
let browser: BrowserContext;
let page: Page;
let auth: Parameters<App['reloadAuth']>[0];
/** Every line the gateway logged, at debug level (yoga's own messages included). */
const logged: string[] = [];
/** Every ticket the tests were given. */
const tickets: string[] = [];

interface Issued {
  ticket: string;
  url: string;
  expiresAt: string;
}

/** What a page of the gateway's origin does: a POST with its bearer token for a ticket. */
async function issue(query: string, variables?: Record<string, unknown>): Promise<Issued> {
  return page
    .evaluate(
      async ({ endpoint, secret, mutation, query, variables }) => {
        const res = await fetch(endpoint, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${secret}` },
          body: JSON.stringify({
            query: mutation,
            variables: { query, variables: variables ? JSON.stringify(variables) : null },
          }),
        });
        const body = await res.json();
        if (!body.data) throw new Error(JSON.stringify(body));
        return body.data.createStreamTicket;
      },
      { endpoint: gatewayUrl, secret: token.secret, mutation: ISSUE, query, variables },
    )
    .then((issued: Issued) => {
      tickets.push(issued.ticket);
      return issued;
    });
}

/** A native EventSource on `url`: resolves with its first `next` payload, or `error` (the browser hides the status). */
function eventSource(url: string): Promise<string> {
  return page.evaluate(
    (url) =>
      new Promise<string>((resolve) => {
        const source = new EventSource(url);
        const w = window as unknown as { sources?: EventSource[] };
        w.sources = [...(w.sources ?? []), source];
        source.onopen = () => ((window as unknown as { opened: number }).opened = 1);
        source.addEventListener('next', (e) => resolve(`next ${(e as MessageEvent).data}`));
        source.onerror = () => {
          source.close();
          resolve('error');
        };
      }),
    url,
  );
}

/**
 * What the gateway answers the GET an EventSource on `url` sends (same origin, Accept:
 * text/event-stream, no Authorization), made with fetch so the status and code can be read; the
 * browser hides both from an EventSource.
 */
async function refusedStream(url: string): Promise<{ status: number; code: unknown }> {
  const { status, text } = await page.evaluate(async (url) => {
    const res = await fetch(url, { headers: { accept: 'text/event-stream' } });
    return { status: res.status, text: await res.text() };
  }, url);
  // A refusal before parsing is JSON; one after it, yoga sends as the stream's only event.
  const json = text.startsWith('{') ? text : (/^data: (.*)$/m.exec(text)?.[1] ?? '{}');
  const body = JSON.parse(json) as { errors?: Array<{ extensions?: { code?: unknown } }> };
  return { status, code: body.errors?.[0]?.extensions?.code };
}

/** An EventSource on `url` fails, and the status the browser saw. */
async function failedEventSource(url: string): Promise<number> {
  const response = page.waitForResponse((r) => r.url() === url);
  expect(await eventSource(url)).toBe('error');
  return (await response).status();
}

async function suspendAndResume(): Promise<void> {
  const domain = await (await registry.connection()).domainByName('test');
  await domain.suspend();
  await domain.resume();
}

describe.skipIf(chromiumSkipReason !== undefined)(
  chromiumSkipReason
    ? `EventSource with a stream ticket (skipped: ${chromiumSkipReason})`
    : 'a native EventSource in Chromium, authenticated by a stream ticket',
  () => {
    beforeAll(async () => {
      dir = await mkdtemp(join(tmpdir(), 'virtql-stream-ticket-'));
      const config = await resolveConfig(
        { auth: authConfig },
        { env: { VIRTQL_HOSTS: 'default=test:///default', VIRTQL_DEFAULT_HOST: 'default' } },
      );
      auth = config.security.auth;
      const sink = new Writable({
        write(chunk, _encoding, done) {
          logged.push(String(chunk));
          done();
        },
      });
      const logger = pino({ level: 'debug' }, sink);
      registry = new HostRegistry(config, { logger, readyTimeoutMs: 2_000 });
      app = buildApp({ registry, logger, security: config.security, port: 0, hostname: '127.0.0.1' });
      gatewayUrl = (await app.start()).replace('//localhost:', '//127.0.0.1:');
      attacker = createServer((_req, res) =>
        res.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html>'),
      );
      await new Promise<void>((resolve) => attacker.listen(0, '127.0.0.1', resolve));
      attackerUrl = `http://127.0.0.1:${(attacker.address() as AddressInfo).port}/`;
      browser = await launchChromium(join(dir, 'profile'));
      page = await browser.newPage();
      // A page on the gateway's own origin, as a frontend served with it (or behind the same proxy) is.
      await page.goto(gatewayUrl.replace('/graphql', '/health'));
    }, 60_000);

    afterAll(async () => {
      await browser?.close();
      await new Promise((resolve) => attacker?.close(resolve));
      await app?.stop();
      await rm(dir, { recursive: true, force: true });
    });

    it('without a ticket, an EventSource is refused 401: it cannot send Authorization', async () => {
      const url = `${gatewayUrl}?query=${encodeURIComponent(EVENTS)}`;
      expect(await failedEventSource(url)).toBe(401);
      expect(await refusedStream(url)).toEqual({ status: 401, code: 'UNAUTHENTICATED' });
    });

    it('a page gets a ticket and its native EventSource receives a domain event', async () => {
      const issued = await issue(EVENTS);
      const url = new URL(issued.url);
      expect(`${url.origin}${url.pathname}`).toBe(gatewayUrl);
      expect([...url.searchParams]).toEqual([
        ['query', EVENTS],
        ['ticket', issued.ticket],
      ]);
      expect(Date.parse(issued.expiresAt) - Date.now()).toBeGreaterThan(50_000);
      const received = eventSource(issued.url);
      await page.waitForFunction(() => (window as unknown as { opened?: number }).opened === 1);
      await listening(app.events, 1);
      await suspendAndResume();
      const [event, body] = ((await received) as string).split(/ (.*)/s);
      expect(event).toBe('next');
      // The first payload also carries extensions.cost; the event is its data.
      expect(JSON.parse(body as string).data).toEqual({ domainEvents: { type: 'SUSPENDED', domainName: 'test' } });
      await page.evaluate(() => {
        for (const s of (window as unknown as { sources: EventSource[] }).sources) s.close();
      });

      // Used once: the same URL again is refused.
      expect(await failedEventSource(issued.url)).toBe(401);
    });

    it('a ticket for one document runs no other, nor other variables', async () => {
      const issued = await issue(EVENTS);
      const other = issued.url.replace(/query=[^&]*/, `query=${encodeURIComponent(OTHER)}`);
      expect(await refusedStream(other)).toEqual({ status: 403, code: 'FORBIDDEN' });
      const withVariables = await issue('subscription ($t: [DomainEventType!]) { domainEvents(types: $t) { type } }', {
        t: ['SUSPENDED'],
      });
      const swapped = withVariables.url.replace(/variables=[^&]*/, `variables=${encodeURIComponent('{"t":null}')}`);
      expect(await refusedStream(swapped)).toEqual({ status: 403, code: 'FORBIDDEN' });
    });

    it('a ticket is never taken on POST, nor for a mutation', async () => {
      const issued = await issue(EVENTS);
      const status = await page.evaluate(
        async ({ url, query }) =>
          (
            await fetch(url, {
              method: 'POST',
              headers: { 'content-type': 'application/json' },
              body: JSON.stringify({ query }),
            })
          ).status,
        { url: issued.url, query: EVENTS },
      );
      expect(status).toBe(401);
      const mutation = await page.evaluate(
        async ({ endpoint, secret, mutation }) =>
          (
            await fetch(endpoint, {
              method: 'POST',
              headers: { 'content-type': 'application/json', authorization: `Bearer ${secret}` },
              body: JSON.stringify({
                query: mutation,
                variables: { query: 'mutation { suspendDomain(input: { domain: { name: "test" } }) { state } }' },
              }),
            })
          ).json(),
        { endpoint: gatewayUrl, secret: token.secret, mutation: ISSUE },
      );
      expect(mutation.errors[0].extensions).toMatchObject({ code: 'INVALID_INPUT', field: 'query' });
    });

    it('a ticket sent from another site is refused: by its Origin (EventSource), or Sec-Fetch-Site (an image)', async () => {
      const stolen = await issue(EVENTS);
      const viaImage = await issue(EVENTS);
      await page.goto(attackerUrl);
      try {
        // The gate refuses its Origin before the ticket is looked at (CORS hides the 403 from the page: its log says it).
        const before = logged.length;
        expect(await eventSource(stolen.url)).toBe('error');
        const refusals = logged.slice(before).map((l) => JSON.parse(l) as Record<string, unknown>);
        expect(refusals.filter((r) => r.msg === 'request refused')).toEqual([
          expect.objectContaining({ status: 403, code: 'FORBIDDEN', reason: expect.stringMatching(/origin/i) }),
        ]);
        let settle: (outcome: string) => void = () => {};
        const outcome = new Promise<string>((resolve) => {
          settle = resolve;
        });
        page.on('response', (r) => r.url() === viaImage.url && settle(`answered ${r.status()}`));
        page.on('requestfailed', (r) => r.url() === viaImage.url && settle(`failed ${r.failure()?.errorText}`));
        await page.evaluate((src) => {
          const img = document.createElement('img');
          img.src = src;
          document.body.append(img);
        }, viaImage.url);
        expect(['answered 403', 'failed net::ERR_BLOCKED_BY_ORB']).toContain(await outcome);
        page.removeAllListeners('response').removeAllListeners('requestfailed');
      } finally {
        await page.goto(gatewayUrl.replace('/graphql', '/health'));
      }
      // The image burnt its ticket even though it was refused.
      expect(await refusedStream(viaImage.url)).toEqual({ status: 401, code: 'UNAUTHENTICATED' });
    });

    it('revoking the identity ends the stream, as any SSE stream', async () => {
      const issued = await issue(EVENTS);
      const last = page.evaluate(
        (url) =>
          new Promise<string>((resolve) => {
            const source = new EventSource(url);
            source.onopen = () => ((window as unknown as { revocable: number }).revocable = 1);
            source.addEventListener('next', (e) => {
              source.close();
              resolve((e as MessageEvent).data);
            });
          }),
        issued.url,
      );
      await page.waitForFunction(() => (window as unknown as { revocable?: number }).revocable === 1);
      await listening(app.events, 1);
      await app.reloadAuth({ ...auth, tokens: [{ name: 'other', sha256: createApiToken().sha256, groups: [] }] });
      expect(JSON.parse(await last)).toMatchObject({ errors: [{ extensions: { code: 'INVALID_TOKEN' } }] });
    });

    it('logged no ticket, at debug level, though it logged the refusals and operations', () => {
      const log = logged.join('');
      expect(tickets.length).toBe(7);
      expect(log).toContain('"msg":"request refused"');
      expect(log).toContain('"operationName"');
      for (const ticket of tickets) expect(log).not.toContain(ticket);
      expect(log).not.toContain('ticket=');
    });
  },
);
