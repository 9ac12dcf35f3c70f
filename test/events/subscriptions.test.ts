import type { Client } from 'graphql-ws';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Connection } from '../../src/libvirt/index.ts';
import { fixtureUri } from '../support/test-host.ts';
import {
  DOMAIN_EVENTS,
  type DomainEventData,
  type GraphQLResult,
  isDomainEvent,
  isHostEvent,
  type ListeningGateway,
  listen,
  listening,
  stopAll,
  subscribeSse,
  subscribeWs,
  untilHub,
  wsClient,
} from './event-clients.ts';

const evented = (name: string) => `<domain type="test"><name>${name}</name><memory unit="KiB">131072</memory>
  <os><type arch="x86_64">hvm</type></os></domain>`;

type Event = DomainEventData['domainEvents'];
const eventOf = (r: GraphQLResult<DomainEventData>): Event => {
  expect(r.errors).toBeUndefined();
  return r.data?.domainEvents as Event;
};

describe('subscriptions on the test driver', () => {
  let gw: ListeningGateway;
  let lab: Connection;
  let client: Client;

  beforeAll(async () => {
    gw = await listen({ lab: fixtureUri, other: 'test:///default' });
    lab = await gw.registry.connection('lab');
    client = wsClient(gw.wsUrl);
  });
  afterEach(async () => {
    stopAll();
    // Unsubscribing frees everything: no stream, no topic listener is left behind.
    await untilHub(gw.app.events, (s) => s.subscriptions === 0 && s.topicListeners === 0);
  });
  afterAll(async () => {
    await client?.dispose();
    await gw?.close();
  });

  it('delivers define, start, suspend, resume, destroy and undefine over graphql-ws, each with the domain read afresh', async () => {
    const sub = subscribeWs<DomainEventData>(client, DOMAIN_EVENTS, { host: 'lab', domain: { name: 'ev-ws' } });
    await listening(gw.app.events, 1);

    const d = await lab.defineDomain(evented('ev-ws'));
    const defined = eventOf(await sub.results.next());
    expect(defined).toMatchObject({
      host: { name: 'lab' },
      domainName: 'ev-ws',
      domainUuid: d.uuid,
      type: 'DEFINED',
      detail: 'ADDED',
      domain: { name: 'ev-ws', state: 'SHUTOFF', active: false },
    });
    expect(Date.parse(defined.timestamp)).toBeGreaterThan(Date.now() - 60_000);

    await d.start();
    expect(eventOf(await sub.results.next())).toMatchObject({
      type: 'STARTED',
      detail: 'BOOTED',
      domain: { state: 'RUNNING', active: true },
    });
    await d.suspend();
    expect(eventOf(await sub.results.next())).toMatchObject({
      type: 'SUSPENDED',
      detail: 'PAUSED',
      domain: { state: 'PAUSED' },
    });
    await d.resume();
    expect(eventOf(await sub.results.next())).toMatchObject({
      type: 'RESUMED',
      detail: 'UNPAUSED',
      domain: { state: 'RUNNING' },
    });
    await d.destroy();
    expect(eventOf(await sub.results.next())).toMatchObject({
      type: 'STOPPED',
      detail: 'DESTROYED',
      domain: { state: 'SHUTOFF', active: false },
    });
    await d.undefine();
    expect(eventOf(await sub.results.next())).toMatchObject({
      type: 'UNDEFINED',
      detail: 'REMOVED',
      domainName: 'ev-ws',
      domain: null,
    });
    expect(sub.results.seen).toHaveLength(6);
    sub.stop();
  });

  it('delivers the same over SSE (POST with Accept: text/event-stream)', async () => {
    const sub = subscribeSse<DomainEventData>(gw.url, DOMAIN_EVENTS, { host: 'lab', domain: { name: 'ev-sse' } });
    await listening(gw.app.events, 1);

    // The domain is read when its event is delivered: take each event before the next change.
    const d = await lab.defineDomain(evented('ev-sse'));
    const steps: Array<[() => Promise<unknown>, string, string, string | null]> = [
      [async () => undefined, 'DEFINED', 'ADDED', 'SHUTOFF'],
      [() => d.start(), 'STARTED', 'BOOTED', 'RUNNING'],
      [() => d.suspend(), 'SUSPENDED', 'PAUSED', 'PAUSED'],
      [() => d.resume(), 'RESUMED', 'UNPAUSED', 'RUNNING'],
      [() => d.destroy(), 'STOPPED', 'DESTROYED', 'SHUTOFF'],
      [() => d.undefine(), 'UNDEFINED', 'REMOVED', null],
    ];
    for (const [action, type, detail, state] of steps) {
      await action();
      const event = eventOf(await sub.results.next());
      expect(event).toMatchObject({ type, detail, domainName: 'ev-sse' });
      expect(event.domain?.state ?? null).toBe(state);
    }
    sub.stop();
    expect(await sub.results.ended).toBeUndefined();
  });

  it('filters by domain (name, UUID, runtime id) and by type; two subscribers on different filters each get only theirs', async () => {
    const web = await lab.domainByName('web');
    const byName = subscribeWs<DomainEventData>(client, DOMAIN_EVENTS, { host: 'lab', domain: { name: 'web' } });
    const byUuid = subscribeSse<DomainEventData>(gw.url, DOMAIN_EVENTS, {
      host: 'lab',
      domain: { uuid: web.uuid.replaceAll('-', '').toUpperCase() },
    });
    const byId = subscribeWs<DomainEventData>(client, DOMAIN_EVENTS, { host: 'lab', domain: { runtimeId: web.id } });
    const suspends = subscribeWs<DomainEventData>(client, DOMAIN_EVENTS, { host: 'lab', types: ['SUSPENDED'] });
    await listening(gw.app.events, 4);

    const db = await lab.domainByName('db');
    await db.start();
    await web.suspend();
    await web.resume();
    await db.suspend();
    await db.resume();
    await db.destroy();
    // A last event every subscriber wants: once it is in, everything before it is too.
    await web.suspend();
    await web.resume();
    for (const sub of [byName, byUuid, byId]) await sub.results.untilSeen(4);
    await suspends.results.untilSeen(3);

    const seen = (sub: typeof byName) => sub.results.seen.map((r) => `${eventOf(r).domainName} ${eventOf(r).type}`);
    const webOnly = ['web SUSPENDED', 'web RESUMED', 'web SUSPENDED', 'web RESUMED'];
    expect(seen(byName)).toEqual(webOnly);
    expect(seen(byUuid)).toEqual(webOnly);
    expect(seen(byId)).toEqual(webOnly);
    expect(seen(suspends)).toEqual(['web SUSPENDED', 'db SUSPENDED', 'web SUSPENDED']);
    for (const sub of [byName, byUuid, byId, suspends]) sub.stop();
  });

  it('listens to each host once, whatever the number of subscribers, and frees everything on unsubscribe', async () => {
    // The registry watches each connection for its close; the hub adds exactly one listener more.
    expect(gw.app.events.stats().attachedHosts).toContain('lab');
    expect(lab.listenerCount).toBe(2);

    const subs = [
      subscribeWs<DomainEventData>(client, DOMAIN_EVENTS, { host: 'lab' }),
      subscribeWs<DomainEventData>(client, DOMAIN_EVENTS, { host: 'lab', types: ['STARTED'] }),
      subscribeSse<DomainEventData>(gw.url, DOMAIN_EVENTS, { host: 'lab' }),
      subscribeSse<DomainEventData>(gw.url, DOMAIN_EVENTS, {}),
    ];
    // The last one listens to both hosts.
    await listening(gw.app.events, 5);
    const stats = gw.app.events.stats();
    expect(stats.subscriptions).toBe(4);
    expect(lab.listenerCount).toBe(2);
    expect((await gw.registry.connection('other')).listenerCount).toBe(2);

    const web = await lab.domainByName('web');
    await web.suspend();
    for (const sub of subs.filter((_, i) => i !== 1)) await sub.results.next(isDomainEvent('web', 'SUSPENDED'));
    await web.resume();
    for (const sub of subs.filter((_, i) => i !== 1)) await sub.results.next(isDomainEvent('web', 'RESUMED'));
    expect(subs[1]?.results.seen).toEqual([]);

    for (const sub of subs) sub.stop();
    await untilHub(gw.app.events, (s) => s.subscriptions === 0 && s.topicListeners === 0);
    expect(lab.listenerCount).toBe(2);
  });

  it('subscribes to every configured host when host is omitted, each event naming its host', async () => {
    const sub = subscribeWs<DomainEventData>(client, DOMAIN_EVENTS, { types: ['SUSPENDED'] });
    await listening(gw.app.events, 2);
    const other = await gw.registry.connection('other');
    await (await other.domainByName('test')).suspend();
    await (await lab.domainByName('web')).suspend();
    await sub.results.untilSeen(2);
    // Two connections: their events need not arrive in the order of the calls.
    expect(sub.results.seen.map((r) => `${eventOf(r).host.name}/${eventOf(r).domainName}`).sort()).toEqual([
      'lab/web',
      'other/test',
    ]);
    await (await other.domainByName('test')).resume();
    await (await lab.domainByName('web')).resume();
    sub.stop();
  });

  it('delivers network and storage pool events with the object read afresh', async () => {
    const nets = subscribeWs<{ networkEvents: Record<string, unknown> }>(
      client,
      `subscription { networkEvents(host: "lab", name: "lan") { networkName networkUuid type detail network { name active } } }`,
    );
    const pools = subscribeSse<{ storagePoolEvents: Record<string, unknown> }>(
      gw.url,
      `subscription { storagePoolEvents(host: "lab", types: [STOPPED, STARTED]) { poolName type pool { name active } } }`,
    );
    await listening(gw.app.events, 2);
    // Each object is read when its event is delivered: take each event before the next change.
    const lan = await lab.networkByName('lan');
    await lan.stop();
    expect((await nets.results.next()).data?.networkEvents).toEqual({
      networkName: 'lan',
      networkUuid: lan.uuid,
      type: 'STOPPED',
      detail: null,
      network: { name: 'lan', active: false },
    });
    await lan.start();
    expect((await nets.results.next()).data?.networkEvents).toMatchObject({
      type: 'STARTED',
      network: { active: true },
    });
    const pool = await lab.storagePoolByName('default-pool');
    await pool.stop();
    expect((await pools.results.next()).data?.storagePoolEvents).toEqual({
      poolName: 'default-pool',
      type: 'STOPPED',
      pool: { name: 'default-pool', active: false },
    });
    await pool.start();
    expect((await pools.results.next()).data?.storagePoolEvents).toMatchObject({
      type: 'STARTED',
      pool: { active: true },
    });
    nets.stop();
    pools.stop();
  });

  it('rejects an unknown host and a runtime id without a host', async () => {
    const unknown = subscribeWs(client, DOMAIN_EVENTS, { host: 'nope' });
    const noHost = subscribeSse(gw.url, DOMAIN_EVENTS, { domain: { runtimeId: 1 } });
    const [a, b] = await Promise.all([unknown.results.next(), noHost.results.next()]);
    expect(a.errors?.[0]?.extensions?.code).toBe('UNKNOWN_HOST');
    expect(b.errors?.[0]).toMatchObject({ extensions: { code: 'INVALID_INPUT', field: 'domain.runtimeId' } });
    unknown.stop();
    noHost.stop();
  });
});

