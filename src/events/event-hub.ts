import { createPubSub, type PubSub, type PubSubEventTarget } from 'graphql-yoga';
import { type Logger, pino } from 'pino';
import type { HostRegistryEvents } from '../hosts/host-registry.ts';
import type { Connection, LibvirtEvent } from '../libvirt/index.ts';
import { compareIds, encodeCursor, idOf, type StreamPosition } from './event-history.ts';
import { createMemoryTransport, type EventTransport } from './event-transport.ts';
import { type HubEvent, hostStatusEvent, toHubEvent } from './hub-event.ts';
import { SubscriberQueue } from './subscriber-queue.ts';

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
  /** Events that may wait for one subscriber before it is dropped as too slow. @default 1_000 */
  maxQueuedEvents?: number;
}

export interface SubscribeOptions {
  /** Which events this subscriber wants; checked once per event, before anything is queued. */
  accept?: (event: HubEvent) => boolean;
  /** Called when the subscriber fell `maxQueuedEvents` behind and its stream was dropped. */
  onOverflow?: (error: Error) => void;
  /**
   * Resume after this position of one of the hosts: first the events of that host it missed
   * (those `accept` takes), then live ones, none twice; a RESYNC (detail HISTORY_EXPIRED)
   * instead of the missed events when the history no longer has them all.
   */
  after?: StreamPosition;
}

