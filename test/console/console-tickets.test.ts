import pino from 'pino';
import { PNG } from 'pngjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/app.ts';
import type { AuditRecord } from '../../src/audit/audit-record.ts';
import { createApiToken } from '../../src/auth/authenticator.ts';
import { resolveConfig } from '../../src/config/config.ts';
import { ConsoleCloseCode } from '../../src/console/console-server.ts';
import { type ConsoleGrant, createMemoryTicketStore } from '../../src/console/console-tickets.ts';
import { HostRegistry } from '../../src/hosts/host-registry.ts';
import { toPng } from '../../src/schema/domain/console.ts';
import { startGateway, type TestGateway } from '../support/gateway.ts';
import { startRedis, stopRedis } from '../support/redis-server.ts';
import { fixtureUri } from '../support/test-host.ts';
import { closed, connect } from './console-clients.ts';

// Tickets are checked before libvirt is asked, so the test driver serves these cases: its running
// domain "web" gets tickets, and a WebSocket with a good ticket is accepted and then closed 4404
// (the test driver has no consoles).

const tokens = { operator: createApiToken(), other: createApiToken(), viewer: createApiToken() };
const auth = {
  auth: {
    tokens: Object.entries(tokens).map(([name, t]) => ({ name, sha256: t.sha256 })),
    grants: [
      { identity: 'operator', role: 'operator' },
      { identity: 'other', role: 'operator' },
      { identity: 'viewer', role: 'viewer' },
    ],
  },
  cors: { origins: ['https://console.example'] },
};
const bearer = (who: keyof typeof tokens) => ({ authorization: `Bearer ${tokens[who].secret}` });
const OPEN = 'mutation { openConsole(input: { domain: { name: "web" }, kind: SERIAL }) { url ticket expiresAt kind } }';

interface Ticket {
  url: string;
  ticket: string;
  expiresAt: string;
  kind: string;
}

describe('console tickets', () => {
  let gw: TestGateway;
  let base: string;
  const audit: AuditRecord[] = [];

  async function ticket(g: TestGateway = gw): Promise<Ticket> {
    const res = await g.query<{ openConsole: Ticket }>(OPEN, undefined, bearer('operator'));
    expect(res.errors).toBeUndefined();
    return (res.data as { openConsole: Ticket }).openConsole;
  }

  beforeAll(async () => {
    gw = await startGateway({ fixture: fixtureUri }, undefined, { config: auth });
    base = (await gw.app.start()).replace(/^http/, 'ws').replace('/graphql', '');
    const it = gw.app.audit.subscribe();
    void (async () => {
      for await (const r of it) audit.push(r);
    })();
  });
  afterAll(async () => {
    await gw?.close();
  });

  it('a viewer without VM.Console gets FORBIDDEN from openConsole', async () => {
    const res = await gw.query(OPEN, undefined, bearer('viewer'));
    expect(res.errors?.[0]?.extensions).toMatchObject({ code: 'FORBIDDEN', privilege: 'VM.Console' });
  });

  it('issues a single-use ticket valid for 30 s whose WebSocket opens once, audited open and close', async () => {
    const before = Date.now();
    const t = await ticket();
    expect(t.kind).toBe('SERIAL');
    expect(t.ticket).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(new Date(t.expiresAt).getTime() - before).toBeGreaterThan(29_000);
    expect(new Date(t.expiresAt).getTime() - before).toBeLessThanOrEqual(31_000);
    // The URL names the host and scheme the request came with (here yoga.fetch's http://localhost).
    expect(t.url).toBe(`ws://localhost/console?ticket=${t.ticket}`);

    const first = await connect(`${base}/console?ticket=${t.ticket}`);
    expect(first.status).toBeUndefined();
    const end = await closed(first.ws);
    expect(end.code).toBe(ConsoleCloseCode.Unavailable);
    expect(end.reason).toMatch(/^CONSOLE_UNAVAILABLE: /);

    const again = await connect(`${base}/console?ticket=${t.ticket}`);
    expect(again.status).toBe(401);
    expect(JSON.parse(again.status === undefined ? '{}' : again.body).errors[0].message).toMatch(/already used/);

    const records = audit.filter((r) => r.operation.startsWith('console.'));
    expect(records.map((r) => [r.operation, r.result])).toEqual([
      ['console.open', 'CONSOLE_UNAVAILABLE'],
      ['console.close', 'ok'],
    ]);
    expect(records[1]).toMatchObject({
      identity: { name: 'operator', kind: 'token' },
      host: 'fixture',
      arguments: { domain: 'web', kind: 'SERIAL', closeCode: ConsoleCloseCode.Unavailable, bytesToClient: 0 },
    });
  });

  it('refuses a missing or made-up ticket', async () => {
    expect((await connect(`${base}/console`)).status).toBe(401);
    expect((await connect(`${base}/console?ticket=${'x'.repeat(43)}`)).status).toBe(401);
  });

  it('refuses a ticket presented with another identity’s credentials, and burns it', async () => {
    const t = await ticket();
    expect((await connect(`${base}/console?ticket=${t.ticket}`, { headers: bearer('other') })).status).toBe(403);
    expect((await connect(`${base}/console?ticket=${t.ticket}`)).status).toBe(401);
  });

  it('accepts the ticket with its own identity’s credentials', async () => {
    const t = await ticket();
    const c = await connect(`${base}/console?ticket=${t.ticket}`, { headers: bearer('operator') });
    expect(c.status).toBeUndefined();
    expect((await closed(c.ws)).code).toBe(ConsoleCloseCode.Unavailable);
  });

  it('refuses a page of an origin the operator did not list, and admits a listed one', async () => {
    const t = await ticket();
    expect(
      (await connect(`${base}/console?ticket=${t.ticket}`, { headers: { origin: 'https://evil.example' } })).status,
    ).toBe(403);
    const listed = await connect(`${base}/console?ticket=${t.ticket}`, {
      headers: { origin: 'https://console.example' },
    });
    expect(listed.status).toBeUndefined();
    await closed(listed.ws);
  });

  it('refuses an expired ticket', async () => {
    const short = await startGateway({ fixture: fixtureUri }, undefined, {
      config: { ...auth, consoles: { ticketSeconds: 0.001 } },
    });
    try {
      const url = (await short.app.start()).replace(/^http/, 'ws').replace('/graphql', '');
      const t = await ticket(short);
      expect((await connect(`${url}/console?ticket=${t.ticket}`)).status).toBe(401);
    } finally {
      await short.close();
    }
  });

  it('Domain.screenshot: a PNG for the operator, FORBIDDEN for a viewer', async () => {
    const query = '{ domain(ref: { name: "web" }) { screenshot } }';
    const res = await gw.query<{ domain: { screenshot: string } }>(query, undefined, bearer('operator'));
    expect(res.errors).toBeUndefined();
    const png = PNG.sync.read(Buffer.from(res.data?.domain.screenshot ?? '', 'base64'));
    expect(png.width).toBeGreaterThan(0);
    const denied = await gw.query(query, undefined, bearer('viewer'));
    expect(denied.errors?.[0]?.extensions).toMatchObject({ code: 'FORBIDDEN', privilege: 'VM.Console' });
  });

  it('re-encodes a PPM screenshot (older QEMUs) as PNG', () => {
    const ppm = Buffer.concat([Buffer.from('P6\n# a comment\n2 1\n255\n'), Buffer.from([255, 0, 0, 0, 0, 255])]);
    const png = PNG.sync.read(toPng('image/x-portable-pixmap', ppm));
    expect([png.width, png.height]).toEqual([2, 1]);
    expect([...png.data]).toEqual([255, 0, 0, 255, 0, 0, 255, 255]);
  });

  it('the store hands a grant out once and never after its expiry', async () => {
    let now = 1_000;
    const store = createMemoryTicketStore(() => now);
    const grant = { host: 'h', expiresAt: 2_000 } as ConsoleGrant;
    await store.put('a', grant);
    await store.put('b', grant);
    expect(await store.take('a')).toEqual(grant);
    expect(await store.take('a')).toBeUndefined();
    now = 2_000;
    expect(await store.take('b')).toBeUndefined();
  });
});

