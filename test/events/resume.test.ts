import type { Client } from 'graphql-ws';
import { Redis } from 'ioredis';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { hostStatusEvent } from '../../src/events/hub-event.ts';
import { RedisHistory } from '../../src/events/redis-history.ts';
import type { Connection } from '../../src/libvirt/index.ts';
import { startRedis, stopRedis } from '../support/redis-server.ts';
import { fixtureUri } from '../support/test-host.ts';
import {
  type GraphQLResult,
  type ListeningGateway,
  listen,
  listening,
  stopAll,
  subscribeWs,
  untilHub,
  wsClient,
} from './event-clients.ts';

const RESUMING = `subscription ($host: String, $types: [DomainEventType!], $after: String) {
  domainEvents(host: $host, domain: { name: "web" }, types: $types, after: $after) { type detail cursor domainName }
}`;

interface Resumed {
  domainEvents: { type: string; detail: string | null; cursor: string | null; domainName: string | null };
}

const redis = await startRedis();
const noRedis = 'unavailable' in redis ? redis.unavailable : undefined;
if (noRedis) console.warn(`skipping the Redis cases: ${noRedis}`);

const opened: Array<{ gw: ListeningGateway; clients: Client[] }> = [];
async function gateway(options: Parameters<typeof listen>[1] = {}) {
  const gw = await listen({ lab: fixtureUri }, options);
  const entry = { gw, clients: [] as Client[] };
  opened.push(entry);
  const connect = () => {
    const client = wsClient(gw.wsUrl);
    entry.clients.push(client);
    return client;
  };
  return { gw, connect, lab: await gw.registry.connection('lab') };
}

afterEach(async () => {
  stopAll();
  for (const { gw, clients } of opened.splice(0)) {
    for (const client of clients) await client.dispose();
    await gw.close();
  }
});
afterAll(async () => {
  if ('process' in redis) await stopRedis(redis.process);
});

const data = (r: GraphQLResult<Resumed>) => {
  expect(r.errors).toBeUndefined();
  return r.data?.domainEvents as Resumed['domainEvents'];
};
const wait = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Subscribes on `client` and returns the first event with its cursor, after suspending web on `lab`. */
async function firstCursor(client: Client, gw: ListeningGateway, lab: Connection): Promise<string> {
  const sub = subscribeWs<Resumed>(client, RESUMING, { host: 'lab' });
  await listening(gw.app.events, 1);
  await (await lab.domainByName('web')).suspend();
  const first = data(await sub.results.next());
  expect(first).toMatchObject({ type: 'SUSPENDED', domainName: 'web' });
  expect(first.cursor).toMatch(/^[A-Za-z0-9_-]+$/);
  sub.stop();
  await client.dispose();
  return first.cursor as string;
}

/** While nobody listens, for two seconds: resume, suspend, resume. */
async function missWhileAway(gw: ListeningGateway, lab: Connection): Promise<void> {
  await untilHub(gw.app.events, (s) => s.subscriptions === 0);
  const web = await lab.domainByName('web');
  await web.resume();
  await wait(700);
  await web.suspend();
  await wait(700);
  await web.resume();
  await wait(600);
  await gw.app.events.settled();
}

async function expectResumed(client: Client, gw: ListeningGateway, lab: Connection, after: string) {
  const sub = subscribeWs<Resumed>(client, RESUMING, { host: 'lab', after });
  await sub.results.untilSeen(3);
  const replayed = sub.results.seen.map(data);
  expect(replayed.map((e) => `${e.type}/${e.detail}`)).toEqual([
    'RESUMED/UNPAUSED',
    'SUSPENDED/PAUSED',
    'RESUMED/UNPAUSED',
  ]);
  expect(new Set([after, ...replayed.map((e) => e.cursor)]).size).toBe(4);
  // Then live, after the replayed ones, none twice.
  await listening(gw.app.events, 1);
  await (await lab.domainByName('web')).suspend();
  await sub.results.untilSeen(4);
  expect(sub.results.seen.map((r) => data(r).type)).toEqual(['RESUMED', 'SUSPENDED', 'RESUMED', 'SUSPENDED']);
}

