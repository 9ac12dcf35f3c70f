import type { Client } from 'graphql-ws';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import type { Connection, Domain } from '../../src/libvirt/index.ts';
import type { LibvirtdContext } from '../support/global-setup.ts';
import { type PrivateLibvirtd, startLibvirtd } from '../support/libvirtd.ts';
import { bareDomainXml, privateDaemon } from '../support/private-daemon.ts';
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

function skipReason(): string | undefined {
  const ctx = inject('libvirtd') as LibvirtdContext | undefined;
  if (ctx === undefined) return 'no private libvirtd in this run (the vitest global setup did not run)';
  return 'unavailable' in ctx ? `no private libvirtd on this machine: ${ctx.unavailable}` : undefined;
}

const skip = skipReason();
if (skip) console.warn(`skipping the subscription cases on libvirtd: ${skip}`);

type Event = DomainEventData['domainEvents'];
const eventOf = (r: GraphQLResult<DomainEventData>): Event => {
  expect(r.errors).toBeUndefined();
  return r.data?.domainEvents as Event;
};

describe.skipIf(skip !== undefined)('subscriptions on the private libvirtd (QEMU)', () => {
  let gw: ListeningGateway;
  let qemu: Connection;
  let client: Client;

  beforeAll(async () => {
    const daemon = privateDaemon();
    if (!daemon) throw new Error('unreachable');
    gw = await listen({ qemu: daemon.uri });
    qemu = await gw.registry.connection('qemu');
    client = wsClient(gw.wsUrl);
  });
  afterEach(async () => {
    stopAll();
    await untilHub(gw.app.events, (s) => s.subscriptions === 0 && s.topicListeners === 0);
  });
  afterAll(async () => {
    await client?.dispose();
    await gw?.close();
  });

  it('delivers define, start, suspend, resume, destroy and undefine with their details, over graphql-ws and SSE', async () => {
    const daemon = privateDaemon();
    if (!daemon) throw new Error('unreachable');
    const ws = subscribeWs<DomainEventData>(client, DOMAIN_EVENTS, { host: 'qemu', domain: { name: 'ev-qemu' } });
    // Other test files use the same daemon at the same time: filter by name on this one too.
    const sse = subscribeSse<DomainEventData>(gw.url, DOMAIN_EVENTS, {
      host: 'qemu',
      types: ['STARTED', 'STOPPED'],
    });
    await listening(gw.app.events, 2);

    // The event an action causes: the first of its type that arrives after the action starts.
    const caused = async (action: () => Promise<unknown>, type: string) => {
      const mark = ws.results.seen.length;
      await action();
      return eventOf(
        await ws.results.next((r) => ws.results.seen.indexOf(r) >= mark && isDomainEvent('ev-qemu', type)(r)),
      );
    };
    let d: Domain | undefined;
    try {
      const defined = await caused(async () => {
        d = await qemu.defineDomain(bareDomainXml('ev-qemu', daemon.kvm));
      }, 'DEFINED');
      if (!d) throw new Error('unreachable');
      const dom = d;
      expect(defined).toMatchObject({
        domainName: 'ev-qemu',
        domainUuid: dom.uuid,
        detail: 'ADDED',
        domain: { state: 'SHUTOFF', active: false },
      });
      expect(await caused(() => dom.start(), 'STARTED')).toMatchObject({
        detail: 'BOOTED',
        domain: { state: 'RUNNING', active: true },
      });
      expect(await caused(() => dom.suspend(), 'SUSPENDED')).toMatchObject({
        detail: 'PAUSED',
        domain: { state: 'PAUSED' },
      });
      expect(await caused(() => dom.resume(), 'RESUMED')).toMatchObject({
        detail: 'UNPAUSED',
        domain: { state: 'RUNNING' },
      });
      expect(await caused(() => dom.destroy(), 'STOPPED')).toMatchObject({
        detail: 'DESTROYED',
        domain: { state: 'SHUTOFF', active: false },
      });
      expect(await caused(() => dom.undefine(), 'UNDEFINED')).toMatchObject({ detail: 'REMOVED', domain: null });

      expect(eventOf(await sse.results.next(isDomainEvent('ev-qemu', 'STARTED'))).detail).toBe('BOOTED');
      expect(eventOf(await sse.results.next(isDomainEvent('ev-qemu', 'STOPPED'))).detail).toBe('DESTROYED');
      // QEMU adds its own: it starts a guest paused and resumes it (RESUMED UNPAUSED with STARTED), and
      // reports the SIGTERM of a destroy as a host-initiated shutdown (SHUTDOWN HOST before STOPPED).
      const seen = ws.results.seen.map((r) => `${eventOf(r).type} ${eventOf(r).detail}`);
      const qemuOwn = ['RESUMED UNPAUSED', 'SHUTDOWN HOST'];
      expect(seen.filter((e) => !qemuOwn.includes(e))).toEqual([
        'DEFINED ADDED',
        'STARTED BOOTED',
        'SUSPENDED PAUSED',
        'STOPPED DESTROYED',
        'UNDEFINED REMOVED',
      ]);
      const types = new Set(sse.results.seen.map((r) => eventOf(r).type));
      expect([...types].every((t) => t === 'STARTED' || t === 'STOPPED')).toBe(true);
    } finally {
      if (d && (await d.isActive().catch(() => false))) await d.destroy();
      await d?.undefine().catch(() => undefined);
    }
    expect(qemu.listenerCount).toBe(2);
  });
});

