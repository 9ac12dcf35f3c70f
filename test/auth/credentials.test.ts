import { createClient } from 'graphql-ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { createApiToken } from '../../src/auth/authenticator.ts';
import { authSchema } from '../../src/config/security-schema.ts';
import type { Connection } from '../../src/libvirt/index.ts';
import {
  DOMAIN_EVENTS,
  type DomainEventData,
  isDomainEvent,
  listening,
  stopAll,
  subscribeSse,
  subscribeWs,
} from '../events/event-clients.ts';
import {
  apiToken,
  jwtIssuer,
  listenSecured,
  postGraphQL,
  type SecuredGateway,
  wsConnect,
  wsQuery,
} from './auth-clients.ts';

const HOSTS = '{ hosts { name } }';
const domainXml = (name: string) =>
  `<domain type="test"><name>${name}</name><memory unit="KiB">131072</memory><os><type arch="x86_64">hvm</type></os></domain>`;

const alice = apiToken('alice');
const retired = apiToken('retired');
const issuer = await jwtIssuer({ issuer: 'https://idp.test', audience: 'virtql' });
const expired = await issuer.sign({ sub: 'jo' }, { expiresIn: Math.floor(Date.now() / 1000) - 60 });

const auth = (tokens: Array<ReturnType<typeof apiToken>>) => ({
  tokens: tokens.map((t) => t.entry),
  jwt: { issuer: 'https://idp.test', audience: 'virtql', publicKey: issuer.publicPem },
  grants: [...tokens.map((t) => ({ identity: t.name, role: 'admin' })), { identity: 'jo', role: 'admin' }],
});

/** Each bad credential, as sent in `Authorization`, with the code and message it is refused with. */
const REFUSED: Array<[string, string | undefined, string, RegExp]> = [
  ['missing', undefined, 'UNAUTHENTICATED', /authentication required/],
  ['not a bearer', 'Basic YWxpY2U6cGFzc3dvcmQ=', 'INVALID_TOKEN', /expected "Bearer <token>"/],
  ['a malformed API token', 'Bearer vq_tooShort', 'INVALID_TOKEN', /malformed API token/],
  ['a malformed JWT', 'Bearer not-a.jwt', 'INVALID_TOKEN', /malformed/],
  ['an unknown API token', `Bearer ${createApiToken().secret}`, 'INVALID_TOKEN', /unknown or revoked/],
  ['an expired JWT', `Bearer ${expired}`, 'TOKEN_EXPIRED', /expired/],
  ['a revoked API token', retired.bearer, 'INVALID_TOKEN', /unknown or revoked/],
];

