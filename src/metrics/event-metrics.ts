import { Counter, Gauge, type Registry } from 'prom-client';
import type { EventHubStats } from '../events/event-hub.ts';

export interface EventSources {
  events: { stats(): EventHubStats; onHostEvent?(listener: (host: string) => void): () => void };
  /** WebSockets open now (0 before the server starts). */
  openSockets(): number;
}

/** Open subscriptions and WebSockets, and the events received from libvirt and delivered to subscribers. */
export function collectEventMetrics(registry: Registry, sources: EventSources): void {
  new Gauge({
    name: 'virtql_subscriptions_open',
    help: 'Live subscription streams (over SSE and WebSockets).',
    registers: [registry],
    collect() {
      this.set(sources.events.stats().subscriptions);
    },
  });
  new Gauge({
    name: 'virtql_websockets_open',
    help: 'Open graphql-ws WebSockets.',
    registers: [registry],
    collect() {
      this.set(sources.openSockets());
    },
  });
  // The hub keeps running totals; these counters report them as they are at scrape time.
  new Counter({
    name: 'virtql_events_received_total',
    help: 'libvirt events received from the hosts.',
    registers: [registry],
    collect() {
      this.reset();
      this.inc(sources.events.stats().eventsReceived);
    },
  });
  new Counter({
    name: 'virtql_events_delivered_total',
    help: 'Events handed to subscription streams (one per subscriber per event).',
    registers: [registry],
    collect() {
      this.reset();
      this.inc(sources.events.stats().eventsDelivered);
    },
  });
}
