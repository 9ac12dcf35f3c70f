import { createPubSub, type PubSub, Repeater } from 'graphql-yoga';
import { type Logger, pino } from 'pino';
import type { HostRegistryEvents } from '../hosts/host-registry.ts';
import type { Connection, LibvirtEvent } from '../libvirt/index.ts';
import { type CountingEventTarget, countListeners } from './counting-event-target.ts';
import { createMemoryTransport, type EventTransport } from './event-transport.ts';
import { type HubEvent, hostStatusEvent, toHubEvent } from './hub-event.ts';

const TOPIC = 'virtql:events';
type Topics = { [TOPIC]: [host: string, event: HubEvent] };
const topicOf = (host: string) => `${TOPIC}:${host}`;

/** What the hub needs of the host registry: connections by name, and word when they open or drop. */
export interface EventRegistry {
  connection(name: string): Promise<Connection>;
  on<E extends keyof HostRegistryEvents>(event: E, listener: HostRegistryEvents[E]): () => void;
}

export interface EventHubOptions {
  registry: EventRegistry;
  /** Where events travel. @default in-memory, this process only */
  transport?: EventTransport;
  /** @default silent */
  logger?: Logger;
  /**
   * How a host that could not be reached when a subscriber asked for it is retried, while it
   * has subscribers (a host that dropped is reconnected by the registry itself).
   * @default { initialDelayMs: 1_000, maxDelayMs: 30_000 }
   */
  retry?: { initialDelayMs: number; maxDelayMs: number };
}

export interface EventHubStats {
  /** Live subscription streams. */
  subscriptions: number;
  /** Listeners on the pub/sub's host topics (a subscription to every host listens to each). */
  topicListeners: number;
  /** Hosts whose connection the hub listens to. */
  attachedHosts: string[];
  /** libvirt events received from the hosts since the hub started. */
  eventsReceived: number;
  /** Events handed to subscription streams since the hub started (one per subscriber per event). */
  eventsDelivered: number;
}

interface Attachment {
  connection: Connection;
  /** Settles (never rejects) once the hub listens to the connection. */
  ready: Promise<void>;
  unsubscribe?: () => void;
}

const errorMessage = (error: unknown) => (error instanceof Error ? error.message : String(error));

/**
 * Live libvirt events for subscribers. The hub listens to each host's connection once (when
 * the registry opens it, or when a first subscriber asks for the host), turns each event into
 * JSON and publishes it on the host's topic of yoga's pub/sub; any number of subscribers read
 * those topics. When a connection drops it publishes HOST_DOWN, and RESYNC once it listens to
 * the new connection, so subscribers know to refetch.
 */
export class EventHub {
  readonly #registry: EventRegistry;
  readonly #transport: EventTransport;
  readonly #target: CountingEventTarget<Topics>;
  readonly #pubsub: PubSub<Topics>;
  readonly #log: Logger;
  readonly #retry: { initialDelayMs: number; maxDelayMs: number };
  readonly #attached = new Map<string, Attachment>();
  /** Hosts known to be unreachable, with the reason: a RESYNC follows when the hub listens again. */
  readonly #down = new Map<string, string>();
  readonly #ensuring = new Map<string, Promise<string | undefined>>();
  readonly #retryTimers = new Map<string, NodeJS.Timeout>();
  readonly #retryAttempts = new Map<string, number>();
  readonly #streams = new Set<AsyncIterableIterator<HubEvent>>();
  readonly #watchers = new Set<() => void>();
  readonly #offRegistry: Array<() => void>;
  #received = 0;
  #delivered = 0;
  #closing: Promise<void> | undefined;

