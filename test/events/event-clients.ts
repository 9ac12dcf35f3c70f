import { type Client, createClient } from 'graphql-ws';
import pino from 'pino';
import WebSocket from 'ws';
import { type App, type AppOptions, buildApp } from '../../src/app.ts';
import { loadConfig } from '../../src/config/config.ts';
import type { EventHub, EventHubStats } from '../../src/events/event-hub.ts';
import { HostRegistry, type HostRegistryOptions } from '../../src/hosts/host-registry.ts';
import { deferred } from '../support/test-host.ts';

export interface GraphQLResult<D = Record<string, unknown>> {
  data?: D | null;
  errors?: Array<{ message: string; extensions?: Record<string, unknown> }>;
}

/** An app listening on a free port of 127.0.0.1, with its registry. */
export interface ListeningGateway {
  app: App;
  registry: HostRegistry;
  /** http://127.0.0.1:PORT/graphql */
  url: string;
  /** ws://127.0.0.1:PORT/graphql */
  wsUrl: string;
  close(): Promise<void>;
}

export async function listen(
  hosts: Record<string, string>,
  options: { registry?: HostRegistryOptions; app?: Partial<AppOptions> } = {},
): Promise<ListeningGateway> {
  const config = await loadConfig({
    env: {
      VIRTQL_HOSTS: Object.entries(hosts)
        .map(([name, uri]) => `${name}=${uri}`)
        .join(','),
      VIRTQL_DEFAULT_HOST: Object.keys(hosts)[0],
    },
  });
  const logger = pino({ level: 'silent' });
  const registry = new HostRegistry(config, { logger, ...options.registry });
  const app = buildApp({ registry, logger, port: 0, hostname: '127.0.0.1', ...options.app });
  const url = await app.start();
  return { app, registry, url, wsUrl: url.replace(/^http/, 'ws'), close: () => app.stop() };
}

/**
 * The results of one subscription, in order. next() hands each result to at most one caller,
 * so a result that arrives before the test asks for it is not lost.
 */
export class ResultQueue<D = Record<string, unknown>> {
  readonly seen: Array<GraphQLResult<D>> = [];
  readonly #unclaimed: Array<GraphQLResult<D>> = [];
  readonly #waiters: Array<{ match: (r: GraphQLResult<D>) => boolean; resolve: (r: GraphQLResult<D>) => void }> = [];
  readonly #counters: Array<{ n: number; resolve: () => void }> = [];
  readonly #ended = deferred<unknown>();
  #done = false;

  /** Settles when the server completes the stream (undefined) or fails it (the error). */
  get ended(): Promise<unknown> {
    return this.#ended.promise;
  }

  push(result: GraphQLResult<D>): void {
    this.seen.push(result);
    const i = this.#waiters.findIndex((w) => w.match(result));
    if (i >= 0) this.#waiters.splice(i, 1)[0]?.resolve(result);
    else this.#unclaimed.push(result);
    for (const c of this.#counters.filter((c) => this.seen.length >= c.n)) {
      this.#counters.splice(this.#counters.indexOf(c), 1);
      c.resolve();
    }
  }