describe('subscriptions to a host that cannot be reached', () => {
  it('start with HOST_DOWN and stay open; stop() ends them', async () => {
    const gw = await listen({ lab: fixtureUri, gone: 'test:///nonexistent/virtql-node.xml' });
    const client = wsClient(gw.wsUrl);
    const ws = subscribeWs<DomainEventData>(client, DOMAIN_EVENTS, {});
    const sse = subscribeSse<DomainEventData>(gw.url, DOMAIN_EVENTS, { host: 'gone' });
    for (const sub of [ws, sse]) {
      expect(eventOf(await sub.results.next(isHostEvent('HOST_DOWN')))).toMatchObject({
        host: { name: 'gone' },
        type: 'HOST_DOWN',
        domainName: null,
        domain: null,
        detail: expect.stringContaining('nonexistent'),
      });
    }
    // The other host's events still come on the subscription to every host.
    await listening(gw.app.events, 3);
    const web = await (await gw.registry.connection('lab')).domainByName('web');
    await web.suspend();
    expect(eventOf(await ws.results.next())).toMatchObject({ host: { name: 'lab' }, type: 'SUSPENDED' });

    await gw.close();
    expect(await ws.results.ended).toBeUndefined();
    expect(await sse.results.ended).toBeUndefined();
    expect(gw.app.events.stats()).toMatchObject({ subscriptions: 0, topicListeners: 0, attachedHosts: [] });
    await client.dispose();
  });
});

describe('a host that comes up after its subscribers asked for it', () => {
  it('gets HOST_DOWN, then RESYNC when the hub’s retry reaches it, then its events', async () => {
    let refuse = true;
    const open = (uri: string) => (refuse ? Promise.reject(new Error('daemon not up yet')) : Connection.open(uri));
    const gw = await listen({ late: fixtureUri }, { registry: { open } });
    const client = wsClient(gw.wsUrl);
    const sub = subscribeWs<DomainEventData>(client, DOMAIN_EVENTS, { host: 'late' });
    expect(eventOf(await sub.results.next())).toMatchObject({ type: 'HOST_DOWN', detail: 'daemon not up yet' });
    expect(gw.app.events.stats().attachedHosts).toEqual([]);

    refuse = false;
    expect(eventOf(await sub.results.next())).toMatchObject({ type: 'RESYNC', detail: 'RECONNECTED' });
    const web = await (await gw.registry.connection('late')).domainByName('web');
    await web.suspend();
    expect(eventOf(await sub.results.next())).toMatchObject({ type: 'SUSPENDED', domainName: 'web' });
    sub.stop();
    await client.dispose();
    await gw.close();
  });
});
