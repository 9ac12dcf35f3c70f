import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type App, buildApp } from '../../src/app.ts';
import { AuthService } from '../../src/auth/auth-service.ts';
import { createApiToken } from '../../src/auth/authenticator.ts';
import { requestIdentity } from '../../src/auth/use-authentication.ts';
import { resolveConfig } from '../../src/config/config.ts';
import { authSchema } from '../../src/config/security-schema.ts';
import { HostRegistry } from '../../src/hosts/host-registry.ts';
import { createStreamTickets, type StreamGrant } from '../../src/security/stream-tickets.ts';
import { createMemoryTicketStore, type TicketStore } from '../../src/security/ticket-store.ts';
import { startRedis, stopRedis } from '../support/redis-server.ts';

const QUERY = 'subscription { domainEvents { type } }';
const token = createApiToken();
const authConfig = authSchema.parse({
  tokens: [{ name: 'web', sha256: token.sha256 }],
  grants: [{ identity: 'web', role: 'operator' }],
});

/** Tickets over a memory store on a clock the test moves; `stored` sees every grant the store is given. */
function setup() {
  let clock = 1_000_000;
  const now = () => clock;
  const memory = createMemoryTicketStore<StreamGrant>(now);
  const stored: StreamGrant[] = [];
  const store: TicketStore<StreamGrant> = {
    ...memory,
    put: (t, g) => {
      stored.push(g);
      return memory.put(t, g);
    },
  };
  const auth = new AuthService(authConfig);
  const tickets = createStreamTickets({ store, auth, ttlSeconds: 60, now });
  const issue = async () => {
    const identity = await auth.authenticate({ authorization: `Bearer ${token.secret}` });
    return (await tickets.issue({ identity, credentials: { authorization: `Bearer ${token.secret}` }, query: QUERY }))
      .ticket;
  };
  const get = (ticket: string, headers: Record<string, string> = {}, method = 'GET') =>
    new Request(`http://127.0.0.1/graphql?query=${encodeURIComponent(QUERY)}&ticket=${ticket}`, { method, headers });
  return { tickets, auth, issue, get, stored, advance: (ms: number) => (clock += ms) };
}

describe('stream tickets', () => {
  it('admit the identity once, and never again', async () => {
    const { tickets, issue, get } = setup();
    const ticket = await issue();
    const first = get(ticket, { 'sec-fetch-site': 'same-origin' });
    expect(await tickets.admit(first, undefined)).toBeUndefined();
    expect(requestIdentity(first)?.key).toBe('token:web');
    expect(await tickets.admit(get(ticket), undefined)).toEqual({
      code: 'UNAUTHENTICATED',
      message: 'the stream ticket is unknown, expired or already used',
    });
  });

  it('expire after their seconds', async () => {
    const { tickets, issue, get, advance } = setup();
    const ticket = await issue();
    advance(60_000);
    expect(await tickets.admit(get(ticket), undefined)).toMatchObject({ code: 'UNAUTHENTICATED' });
  });

  it('are refused from another site (and used up), on POST, beside credentials, and after revocation', async () => {
    const { tickets, auth, issue, get } = setup();
    const crossSite = await issue();
    expect(await tickets.admit(get(crossSite, { 'sec-fetch-site': 'cross-site' }), undefined)).toMatchObject({
      status: 403,
      code: 'FORBIDDEN',
    });
    expect(await tickets.admit(get(crossSite), undefined)).toMatchObject({ code: 'UNAUTHENTICATED' });
    expect(await tickets.admit(get(await issue(), {}, 'POST'), undefined)).toMatchObject({ code: 'UNAUTHENTICATED' });
    const both = get(await issue(), { authorization: `Bearer ${token.secret}` });
    expect(await tickets.admit(both, undefined)).toMatchObject({ code: 'INVALID_TOKEN' });
    const revoked = await issue();
    await auth.reload({ ...authConfig, tokens: [{ name: 'web', sha256: createApiToken().sha256, groups: [] }] });
    expect(await tickets.admit(get(revoked), undefined)).toMatchObject({ code: 'INVALID_TOKEN' });
  });

  it('keep the credentials sealed: the store holds no bearer token', async () => {
    const { issue, stored } = setup();
    await issue();
    expect(stored).toHaveLength(1);
    expect(JSON.stringify(stored)).not.toContain(token.secret);
    expect(JSON.stringify(stored)).not.toContain('Bearer');
  });
});

const redis = await startRedis();
if ('unavailable' in redis) console.warn(`skipping the stream tickets across replicas: ${redis.unavailable}`);

describe.skipIf('unavailable' in redis)('stream tickets across replicas (Redis)', () => {
  const replicas: App[] = [];
  beforeAll(async () => {
    for (let i = 0; i < 2; i++) {
      const config = await resolveConfig(
        { auth: { tokens: [{ name: 'web', sha256: token.sha256 }], grants: [{ identity: 'web', role: 'operator' }] } },
        { env: { VIRTQL_HOSTS: 'default=test:///default' } },
      );
      const logger = pino({ level: 'silent' });
      const registry = new HostRegistry(config, { logger, readyTimeoutMs: 2_000 });
      const url = 'unavailable' in redis ? '' : redis.url;
      replicas.push(buildApp({ registry, logger, security: config.security, redis: { url } }));
    }
  });
  afterAll(async () => {
    for (const app of replicas) await app.stop();
    if (!('unavailable' in redis)) await stopRedis(redis.process);
  });

  it('a ticket issued by one replica is taken by the other, once', async () => {
    const [a, b] = replicas as [App, App];
    const res = await a.yoga.fetch('http://localhost/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token.secret}` },
      body: JSON.stringify({
        query: 'mutation ($q: String!) { createStreamTicket(input: { query: $q }) { url } }',
        variables: { q: '{ hosts { name } }' },
      }),
    });
    const { url } = ((await res.json()) as { data: { createStreamTicket: { url: string } } }).data.createStreamTicket;
    const taken = await b.yoga.fetch(url);
    expect(await taken.json()).toMatchObject({ data: { hosts: [{ name: 'default' }] } });
    expect((await a.yoga.fetch(url)).status).toBe(401);
  });
});