  end(error?: unknown): void {
    if (this.#done) return;
    this.#done = true;
    this.#ended.resolve(error);
  }

  /** Resolves once `n` results have arrived. */
  untilSeen(n: number): Promise<void> {
    if (this.seen.length >= n) return Promise.resolve();
    const d = deferred<void>();
    this.#counters.push({ n, resolve: d.resolve });
    return d.promise;
  }

  /** The oldest unclaimed result that matches, or the next one to arrive. */
  next(match: (r: GraphQLResult<D>) => boolean = () => true): Promise<GraphQLResult<D>> {
    const i = this.#unclaimed.findIndex(match);
    if (i >= 0) return Promise.resolve(this.#unclaimed.splice(i, 1)[0] as GraphQLResult<D>);
    const d = deferred<GraphQLResult<D>>();
    this.#waiters.push({ match, resolve: d.resolve });
    return d.promise;
  }
}

export interface Subscription<D = Record<string, unknown>> {
  results: ResultQueue<D>;
  stop(): void;
}

const open = new Set<Subscription<never>>();

function opened<D>(sub: Subscription<D>): Subscription<D> {
  const tracked = sub as unknown as Subscription<never>;
  open.add(tracked);
  return {
    results: sub.results,
    stop: () => {
      open.delete(tracked);
      sub.stop();
    },
  };
}

/** Stops every subscription a test left open (a failed test does), so the next one starts clean. */
export function stopAll(): void {
  for (const sub of [...open]) sub.stop();
  open.clear();
}

export function wsClient(wsUrl: string): Client {
  return createClient({ url: wsUrl, webSocketImpl: WebSocket, retryAttempts: 0, lazy: true });
}

export function subscribeWs<D = Record<string, unknown>>(
  client: Client,
  query: string,
  variables?: Record<string, unknown>,
): Subscription<D> {
  const results = new ResultQueue<D>();
  const stop = client.subscribe<D>(
    { query, ...(variables ? { variables } : {}) },
    {
      next: (r) => results.push(r as GraphQLResult<D>),
      error: (e) => results.end(e ?? new Error('subscription failed')),
      complete: () => results.end(),
    },
  );
  return opened({ results, stop });
}

/** A subscription over SSE: POST with Accept: text/event-stream (plus `headers`), the stream parsed as it comes. */
export function subscribeSse<D = Record<string, unknown>>(
  url: string,
  query: string,
  variables?: Record<string, unknown>,
  headers: Record<string, string> = {},
): Subscription<D> {
  const results = new ResultQueue<D>();
  const abort = new AbortController();
  void (async () => {
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'text/event-stream', ...headers },
      body: JSON.stringify({ query, variables }),
      signal: abort.signal,
    });
    if (!res.ok || !res.body) throw new Error(`SSE request failed: ${res.status} ${await res.text()}`);
    const decoder = new TextDecoder();
    let buffer = '';
    const reader = res.body.getReader();
    for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read()) {
      buffer += decoder.decode(chunk.value, { stream: true });
      for (let end = buffer.indexOf('\n\n'); end >= 0; end = buffer.indexOf('\n\n')) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const fields = new Map<string, string>();
        for (const line of block.split('\n')) {
          const colon = line.indexOf(':');
          if (colon <= 0) continue; // comments (keep-alive pings) start with ':'
          const key = line.slice(0, colon);
          fields.set(key, (fields.has(key) ? `${fields.get(key)}\n` : '') + line.slice(colon + 1).trimStart());
        }
        if (fields.get('event') === 'complete') {
          results.end();
          return;
        }
        const data = fields.get('data');
        if (data) results.push(JSON.parse(data) as GraphQLResult<D>);
      }
    }
    results.end();
  })().catch((error: unknown) => results.end(abort.signal.aborted ? undefined : error));
  return opened({ results, stop: () => abort.abort() });
}

/** Resolves once the hub's stats pass `check` (checked now and on every change). */
export function untilHub(hub: EventHub, check: (stats: EventHubStats) => boolean): Promise<EventHubStats> {
  const done = deferred<EventHubStats>();
  const test = () => {
    const stats = hub.stats();
    if (check(stats)) done.resolve(stats);
  };
  const off = hub.onChange(test);
  test();
  return done.promise.finally(off);
}

/** Resolves once the hub has `topicListeners` listeners and listens to their hosts: events caused after it reach them. */
export async function listening(hub: EventHub, topicListeners: number): Promise<void> {
  await untilHub(hub, (s) => s.topicListeners === topicListeners);
  await hub.settled();
}

export const DOMAIN_EVENTS = `subscription ($host: String, $domain: DomainRef, $types: [DomainEventType!]) {
  domainEvents(host: $host, domain: $domain, types: $types) {
    host { name } domainName domainUuid type detail timestamp
    domain { name state active }
  }
}`;

export interface DomainEventData {
  domainEvents: {
    host: { name: string };
    domainName: string | null;
    domainUuid: string | null;
    type: string;
    detail: string | null;
    timestamp: string;
    domain: { name: string; state: string | null; active: boolean } | null;
  };
}

export const isDomainEvent =
  (name: string, type: string) =>
  (r: GraphQLResult<DomainEventData>): boolean =>
    r.data?.domainEvents.domainName === name && r.data.domainEvents.type === type;

export const isHostEvent =
  (type: 'HOST_DOWN' | 'RESYNC') =>
  (r: GraphQLResult<DomainEventData>): boolean =>
    r.data?.domainEvents.type === type;
