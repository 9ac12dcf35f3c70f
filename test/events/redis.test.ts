import type { Client } from 'graphql-ws';
import { afterAll, afterEach, describe, expect, inject, it } from 'vitest';
import type { LibvirtdContext } from '../support/global-setup.ts';
import { bareDomainXml, privateDaemon } from '../support/private-daemon.ts';
import { startRedis, stopRedis } from '../support/redis-server.ts';
import { fixtureUri } from '../support/test-host.ts';
import {
  DOMAIN_EVENTS,
  type DomainEventData,
  isDomainEvent,
  isHostEvent,
  type ListeningGateway,
  listen,
  listening,
  stopAll,
  subscribeSse,
  subscribeWs,
  wsClient,
} from './event-clients.ts';

const redis = await startRedis();
if ('unavailable' in redis) console.warn(`skipping the Redis cases: ${redis.unavailable}`);
const noRedis = 'unavailable' in redis ? redis.unavailable : undefined;

function daemonSkipReason(): string | undefined {
  const ctx = inject('libvirtd') as LibvirtdContext | undefined;
  if (ctx === undefined) return 'no private libvirtd in this run (the vitest global setup did not run)';
  return 'unavailable' in ctx ? `no private libvirtd on this machine: ${ctx.unavailable}` : undefined;
}

afterAll(async () => {
  if ('process' in redis) await stopRedis(redis.process);
});

describe.skipIf(noRedis !== undefined)('events between two gateway replicas through Redis', () => {
  const url = 'url' in redis ? redis.url : '';
  const opened: Array<{ gw: ListeningGateway; client: Client }> = [];
  const replica = async (hosts: Record<string, string>, leaseTtlMs?: number) => {
    const gw = await listen(hosts, { app: { redis: { url, ...(leaseTtlMs ? { leaseTtlMs } : {}) } } });
    const client = wsClient(gw.wsUrl);
    opened.push({ gw, client });
    return { gw, client };
  };
  afterEach(async () => {
    stopAll();
    for (const { gw, client } of opened.splice(0)) {
      await client.dispose();
      await gw.close();
    }
  });

  it('brings an event caused through replica A to a subscriber on replica B; B takes over publishing when A stops', async () => {
    // Each test:///<file> connection has its own state: what A does, only A's connection sees.
    const a = await replica({ lab: fixtureUri }, 300);
    const b = await replica({ lab: fixtureUri }, 300);
    const onA = await a.gw.registry.connection('lab');
    await a.gw.app.events.settled();

    const sub = subscribeWs<DomainEventData>(b.client, DOMAIN_EVENTS, { host: 'lab', domain: { name: 'web' } });
    await listening(b.gw.app.events, 1);
    expect(b.gw.app.events.stats().attachedHosts).toEqual(['lab']);

    await (await onA.domainByName('web')).suspend();
    expect((await sub.results.next()).data?.domainEvents).toMatchObject({
      host: { name: 'lab' },
      domainName: 'web',
      type: 'SUSPENDED',
      detail: 'PAUSED',
    });

    // A goes away and gives its lease up; B, attached to the host too, takes over and says so.
    await a.gw.close();
    expect((await sub.results.next(isHostEvent('RESYNC'))).data?.domainEvents).toMatchObject({
      type: 'RESYNC',
      detail: 'PUBLISHER_CHANGED',
    });
    await (await (await b.gw.registry.connection('lab')).domainByName('web')).suspend();
    expect((await sub.results.next()).data?.domainEvents).toMatchObject({ type: 'SUSPENDED', detail: 'PAUSED' });
    expect(sub.results.seen.map((r) => r.data?.domainEvents.type)).toEqual(['SUSPENDED', 'RESYNC', 'SUSPENDED']);
  });

  const noDaemon = daemonSkipReason();
  it.skipIf(noDaemon !== undefined)(
    'delivers each event once to subscribers on both replicas when both are connected to the host',
    async () => {
      const daemon = privateDaemon();
      if (!daemon) throw new Error('unreachable');
      const a = await replica({ qemu: daemon.uri });
      const b = await replica({ qemu: daemon.uri });
      const variables = { host: 'qemu', domain: { name: 'ev-redis' } };
      const onA = subscribeSse<DomainEventData>(a.gw.url, DOMAIN_EVENTS, variables);
      const onB = subscribeWs<DomainEventData>(b.client, DOMAIN_EVENTS, variables);
      await listening(a.gw.app.events, 1);
      await listening(b.gw.app.events, 1);
      expect(a.gw.app.events.stats().attachedHosts).toEqual(['qemu']);
      expect(b.gw.app.events.stats().attachedHosts).toEqual(['qemu']);

      const connection = await a.gw.registry.connection('qemu');
      for (let round = 1; round <= 2; round++) {
        // The domain is read when its event is delivered: take each event before the next change.
        const d = await connection.defineDomain(bareDomainXml('ev-redis', daemon.kvm));
        for (const sub of [onA, onB]) await sub.results.next(isDomainEvent('ev-redis', 'DEFINED'));
        await d.undefine();
        for (const sub of [onA, onB]) await sub.results.next(isDomainEvent('ev-redis', 'UNDEFINED'));
      }
      const expected = ['DEFINED', 'UNDEFINED', 'DEFINED', 'UNDEFINED'];
      expect(onA.results.seen.map((r) => r.data?.domainEvents.type)).toEqual(expected);
      expect(onB.results.seen.map((r) => r.data?.domainEvents.type)).toEqual(expected);
    },
  );
});