export interface EventHubStats {
  /** Live subscription streams. */
  subscriptions: number;
  /** Subscribers listening per host, summed over hosts (a subscription to every host counts once for each). */
  topicListeners: number;
  /** Hosts whose connection the hub listens to. */
  attachedHosts: string[];
  /** libvirt events received from the hosts since the hub started. */
  eventsReceived: number;
  /** Events queued for subscribers since the hub started (one per subscriber per event it accepts). */
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
  readonly #target: PubSubEventTarget<Topics>;
  readonly #pubsub: PubSub<Topics>;
  readonly #log: Logger;
  readonly #retry: { initialDelayMs: number; maxDelayMs: number };
  readonly #attached = new Map<string, Attachment>();
  /** Hosts known to be unreachable, with the reason: a RESYNC follows when the hub listens again. */
  readonly #down = new Map<string, string>();
  readonly #ensuring = new Map<string, Promise<string | undefined>>();
  readonly #retryTimers = new Map<string, NodeJS.Timeout>();
  readonly #retryAttempts = new Map<string, number>();
  readonly #streams = new Set<SubscriberQueue<HubEvent>>();
  /** The subscribers of each host, with the one listener the hub keeps on that host's topic. */
  readonly #hostSubscribers = new Map<
    string,
    { queues: Map<SubscriberQueue<HubEvent>, SubscribeOptions>; off: () => void }
  >();
  readonly #maxQueued: number;
  readonly #hostEventListeners = new Set<(host: string) => void>();
  /** Live events that came for a resuming subscriber while its missed ones are read. */
  readonly #replaying = new Map<SubscriberQueue<HubEvent>, HubEvent[]>();
  /** Per host, the events whose position the history has not answered yet, in order. */
  readonly #appending = new Map<string, Promise<void>>();
  #topicListeners = 0;
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
    this.#maxQueued = options.maxQueuedEvents ?? 1_000;
    this.#target = this.#transport.eventTarget;
    this.#pubsub = createPubSub<Topics>({ eventTarget: this.#target });
    this.#offRegistry = [
      this.#registry.on('connected', (host, connection) => void this.#attach(host, connection)),
      this.#registry.on('disconnected', (host, reason) => this.#lost(host, reason)),
    ];
    this.#transport.leases.onTakeover((host) => this.#publish(hostStatusEvent(host, 'RESYNC', 'PUBLISHER_CHANGED')));
  }

  /**
   * The events of these hosts, as they happen, until the consumer returns (or the hub
   * closes). It starts with a HOST_DOWN for each host that cannot be reached now. Each event
   * is the same object for every subscriber, so work done per event can be shared.
   */
  subscribe(hosts: readonly string[], options: SubscribeOptions = {}): AsyncIterableIterator<HubEvent> {
    const queue: SubscriberQueue<HubEvent> = new SubscriberQueue(
      this.#maxQueued,
      () => this.#unsubscribe(queue, hosts),
      options.onOverflow,
    );
    if (this.#closing) {
      queue.end();
      return queue;
    }
    this.#streams.add(queue);
    const { after } = options;
    if (after !== undefined) {
      // Live first (buffered), then what was missed: nothing falls between the two.
      this.#replaying.set(queue, []);
      void this.#replay(queue, options, after);
    }
    for (const host of new Set(hosts)) this.#listen(host, queue, options);
    void Promise.all(hosts.map((host) => this.#ensure(host))).then((reasons) => {
      for (const [i, reason] of reasons.entries()) {
        if (reason !== undefined)
          this.#deliver(queue, options, hostStatusEvent(hosts[i] as string, 'HOST_DOWN', reason));
      }
    });
    this.#changed();
    return queue;
  }

  stats(): EventHubStats {
    return {
      subscriptions: this.#streams.size,
      topicListeners: this.#topicListeners,
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

  /** Resolves once the hub listens to every host asked for so far, has published what it received, and the transport has every subscription. */
  async settled(): Promise<void> {
    await Promise.all([...this.#ensuring.values(), ...[...this.#attached.values()].map((a) => a.ready)]);
    await Promise.all(this.#appending.values());
    await this.#transport.flush();
  }

  /** Ends every subscription, stops listening to the hosts and closes the transport. Idempotent. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      for (const off of this.#offRegistry) off();
      for (const timer of this.#retryTimers.values()) clearTimeout(timer);
      this.#retryTimers.clear();
      for (const stream of [...this.#streams]) stream.end();
      this.#streams.clear();
      for (const attachment of this.#attached.values()) attachment.unsubscribe?.();
      this.#attached.clear();
      await this.#transport.close();
      this.#changed();
    })();
    return this.#closing;
  }

  #listen(host: string, queue: SubscriberQueue<HubEvent>, options: SubscribeOptions): void {
    let entry = this.#hostSubscribers.get(host);
    if (entry === undefined) {
      const queues = new Map<SubscriberQueue<HubEvent>, SubscribeOptions>();
      const listener = (e: Event) => {
        const event = (e as CustomEvent<HubEvent>).detail;
        for (const [q, o] of [...queues]) this.#deliver(q, o, event);
      };
      const topic = topicOf(host);
      this.#target.addEventListener(topic, listener);
      entry = { queues, off: () => this.#target.removeEventListener(topic, listener) };
      this.#hostSubscribers.set(host, entry);
    }
    entry.queues.set(queue, options);
    this.#topicListeners += 1;
  }

  #deliver(queue: SubscriberQueue<HubEvent>, options: SubscribeOptions, event: HubEvent): void {
    if (options.accept && !options.accept(event)) return;
    const buffered = this.#replaying.get(queue);
    if (buffered === undefined) this.#push(queue, event);
    // Held while the missed events are read: as many as its queue may hold, as if it read none.
    else if (buffered.length < this.#maxQueued) buffered.push(event);
    else queue.overflow();
  }

  #push(queue: SubscriberQueue<HubEvent>, event: HubEvent): void {
    if (queue.push(event)) this.#delivered += 1;
  }

  /** Sends a resuming subscriber what it missed, then the live events that came meanwhile, minus those replayed. */
  async #replay(queue: SubscriberQueue<HubEvent>, options: SubscribeOptions, after: StreamPosition): Promise<void> {
    let missed: HubEvent[] | undefined;
    try {
      await this.#transport.flush();
      missed = await this.#transport.history.since(after.host, after.id);
    } catch (error) {
      this.#log.warn({ host: after.host, err: errorMessage(error) }, 'reading the event history failed');
    }
    const live = this.#replaying.get(queue) ?? [];
    this.#replaying.delete(queue);
    if (queue.ended) return;
    const accepted = missed?.filter((e) => !options.accept || options.accept(e));
    if (accepted === undefined || accepted.length + live.length > this.#maxQueued) {
      this.#push(queue, hostStatusEvent(after.host, 'RESYNC', 'HISTORY_EXPIRED'));
      for (const event of live) this.#push(queue, event);
      return;
    }
    for (const event of accepted) this.#push(queue, event);
    const through = missed?.at(-1);
    const last = (through && idOf(through, after.host)) ?? after.id;
    for (const event of live) {
      const id = idOf(event, after.host);
      if (id === undefined || compareIds(id, last) > 0) this.#push(queue, event);
    }
    // Published after its position was read but not yet delivered: it came with the replay.
    const seen = options.accept;
    options.accept = (e) => {
      const id = idOf(e, after.host);
      return (id === undefined || compareIds(id, last) > 0) && (!seen || seen(e));
    };
  }

  #unsubscribe(queue: SubscriberQueue<HubEvent>, hosts: readonly string[]): void {
    if (!this.#streams.delete(queue)) return;
    for (const host of new Set(hosts)) {
      const entry = this.#hostSubscribers.get(host);
      if (!entry?.queues.delete(queue)) continue;
      this.#topicListeners -= 1;
      if (entry.queues.size === 0) {
        entry.off();
        this.#hostSubscribers.delete(host);
      }
    }
    this.#changed();
  }

  #changed(): void {
    for (const watcher of [...this.#watchers]) watcher();
  }

  /** Records the event in the host's history, then publishes it with its cursor, in the order published. */
  #publish(event: HubEvent): void {
    const { host } = event;
    const pending = this.#appending.get(host);
    if (pending !== undefined) {
      this.#queueAppend(
        host,
        pending.then(async () => this.#send(event, await this.#append(host, event))),
      );
      return;
    }
    const id = this.#append(host, event);
    if (typeof id === 'object')
      this.#queueAppend(
        host,
        id.then((known) => this.#send(event, known)),
      );
    else this.#send(event, id);
  }

  /** The event's id in the history; undefined when recording it failed (it goes out without a cursor). */
  #append(host: string, event: HubEvent): string | undefined | Promise<string | undefined> {
    const failed = (error: unknown) => {
      this.#log.warn({ host, err: errorMessage(error) }, 'recording the event in the history failed');
      return undefined;
    };
    try {
      const id = this.#transport.history.append(host, event);
      return typeof id === 'string' ? id : id.catch(failed);
    } catch (error) {
      return failed(error);
    }
  }

  #send(event: HubEvent, id: string | undefined): void {
    const published = id === undefined ? event : { ...event, cursor: encodeCursor(event.host, id) };
    this.#pubsub.publish(TOPIC, event.host, published);
  }

  #queueAppend(host: string, done: Promise<void>): void {
    const tracked: Promise<void> = done.finally(() => {
      if (this.#appending.get(host) === tracked) this.#appending.delete(host);
    });
    this.#appending.set(host, tracked);
  }

  /**
   * Told of every libvirt event a host's connection delivers (the host's name), whether or not
   * anyone subscribes: caches kept across requests drop what the event may have changed.
   */
  onHostEvent(listener: (host: string) => void): () => void {
    this.#hostEventListeners.add(listener);
    return () => {
      this.#hostEventListeners.delete(listener);
    };
  }

  #onLibvirtEvent(host: string, event: LibvirtEvent): void {
    this.#received += 1;
    for (const listener of this.#hostEventListeners) listener(host);
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
        if (this.#attached.has(host) || !this.#hostSubscribers.has(host)) {
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
