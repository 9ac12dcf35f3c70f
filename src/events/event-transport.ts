import { setMaxListeners } from 'node:events';
import type { PubSubEventTarget } from 'graphql-yoga';
import { DEFAULT_HISTORY, type EventHistory, type HistoryLimits, MemoryHistory } from './event-history.ts';

/**
 * Which replica publishes a host's events. Every replica attached to a host hears the same
 * libvirt events; only the one holding the host's lease publishes them, so subscribers get
 * each event once however many replicas are connected to the host.
 */
export interface PublishLeases {
  /** Whether this replica publishes the host's events now. */
  holds(host: string): boolean;
  /** This replica is attached to the host: take the lease unless another replica holds it. */
  acquire(host: string): Promise<boolean>;
  /** This replica is no longer attached to the host: give the lease up. */
  release(host: string): Promise<void>;
  /** Called when this replica takes a host's lease over from a replica that went away. */
  onTakeover(listener: (host: string) => void): void;
  close(): Promise<void>;
}

/** Where the hub's events travel: an event target for yoga's createPubSub, and who may publish. */
export interface EventTransport {
  // biome-ignore lint/suspicious/noExplicitAny: the topics' payload types are the hub's business, not the transport's
  eventTarget: PubSubEventTarget<Record<string, any>>;
  leases: PublishLeases;
  /** The recent events of each host, for subscribers that resume. */
  history: EventHistory;
  /** Resolves once every subscription made so far is active at the broker. */
  flush(): Promise<void>;
  close(): Promise<void>;
}

/** One process: an in-memory event target and history, and this process publishes every host it is attached to. */
export function createMemoryTransport(history: HistoryLimits = DEFAULT_HISTORY): EventTransport {
  const eventTarget = new EventTarget();
  // Every subscriber of a host listens on its topic: more than Node's default 10 is normal.
  setMaxListeners(0, eventTarget);
  return {
    eventTarget,
    leases: {
      holds: () => true,
      acquire: async () => true,
      release: async () => undefined,
      onTakeover: () => undefined,
      close: async () => undefined,
    },
    history: new MemoryHistory(history),
    flush: async () => undefined,
    close: async () => undefined,
  };
}