describe('credentials over HTTP, SSE and graphql-ws', () => {
  let gw: SecuredGateway;
  let conn: Connection;

  beforeAll(async () => {
    gw = await listenSecured({ default: 'test:///default' }, { auth: auth([alice, retired]) });
    conn = await gw.registry.connection('default');
    // `retired` works until the config that drops it is reloaded.
    expect((await postGraphQL(gw.url, HOSTS, { authorization: retired.bearer })).status).toBe(200);
    await gw.app.reloadAuth(authSchema.parse(auth([alice])));
  });
  afterAll(async () => {
    stopAll();
    await gw?.close();
  });

  describe.each(REFUSED)('%s', (_, authorization, code, message) => {
    const headers: Record<string, string> = authorization ? { authorization } : {};

    it('HTTP: 401 with the code, before any GraphQL runs', async () => {
      const res = await postGraphQL(gw.url, HOSTS, headers);
      expect(res.status).toBe(401);
      expect(res.body.data).toBeUndefined();
      expect(res.body.errors).toEqual([{ message: expect.stringMatching(message), extensions: { code } }]);
    });

    it('SSE: 401 with the code instead of a stream', async () => {
      const res = await fetch(gw.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'text/event-stream', ...headers },
        body: JSON.stringify({ query: DOMAIN_EVENTS }),
      });
      expect(res.status).toBe(401);
      expect(res.headers.get('content-type')).toMatch(/application\/json/);
      expect(await res.json()).toEqual({ errors: [{ message: expect.stringMatching(message), extensions: { code } }] });
    });

    it('graphql-ws: closed with 4401 and "CODE: message" before any operation', async () => {
      const ws = wsConnect(gw.wsUrl, authorization);
      const result = wsQuery(ws.client, HOSTS);
      const closed = await ws.closed;
      expect(closed.code).toBe(4401);
      expect(closed.reason).toMatch(new RegExp(`^${code}: `));
      expect(closed.reason).toMatch(message);
      await expect(result).rejects.toMatchObject({ code: 4401 });
      await ws.client.dispose();
    });
  });

  describe('a valid API token', () => {
    it('HTTP: answers the query', async () => {
      const res = await postGraphQL(gw.url, HOSTS, { authorization: alice.bearer });
      expect(res).toEqual({
        status: 200,
        body: { extensions: { cost: expect.any(Object) }, data: { hosts: [{ name: 'default' }] } },
      });
    });

    it('graphql-ws: in connectionParams, queries and subscriptions run', async () => {
      const ws = wsConnect(gw.wsUrl, alice.bearer);
      expect(await wsQuery(ws.client, HOSTS)).toEqual({
        extensions: { cost: expect.any(Object) },
        data: { hosts: [{ name: 'default' }] },
      });
      const sub = subscribeWs<DomainEventData>(ws.client, DOMAIN_EVENTS, { domain: { name: 'auth-ws' } });
      await listening(gw.app.events, 1);
      const d = await conn.defineDomain(domainXml('auth-ws'));
      await sub.results.next(isDomainEvent('auth-ws', 'DEFINED'));
      await d.undefine();
      sub.stop();
      await ws.client.dispose();
    });

    it('graphql-ws: connectionParams.authorization that is not a string is refused like a malformed header', async () => {
      const closed = new Promise<{ code: number; reason: string }>((resolve) => {
        const client = createClient({
          url: gw.wsUrl,
          webSocketImpl: WebSocket,
          retryAttempts: 0,
          connectionParams: { authorization: { bearer: alice.secret } },
          on: { closed: (e) => resolve(e as { code: number; reason: string }) },
        });
        void wsQuery(client, HOSTS).catch(() => undefined);
      });
      expect(await closed).toMatchObject({ code: 4401, reason: expect.stringMatching(/^INVALID_TOKEN: /) });
    });

    it("graphql-ws: in the upgrade request's Authorization header", async () => {
      const ws = wsConnect(gw.wsUrl, undefined, { headers: { authorization: alice.bearer } });
      expect(await wsQuery(ws.client, HOSTS)).toEqual({
        extensions: { cost: expect.any(Object) },
        data: { hosts: [{ name: 'default' }] },
      });
      await ws.client.dispose();
      const bad = wsConnect(gw.wsUrl, undefined, { headers: { authorization: retired.bearer } });
      void wsQuery(bad.client, HOSTS).catch(() => undefined);
      expect(await bad.closed).toMatchObject({ code: 4401, reason: expect.stringMatching(/^INVALID_TOKEN: /) });
    });

    it('SSE: the subscription streams events', async () => {
      const sub = subscribeSse<DomainEventData>(
        gw.url,
        DOMAIN_EVENTS,
        { domain: { name: 'auth-sse' } },
        {
          authorization: alice.bearer,
        },
      );
      await listening(gw.app.events, 1);
      const d = await conn.defineDomain(domainXml('auth-sse'));
      expect((await sub.results.next(isDomainEvent('auth-sse', 'DEFINED'))).errors).toBeUndefined();
      await d.undefine();
      sub.stop();
    });
  });

  describe('without credentials', () => {
    it('/health answers', async () => {
      const res = await fetch(gw.url.replace('/graphql', '/health'));
      expect(res.status).toBe(200);
    });

    it('GraphiQL serves its page, but a query in the URL is refused', async () => {
      const page = await fetch(gw.url, { headers: { accept: 'text/html' } });
      expect(page.status).toBe(200);
      expect(await page.text()).toMatch(/<html/i);
      const get = await fetch(`${gw.url}?query=${encodeURIComponent(HOSTS)}`, {
        headers: { accept: 'application/json' },
      });
      expect(get.status).toBe(401);
    });

    it.each(['/graphql/', '/GRAPHQL', '/graphql;x', '//graphql', '/%67raphql'])(
      'no other spelling of %s reaches GraphQL unauthenticated',
      async (path) => {
        const res = await fetch(gw.url.replace('/graphql', path), {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ query: HOSTS }),
        });
        const text = await res.text();
        expect(text).not.toMatch(/"hosts"/);
      },
    );
  });
});
