import type { Client } from 'graphql-ws';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { defaultSecurity } from '../../src/config/security.ts';
import type { Connection } from '../../src/libvirt/index.ts';
import { bindingCalls } from '../../src/libvirt/native.ts';
import { fixtureUri } from '../support/test-host.ts';
import {
  DOMAIN_EVENTS,
  type DomainEventData,
  isDomainEvent,
  type ListeningGateway,
  listen,
  listening,
  type Subscription,
  stopAll,
  subscribeWs,
  untilHub,
  wsClient,
} from './event-clients.ts';

const EVENT_QUEUE = 100;

describe('fan-out of one event to many subscribers', () => {
  let gw: ListeningGateway;
  let lab: Connection;
  let clients: Client[];

  beforeAll(async () => {
    const security = defaultSecurity();
    security.limits.eventQueue = EVENT_QUEUE;
    gw = await listen({ lab: fixtureUri }, { app: { security } });
    lab = await gw.registry.connection('lab');
    clients = Array.from({ length: 4 }, () => wsClient(gw.wsUrl));
  });
  afterEach(async () => {
    stopAll();
    await untilHub(gw.app.events, (s) => s.subscriptions === 0 && s.topicListeners === 0);
  });
  afterAll(async () => {
    for (const client of clients ?? []) await client.dispose();
    await gw?.close();
  });

  /** Binding calls from suspending `web` until every subscriber has the SUSPENDED event (the suspend included). */
  async function callsPerEvent(subs: Array<Subscription<DomainEventData>>): Promise<number> {
    await listening(gw.app.events, subs.length);
    const web = await lab.domainByName('web');
    const before = bindingCalls.total;
    await web.suspend();
    const events = await Promise.all(subs.map((s) => s.results.next(isDomainEvent('web', 'SUSPENDED'))));
    const calls = bindingCalls.total - before;
    for (const e of events) expect(e.data?.domainEvents.domain).toEqual({ name: 'web', state: 'PAUSED', active: true });
    await web.resume();
    await Promise.all(subs.map((s) => s.results.next(isDomainEvent('web', 'RESUMED'))));
    for (const sub of subs) sub.stop();
    await untilHub(gw.app.events, (s) => s.subscriptions === 0);
    return calls;
  }

  it('reads libvirt as often for 60 subscribers in two groups as for one', async () => {
    const one = await callsPerEvent([
      subscribeWs<DomainEventData>(clients[0] as Client, DOMAIN_EVENTS, { host: 'lab' }),
    ]);
    const many = Array.from({ length: 60 }, (_, i) =>
      subscribeWs<DomainEventData>(
        clients[i % clients.length] as Client,
        DOMAIN_EVENTS,
        // Two groups: different variables, the same identity, so one context and its loaders per event.
        i % 2 ? { host: 'lab' } : { host: 'lab', types: ['SUSPENDED', 'RESUMED'] },
      ),
    );
    const sixty = await callsPerEvent(many);
    // The suspend itself, then the domain lookup and its state read once for everyone.
    expect(one).toBeGreaterThanOrEqual(2);
    expect(sixty).toBe(one);
  });

  it('drops a subscriber that stops reading, with a close reason, while the others get every event', async () => {
    const fast = subscribeWs<DomainEventData>(clients[0] as Client, DOMAIN_EVENTS, { host: 'lab' });
    const slow = new WebSocket(gw.wsUrl, 'graphql-transport-ws');
    const messages: string[] = [];
    const closed = new Promise<{ code: number; reason: string }>((resolve) =>
      slow.on('close', (code, reason) => resolve({ code, reason: String(reason) })),
    );
    slow.on('message', (data) => messages.push(String(data)));
    await new Promise((resolve) => slow.once('open', resolve));
    slow.send(JSON.stringify({ type: 'connection_init' }));
    await new Promise((resolve) => slow.once('message', resolve));
    // Large results fill the socket buffers quickly: thirty copies of the domain's definition per event.
    const copies = Array.from({ length: 30 }, (_, i) => `x${i}: domain { xml }`).join(' ');
    slow.send(
      JSON.stringify({
        id: '1',
        type: 'subscribe',
        payload: { query: `subscription { domainEvents(host: "lab") { type ${copies} } }` },
      }),
    );
    await listening(gw.app.events, 2);
    slow.pause();

    const web = await lab.domainByName('web');
    let actions = 0;
    const dropped = untilHub(gw.app.events, (s) => s.subscriptions === 1);
    let isDropped = false;
    void dropped.then(() => {
      isDropped = true;
    });
    // Each action waits until the reading subscriber has its event: it is never behind, the other one ever more.
    while (!isDropped && actions < 5_000) {
      await web.suspend();
      await fast.results.untilSeen(++actions);
      await web.resume();
      await fast.results.untilSeen(++actions);
    }
    await dropped;
    slow.resume();
    expect(await closed).toMatchObject({
      code: 1008,
      reason: expect.stringMatching(/^SLOW_CONSUMER: dropped: more than 100 events/),
    });
    // It had been sent fewer events than happened: the gateway stopped waiting for it.
    expect(messages.length).toBeLessThan(actions);

    const types = fast.results.seen.map((r) => r.data?.domainEvents.type);
    expect(types).toEqual(Array.from({ length: actions }, (_, i) => (i % 2 ? 'RESUMED' : 'SUSPENDED')));
  }, 60_000);
});
