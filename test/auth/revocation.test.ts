import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
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
  untilHub,
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

const domainXml = (name: string) =>
  `<domain type="test"><name>${name}</name><memory unit="KiB">131072</memory><os><type arch="x86_64">hvm</type></os></domain>`;

const alice = apiToken('alice');
const bob = apiToken('bob');
const issuer = await jwtIssuer({ issuer: 'https://idp.test', audience: 'virtql' });

const auth = (tokens: Array<ReturnType<typeof apiToken>>) =>
  authSchema.parse({
    tokens: tokens.map((t) => t.entry),
    jwt: { issuer: 'https://idp.test', audience: 'virtql', publicKey: issuer.publicPem },
    grants: [...tokens.map((t) => ({ identity: t.name, role: 'admin' })), { identity: 'jwt:jo', role: 'admin' }],
  });

describe('revocation and expiry end open sessions', () => {
  let gw: SecuredGateway;
  let conn: Connection;

  beforeAll(async () => {
    gw = await listenSecured(
      { default: 'test:///default' },
      {
        auth: {
          tokens: [alice.entry, bob.entry],
          jwt: { issuer: 'https://idp.test', audience: 'virtql', publicKey: issuer.publicPem },
          grants: [
            { identity: 'alice', role: 'admin' },
            { identity: 'bob', role: 'admin' },
            { identity: 'jwt:jo', role: 'admin' },
          ],
        },
      },
    );
    conn = await gw.registry.connection('default');
  });
  afterEach(async () => {
    stopAll();
    await untilHub(gw.app.events, (s) => s.subscriptions === 0);
  });
  afterAll(async () => {
    await gw?.close();
  });

  it("removing a token and reloading closes its graphql-ws socket (4403) and ends its SSE stream; another token's stay open", async () => {
    const aliceWs = wsConnect(gw.wsUrl, alice.bearer);
    const bobWs = wsConnect(gw.wsUrl, bob.bearer);
    const subs = {
      aliceWs: subscribeWs<DomainEventData>(aliceWs.client, DOMAIN_EVENTS),
      bobWs: subscribeWs<DomainEventData>(bobWs.client, DOMAIN_EVENTS),
      aliceSse: subscribeSse<DomainEventData>(gw.url, DOMAIN_EVENTS, {}, { authorization: alice.bearer }),
      bobSse: subscribeSse<DomainEventData>(gw.url, DOMAIN_EVENTS, {}, { authorization: bob.bearer }),
    };
    await listening(gw.app.events, 4);
    const before = await conn.defineDomain(domainXml('rev-before'));
    for (const sub of Object.values(subs)) await sub.results.next(isDomainEvent('rev-before', 'DEFINED'));

    await gw.app.reloadAuth(auth([bob]));

    expect(await aliceWs.closed).toEqual({ code: 4403, reason: expect.stringMatching(/^INVALID_TOKEN: .*revoked/) });
    expect(await subs.aliceSse.results.ended).toBeUndefined(); // completed by the server, not failed
    expect(subs.aliceSse.results.seen.at(-1)).toEqual({
      errors: [{ message: expect.stringMatching(/revoked/), extensions: { code: 'INVALID_TOKEN' } }],
    });
    await untilHub(gw.app.events, (s) => s.subscriptions === 2);

    const after = await conn.defineDomain(domainXml('rev-after'));
    for (const sub of [subs.bobWs, subs.bobSse]) {
      expect((await sub.results.next(isDomainEvent('rev-after', 'DEFINED'))).errors).toBeUndefined();
    }
    expect(subs.aliceSse.results.seen.some(isDomainEvent('rev-after', 'DEFINED'))).toBe(false);
    expect(subs.aliceWs.results.seen.some(isDomainEvent('rev-after', 'DEFINED'))).toBe(false);

    // New requests with the revoked token are refused; the other one still works.
    expect((await postGraphQL(gw.url, '{ hosts { name } }', { authorization: alice.bearer })).status).toBe(401);
    expect((await postGraphQL(gw.url, '{ hosts { name } }', { authorization: bob.bearer })).status).toBe(200);

    await Promise.all([before.undefine(), after.undefine()]);
    await bobWs.client.dispose();
    await gw.app.reloadAuth(auth([alice, bob]));
  });

  it('a reload that keeps the token leaves its sessions alone', async () => {
    const ws = wsConnect(gw.wsUrl, alice.bearer);
    const sub = subscribeWs<DomainEventData>(ws.client, DOMAIN_EVENTS);
    await listening(gw.app.events, 1);
    await gw.app.reloadAuth(auth([alice, bob]));
    const d = await conn.defineDomain(domainXml('rev-kept'));
    await sub.results.next(isDomainEvent('rev-kept', 'DEFINED'));
    await d.undefine();
    await ws.client.dispose();
  });

  it('a reload with a bad configuration is refused and the previous one stays', async () => {
    const ws = wsConnect(gw.wsUrl, alice.bearer);
    await wsQuery(ws.client, '{ hosts { name } }');
    const bad = authSchema.parse({ tokens: [bob.entry], grants: [{ identity: 'bob', role: 'no-such-role' }] });
    await expect(gw.app.reloadAuth(bad)).rejects.toThrow(/no role named "no-such-role"/);
    expect((await postGraphQL(gw.url, '{ hosts { name } }', { authorization: alice.bearer })).status).toBe(200);
    expect(await wsQuery(ws.client, '{ hosts { name } }')).toEqual({
      extensions: { cost: expect.any(Object) },
      data: { hosts: [{ name: 'default' }] },
    });
    await ws.client.dispose();
  });

  it('a JWT session ends when the token expires, with TOKEN_EXPIRED', async () => {
    const jwt = await issuer.sign({ sub: 'jo' }, { expiresIn: Math.floor(Date.now() / 1000) + 2 });
    const ws = wsConnect(gw.wsUrl, `Bearer ${jwt}`);
    const sub = subscribeWs<DomainEventData>(ws.client, DOMAIN_EVENTS);
    const sse = subscribeSse<DomainEventData>(gw.url, DOMAIN_EVENTS, {}, { authorization: `Bearer ${jwt}` });
    await listening(gw.app.events, 2);
    expect(await ws.closed).toEqual({ code: 4403, reason: expect.stringMatching(/^TOKEN_EXPIRED: /) });
    expect(await sse.results.ended).toBeUndefined();
    expect(sse.results.seen).toEqual([
      {
        extensions: { cost: expect.any(Object) },
        errors: [{ message: 'token: the JWT has expired', extensions: { code: 'TOKEN_EXPIRED' } }],
      },
    ]);
    expect(sub.results.seen).toEqual([]);
  });

  it('a JWT valid for a month keeps its session (timers past 24.8 days must not fire at once)', async () => {
    const jwt = await issuer.sign({ sub: 'jo' }, { expiresIn: '30d' });
    const ws = wsConnect(gw.wsUrl, `Bearer ${jwt}`);
    const sub = subscribeWs<DomainEventData>(ws.client, DOMAIN_EVENTS);
    const sse = subscribeSse<DomainEventData>(gw.url, DOMAIN_EVENTS, {}, { authorization: `Bearer ${jwt}` });
    const closedEarly = ws.closed.then(({ code, reason }) => {
      throw new Error(`the socket closed: ${code} ${reason}`);
    });
    await Promise.race([listening(gw.app.events, 2), closedEarly]);
    const d = await conn.defineDomain(domainXml('rev-month'));
    await sub.results.next(isDomainEvent('rev-month', 'DEFINED'));
    await sse.results.next(isDomainEvent('rev-month', 'DEFINED'));
    expect(await wsQuery(ws.client, '{ hosts { name } }')).toEqual({
      extensions: { cost: expect.any(Object) },
      data: { hosts: [{ name: 'default' }] },
    });
    await d.undefine();
    await ws.client.dispose();
  });
});
