import { randomUUID } from 'node:crypto';
import { createRedisEventTarget } from '@graphql-yoga/redis-event-target';
import { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { DEFAULT_HISTORY, type HistoryLimits } from './event-history.ts';
import type { EventTransport, PublishLeases } from './event-transport.ts';
import { RedisHistory } from './redis-history.ts';

export interface RedisTransportOptions {
  /** e.g. redis://127.0.0.1:6379/0 */
  url: string;
  logger: Logger;
  /** How long a replica's claim to publish a host lasts without renewal; another replica takes over after it. @default 10_000 */
  leaseTtlMs?: number;
  /** @default a random UUID */
  replicaId?: string;
  /** What each host's Redis Stream keeps for subscribers that resume. @default DEFAULT_HISTORY */
  history?: HistoryLimits;
}

/** Takes the lease when nobody holds it, renews it when this replica does. */
const CLAIM = `local v = redis.call('GET', KEYS[1])
if v == false then redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2]) return 1 end
if v == ARGV[1] then redis.call('PEXPIRE', KEYS[1], ARGV[2]) return 1 end
return 0`;

const RELEASE = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`;

const leaseKey = (host: string) => `virtql:events:publisher:${host}`;

/**
 * A lease per host in Redis (a key holding the replica id, with a TTL renewed at a third of
 * it). Replicas attached to a host but not holding its lease retry at each renewal and take
 * over when the holder goes away; the taker-over tells its subscribers to resync.
 */
class RedisLeases implements PublishLeases {
  readonly #redis: Redis;
  readonly #id: string;
  readonly #ttlMs: number;
  readonly #log: Logger;
  readonly #held = new Set<string>();
  readonly #wanted = new Set<string>();
  readonly #claiming = new Set<string>();
  readonly #takeover = new Set<(host: string) => void>();
  #timer: NodeJS.Timeout | undefined;
  #ticking = false;
  #closed = false;

  constructor(redis: Redis, id: string, ttlMs: number, log: Logger) {
    this.#redis = redis;
    this.#id = id;
    this.#ttlMs = ttlMs;
    this.#log = log;
  }

  holds(host: string): boolean {
    return this.#held.has(host);
  }

  async acquire(host: string): Promise<boolean> {
    if (this.#closed) return false;
    this.#wanted.add(host);
    this.#startTimer();
    this.#claiming.add(host);
    try {
      return await this.#claim(host);
    } finally {
      this.#claiming.delete(host);
    }
  }

  async release(host: string): Promise<void> {
    this.#wanted.delete(host);
    if (!this.#held.delete(host)) return;
    try {
      await this.#redis.eval(RELEASE, 1, leaseKey(host), this.#id);
    } catch (error) {
      this.#log.warn({ host, err: (error as Error).message }, 'releasing the event lease failed');
    }
  }

  onTakeover(listener: (host: string) => void): void {
    this.#takeover.add(listener);
  }

  async close(): Promise<void> {
    this.#closed = true;
    clearInterval(this.#timer);
    await Promise.all([...this.#held].map((host) => this.release(host)));
    this.#wanted.clear();
  }

  /** True when this replica holds the lease afterwards. */
  async #claim(host: string): Promise<boolean> {
    let ok = false;
    try {
      ok = (await this.#redis.eval(CLAIM, 1, leaseKey(host), this.#id, this.#ttlMs)) === 1;
    } catch (error) {
      this.#log.warn({ host, err: (error as Error).message }, 'claiming the event lease failed');
    }
    if (ok && this.#wanted.has(host) && !this.#closed) this.#held.add(host);
    else this.#held.delete(host);
    return this.#held.has(host);
  }

  #startTimer(): void {
    if (this.#timer !== undefined) return;
    this.#timer = setInterval(() => void this.#tick(), Math.max(50, Math.floor(this.#ttlMs / 3)));
    this.#timer.unref();
  }

  async #tick(): Promise<void> {
    if (this.#ticking || this.#closed) return;
    this.#ticking = true;
    try {
      for (const host of [...this.#wanted]) {
        if (this.#claiming.has(host)) continue;
        const before = this.#held.has(host);
        if ((await this.#claim(host)) && !before) {
          this.#log.info({ host }, 'took over publishing the host’s events');
          for (const listener of [...this.#takeover]) listener(host);
        }
      }
    } finally {
      this.#ticking = false;
    }
  }
}

/**
 * The client as yoga's Redis event target uses it (publish, subscribe, unsubscribe, on), with
 * the command promises it drops caught and logged: a failed PUBLISH must not become an
 * unhandled rejection that ends the process.
 */
function logFailures(client: Redis, log: Logger): Redis {
  const warn = (command: string) => (error: Error) => log.warn({ command, err: error.message }, 'redis command failed');
  return {
    publish: (channel: string, message: string) => client.publish(channel, message).catch(warn('publish')),
    subscribe: (...channels: string[]) => client.subscribe(...channels).catch(warn('subscribe')),
    unsubscribe: (...channels: string[]) => client.unsubscribe(...channels).catch(warn('unsubscribe')),
    on: (event: string, listener: (...args: unknown[]) => void) => client.on(event, listener),
  } as unknown as Redis;
}

/**
 * Events through Redis pub/sub (yoga's Redis event target over two ioredis clients), so a
 * subscriber on any replica sees the events of hosts attached through any replica, and a
 * Redis Stream per host, so it may resume on any of them.
 */
export function createRedisTransport(options: RedisTransportOptions): EventTransport {
  const log = options.logger.child({ component: 'redis-events' });
  const publishClient = new Redis(options.url);
  const subscribeClient = new Redis(options.url);
  for (const [role, client] of [
    ['publish', publishClient],
    ['subscribe', subscribeClient],
  ] as const) {
    // Without a listener ioredis prints every failed reconnect to stderr.
    client.on('error', (error: Error) => log.warn({ role, err: error.message }, 'redis connection failed'));
  }
  const leases = new RedisLeases(publishClient, options.replicaId ?? randomUUID(), options.leaseTtlMs ?? 10_000, log);
  return {
    eventTarget: createRedisEventTarget({
      publishClient: logFailures(publishClient, log),
      subscribeClient: logFailures(subscribeClient, log),
    }),
    leases,
    history: new RedisHistory(publishClient, options.history ?? DEFAULT_HISTORY),
    // Redis answers one connection's commands in order: once PING is answered, so is every SUBSCRIBE before it.
    flush: async () => {
      await subscribeClient.ping();
    },
    close: async () => {
      await leases.close();
      await Promise.all([publishClient.quit(), subscribeClient.quit()]).catch(() => undefined);
      publishClient.disconnect();
      subscribeClient.disconnect();
    },
  };
}