describe('resuming a subscription after a disconnect (one gateway, in-memory history)', () => {
  it('replays exactly the events missed while away, in order, then live ones; no RESYNC', async () => {
    const { gw, connect, lab } = await gateway();
    const cursor = await firstCursor(connect(), gw, lab);
    await missWhileAway(gw, lab);
    await expectResumed(connect(), gw, lab, cursor);
  });

  it('applies the filters to replayed events as to live ones', async () => {
    const { gw, connect, lab } = await gateway();
    const cursor = await firstCursor(connect(), gw, lab);
    await missWhileAway(gw, lab);
    const sub = subscribeWs<Resumed>(connect(), RESUMING, { host: 'lab', after: cursor, types: ['SUSPENDED'] });
    await sub.results.untilSeen(1);
    await listening(gw.app.events, 1);
    const web = await lab.domainByName('web');
    await web.suspend();
    await web.resume();
    await web.suspend();
    await sub.results.untilSeen(3);
    expect(sub.results.seen.map((r) => data(r).type)).toEqual(['SUSPENDED', 'SUSPENDED', 'SUSPENDED']);
  });

  it('sends RESYNC when the cursor has left the history, and keeps the history within its cap', async () => {
    const { gw, connect, lab } = await gateway({ app: { events: { history: { maxEvents: 2, maxAgeSeconds: 300 } } } });
    const cursor = await firstCursor(connect(), gw, lab);
    await missWhileAway(gw, lab);
    const sub = subscribeWs<Resumed>(connect(), RESUMING, { host: 'lab', after: cursor });
    expect(data(await sub.results.next())).toMatchObject({ type: 'RESYNC', detail: 'HISTORY_EXPIRED', cursor: null });
    await listening(gw.app.events, 1);
    await (await lab.domainByName('web')).suspend();
    expect(data(await sub.results.next())).toMatchObject({ type: 'SUSPENDED' });
    expect(sub.results.seen).toHaveLength(2);
  });

  it('resumes networkEvents the same way', async () => {
    const NETWORKS = `subscription ($after: String) {
      networkEvents(host: "lab", name: "lan", after: $after) { type cursor }
    }`;
    type Networks = { networkEvents: { type: string; cursor: string } };
    const { gw, connect, lab } = await gateway();
    const lan = await lab.networkByName('lan');
    const first = subscribeWs<Networks>(connect(), NETWORKS);
    await listening(gw.app.events, 1);
    await lan.stop();
    const cursor = (await first.results.next()).data?.networkEvents.cursor;
    first.stop();
    await untilHub(gw.app.events, (s) => s.subscriptions === 0);
    await lan.start();
    await lan.stop();
    await gw.app.events.settled();
    const resumed = subscribeWs<Networks>(connect(), NETWORKS, { after: cursor });
    await resumed.results.untilSeen(2);
    await listening(gw.app.events, 1);
    await lan.start();
    await resumed.results.untilSeen(3);
    expect(resumed.results.seen.map((r) => r.data?.networkEvents.type)).toEqual(['STARTED', 'STOPPED', 'STARTED']);
  });

  it('refuses a string that is not a cursor of the host as INVALID_INPUT', async () => {
    const { gw, connect } = await gateway();
    for (const after of ['not-a-cursor', Buffer.from('v1:other:1-1').toString('base64url')]) {
      const sub = subscribeWs<Resumed>(connect(), RESUMING, { host: 'lab', after });
      const ended = (await sub.results.ended) as Array<{ extensions?: { code?: string } }> | undefined;
      const errors = ended ?? sub.results.seen.flatMap((r) => r.errors ?? []);
      expect(errors[0]?.extensions?.code).toBe('INVALID_INPUT');
    }
    expect(gw.app.events.stats().subscriptions).toBe(0);
  });
});

describe.skipIf(noRedis !== undefined)('resuming on another replica (two gateways, history in Redis Streams)', () => {
  it('replays on replica B the events replica A published while the subscriber was away', async () => {
    const url = 'url' in redis ? redis.url : '';
    // Each gateway opens its own copy of the test driver's host: only A's copy is changed, so A must keep the lease
    // all along. The default TTL (10 s) lets no stall of A's event loop hand it to B (300 ms did, now and then).
    const a = await gateway({ app: { redis: { url } } });
    await a.gw.app.events.settled();
    const b = await gateway({ app: { redis: { url } } });
    await b.gw.app.events.settled();
    const cursor = await firstCursor(a.connect(), a.gw, a.lab);
    await missWhileAway(a.gw, a.lab);
    // B is attached to the host too but publishes nothing: A holds the lease; the events come from A's connection.
    await expectResumed(b.connect(), b.gw, a.lab, cursor);
  });

  it('keeps each host’s Redis Stream near maxEvents, and answers RESYNC for what trimming dropped', async () => {
    const client = new Redis('url' in redis ? redis.url : '');
    try {
      const history = new RedisHistory(client, { maxEvents: 10, maxAgeSeconds: 300 });
      const ids: string[] = [];
      for (let i = 0; i < 500; i++)
        ids.push(await history.append('capped', hostStatusEvent('capped', 'RESYNC', `${i}`)));
      // MAXLEN ~ trims whole stream nodes (100 entries by default), never fewer than maxEvents.
      const length = await client.xlen('virtql:events:stream:capped');
      expect(length).toBeGreaterThanOrEqual(10);
      expect(length).toBeLessThanOrEqual(110);
      expect(await history.since('capped', ids[0] as string)).toBeUndefined();
      expect((await history.since('capped', ids[496] as string))?.map((e) => e.detail)).toEqual(['497', '498', '499']);
      expect(await history.since('capped', ids[499] as string)).toEqual([]);
      expect(await history.since('capped', '1-1')).toBeUndefined();
      expect(await history.since('nowhere', ids[499] as string)).toBeUndefined();
    } finally {
      client.disconnect();
    }
  });
});