const redis = await startRedis();
if ('unavailable' in redis) console.warn(`skipping the console tickets across replicas: ${redis.unavailable}`);

describe.skipIf('unavailable' in redis)('console tickets across replicas (Redis)', () => {
  const url = 'unavailable' in redis ? '' : redis.url;
  const replicas: Array<ReturnType<typeof buildApp>> = [];
  const bases: string[] = [];

  beforeAll(async () => {
    for (let i = 0; i < 2; i++) {
      const config = await resolveConfig(auth, { env: { VIRTQL_HOSTS: `fixture=${fixtureUri}` } });
      const logger = pino({ level: 'silent' });
      const registry = new HostRegistry(config, { logger, readyTimeoutMs: 2_000 });
      const app = buildApp({
        registry,
        logger,
        security: config.security,
        port: 0,
        hostname: '127.0.0.1',
        redis: { url },
      });
      replicas.push(app);
      bases.push((await app.start()).replace(/^http/, 'ws').replace('/graphql', ''));
    }
  });
  afterAll(async () => {
    for (const app of replicas) await app.stop();
    if (!('unavailable' in redis)) await stopRedis(redis.process);
  });

  it('a ticket issued by one replica opens on the other, once', async () => {
    const [first] = replicas;
    if (!first) throw new Error('no replica');
    const res = await first.yoga.fetch('http://localhost/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...bearer('operator') },
      body: JSON.stringify({ query: OPEN }),
    });
    const t = ((await res.json()) as { data: { openConsole: Ticket } }).data.openConsole;
    // The URL names the host the request came to: the replica's.
    expect(t.url).toBe(`ws://localhost/console?ticket=${t.ticket}`);
    const other = await connect(`${bases[1]}/console?ticket=${t.ticket}`);
    expect(other.status).toBeUndefined();
    expect((await closed(other.ws)).code).toBe(ConsoleCloseCode.Unavailable);
    expect((await connect(`${bases[0]}/console?ticket=${t.ticket}`)).status).toBe(401);
  });
});