describe.skipIf(skip !== undefined)('subscriptions while libvirtd is killed and restarted', () => {
  let daemon: PrivateLibvirtd;
  let gw: ListeningGateway;
  let client: Client;

  beforeAll(async () => {
    daemon = await startLibvirtd({ name: 'ev' });
    gw = await listen({ ev: daemon.uri }, { registry: { reconnect: { initialDelayMs: 50, maxDelayMs: 400 } } });
    client = wsClient(gw.wsUrl);
  });
  afterAll(async () => {
    stopAll();
    await client?.dispose();
    await gw?.close();
    await daemon?.stop();
  });

  it('sends HOST_DOWN, then RESYNC once the daemon is back, and events keep coming on the same subscription', async () => {
    const ws = subscribeWs<DomainEventData>(client, DOMAIN_EVENTS, { host: 'ev' });
    const sse = subscribeSse<{ networkEvents: { type: string; detail: string | null; networkName: string | null } }>(
      gw.url,
      'subscription { networkEvents(host: "ev") { type detail networkName } }',
    );
    await listening(gw.app.events, 2);
    const before = await gw.registry.connection('ev');

    await daemon.restart();
    const down = eventOf(await ws.results.next(isHostEvent('HOST_DOWN')));
    expect(down).toMatchObject({ host: { name: 'ev' }, domainName: null, domain: null });
    expect(down.detail).toContain('EOF');
    expect(eventOf(await ws.results.next(isHostEvent('RESYNC')))).toMatchObject({ detail: 'RECONNECTED' });
    expect((await sse.results.next()).data?.networkEvents).toMatchObject({ type: 'HOST_DOWN', networkName: null });
    expect((await sse.results.next()).data?.networkEvents).toEqual({
      type: 'RESYNC',
      detail: 'RECONNECTED',
      networkName: null,
    });

    const after = await gw.registry.connection('ev');
    expect(after).not.toBe(before);
    expect(after.listenerCount).toBe(2);
    expect(gw.app.events.stats()).toMatchObject({ subscriptions: 2, attachedHosts: ['ev'] });

    // The domain is read when its event is delivered: take each event before the next change.
    const d = await after.defineDomain(bareDomainXml('ev-after-restart', daemon.kvm));
    expect(eventOf(await ws.results.next(isDomainEvent('ev-after-restart', 'DEFINED'))).detail).toBe('ADDED');
    await d.undefine();
    expect(eventOf(await ws.results.next(isDomainEvent('ev-after-restart', 'UNDEFINED'))).detail).toBe('REMOVED');
    expect(ws.results.seen.map((r) => eventOf(r).type)).toEqual(['HOST_DOWN', 'RESYNC', 'DEFINED', 'UNDEFINED']);
  });
});