  constructor(options: EventHubOptions) {
    this.#registry = options.registry;
    this.#transport = options.transport ?? createMemoryTransport();
    this.#log = (options.logger ?? pino({ level: 'silent' })).child({ component: 'event-hub' });
    this.#retry = options.retry ?? { initialDelayMs: 1_000, maxDelayMs: 30_000 };
    this.#target = countListeners<Topics>(this.#transport.eventTarget);
    this.#target.onChange(() => this.#changed());
    this.#pubsub = createPubSub<Topics>({ eventTarget: this.#target });
    this.#offRegistry = [
      this.#registry.on('connected', (host, connection) => void this.#attach(host, connection)),
      this.#registry.on('disconnected', (host, reason) => this.#lost(host, reason)),
    ];
    this.#transport.leases.onTakeover((host) => this.#publish(hostStatusEvent(host, 'RESYNC', 'PUBLISHER_CHANGED')));
  }

  /**
   * The events of these hosts, as they happen, until the consumer returns (or the hub
   * closes). It starts with a HOST_DOWN for each host that cannot be reached now.
   */
  subscribe(hosts: readonly string[]): AsyncIterableIterator<HubEvent> {
    if (this.#closing) return new Repeater<HubEvent>((_push, stop) => stop());
    const unreachable = new Repeater<HubEvent>(async (push) => {
      const reasons = await Promise.all(hosts.map((host) => this.#ensure(host)));
      for (const [i, reason] of reasons.entries()) {
        if (reason !== undefined) await push(hostStatusEvent(hosts[i] as string, 'HOST_DOWN', reason));
      }
    });
    const merged = Repeater.merge([unreachable, ...hosts.map((host) => this.#pubsub.subscribe(TOPIC, host))]);
    const end = () => {
      if (this.#streams.delete(merged)) this.#changed();
    };
    const stream: AsyncIterableIterator<HubEvent> = {
      next: async () => {
        const result = await merged.next();
        if (result.done) end();
        else this.#delivered += 1;
        return result;
      },
      return: (value?: unknown) => merged.return(value).finally(end),
      throw: (error?: unknown) => merged.throw(error).finally(end),
      [Symbol.asyncIterator]() {
        return this;
      },
    };
    this.#streams.add(merged);
    this.#changed();
    return stream;
  }

  stats(): EventHubStats {
    return {
      subscriptions: this.#streams.size,
      topicListeners: this.#target.listenerCount(),
      attachedHosts: [...this.#attached.keys()],
      eventsReceived: this.#received,
      eventsDelivered: this.#delivered,
    };
  }

  /** Called whenever stats() may have changed; returns the function that stops it. */
  onChange(listener: () => void): () => void {
    this.#watchers.add(listener);
    return () => {
      this.#watchers.delete(listener);
    };
  }

  /** Resolves once the hub listens to every host asked for so far and the transport has every subscription. */
  async settled(): Promise<void> {
    await Promise.all([...this.#ensuring.values(), ...[...this.#attached.values()].map((a) => a.ready)]);
    await this.#transport.flush();
  }

  /** Ends every subscription, stops listening to the hosts and closes the transport. Idempotent. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      for (const off of this.#offRegistry) off();
      for (const timer of this.#retryTimers.values()) clearTimeout(timer);
      this.#retryTimers.clear();
      await Promise.all([...this.#streams].map((s) => s.return?.()));
      this.#streams.clear();
      for (const attachment of this.#attached.values()) attachment.unsubscribe?.();
      this.#attached.clear();
      await this.#transport.close();
      this.#changed();
    })();
    return this.#closing;
  }

  #changed(): void {
    for (const watcher of [...this.#watchers]) watcher();
  }

  #publish(event: HubEvent): void {
    this.#pubsub.publish(TOPIC, event.host, event);
  }

  #onLibvirtEvent(host: string, event: LibvirtEvent): void {
    this.#received += 1;
    const hubEvent = toHubEvent(host, event);
    if (hubEvent !== undefined && this.#transport.leases.holds(host)) this.#publish(hubEvent);
  }

  /** Listens to the host's connection (once per connection); resolves when it does, never rejects. */
  #attach(host: string, connection: Connection): Promise<void> {
    if (this.#closing) return Promise.resolve();
    const current = this.#attached.get(host);
    if (current?.connection === connection) return current.ready;
    current?.unsubscribe?.();
    const attachment: Attachment = { connection, ready: Promise.resolve() };
    this.#attached.set(host, attachment);
    attachment.ready = (async () => {
      const isCurrent = () => this.#attached.get(host) === attachment && !this.#closing;
      try {
        const unsubscribe = await connection.subscribe((event) => this.#onLibvirtEvent(host, event));
        if (!isCurrent()) {
          unsubscribe();
          return;
        }
        attachment.unsubscribe = unsubscribe;
      } catch (error) {
        if (this.#attached.get(host) === attachment) this.#attached.delete(host);
        this.#log.warn({ host, err: errorMessage(error) }, 'listening to the host’s events failed');
        return;
      }
      this.#log.debug({ host }, 'listening to the host’s events');
      this.#stopRetrying(host);
      const wasDown = this.#down.delete(host);
      // Subscribed first, then RESYNC: a client that refetches on RESYNC misses nothing after it.
      const publishes = await this.#transport.leases.acquire(host);
      if (wasDown && publishes && isCurrent()) this.#publish(hostStatusEvent(host, 'RESYNC', 'RECONNECTED'));
      this.#changed();
    })();
    return attachment.ready;
  }

  #lost(host: string, reason: string): void {
    const current = this.#attached.get(host);
    this.#attached.delete(host);
    current?.unsubscribe?.();
    if (this.#closing) return;
    this.#down.set(host, reason);
    if (this.#transport.leases.holds(host)) this.#publish(hostStatusEvent(host, 'HOST_DOWN', reason));
    void this.#transport.leases.release(host);
    this.#changed();
  }

  /** Listens to the host, opening its connection if need be; resolves with why when it cannot. */
  #ensure(host: string): Promise<string | undefined> {
    const attached = this.#attached.get(host);
    if (attached !== undefined) return attached.ready.then(() => this.#reasonIfDetached(host, attached.connection));
    let ensuring = this.#ensuring.get(host);
    if (ensuring === undefined) {
      ensuring = (async () => {
        try {
          const connection = await this.#registry.connection(host);
          await this.#attach(host, connection);
          return this.#reasonIfDetached(host, connection);
        } catch (error) {
          const reason = errorMessage(error);
          if (!this.#closing) {
            this.#down.set(host, reason);
            this.#scheduleRetry(host);
          }
          return reason;
        }
      })().finally(() => this.#ensuring.delete(host));
      this.#ensuring.set(host, ensuring);
    }
    return ensuring;
  }

  #reasonIfDetached(host: string, connection: Connection): string | undefined {
    if (this.#attached.get(host)?.connection === connection) return undefined;
    return this.#down.get(host) ?? 'the gateway is not listening to this host';
  }

  /** A host a subscriber asked for could not be reached: try again while it has subscribers. */
  #scheduleRetry(host: string): void {
    if (this.#closing || this.#retryTimers.has(host)) return;
    const attempt = this.#retryAttempts.get(host) ?? 0;
    this.#retryAttempts.set(host, attempt + 1);
    const { initialDelayMs, maxDelayMs } = this.#retry;
    const timer = setTimeout(
      () => {
        this.#retryTimers.delete(host);
        if (this.#attached.has(host) || this.#target.listenerCount(topicOf(host)) === 0) {
          this.#retryAttempts.delete(host);
          return;
        }
        void this.#ensure(host);
      },
      Math.min(initialDelayMs * 2 ** attempt, maxDelayMs),
    );
    // A pending retry must not keep the process alive.
    timer.unref();
    this.#retryTimers.set(host, timer);
  }

  #stopRetrying(host: string): void {
    clearTimeout(this.#retryTimers.get(host));
    this.#retryTimers.delete(host);
    this.#retryAttempts.delete(host);
  }
}
