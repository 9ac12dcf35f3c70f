import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';

/** Mutual exclusion per key (e.g. a domain's host and UUID), so a check and the action it guards are one step. */
export interface ObjectLocks {
  /** Runs `fn` once no other holder of `key` runs; callers of one key run one after another, in call order. */
  run<T>(key: string, fn: () => Promise<T>): Promise<T>;
  /** Keys held or waited for now (they are forgotten when their last caller finishes). */
  size(): number;
  close(): Promise<void>;
}

/** The lock could not be taken in time: another replica holds it (or Redis does not answer). */
export class LockTimeoutError extends Error {
  constructor(
    readonly key: string,
    readonly ms: number,
  ) {
    super(`${key} is busy with another action; gave up waiting after ${ms} ms`);
    this.name = 'LockTimeoutError';
  }
}

/** Redis, where the replicas' locks are, did not answer. */
export class LockUnavailableError extends Error {
  constructor(
    readonly key: string,
    cause: unknown,
  ) {
    super(`the lock on ${key} cannot be taken: Redis does not answer`, { cause });
    this.name = 'LockUnavailableError';
  }
}

/** A queue per key in this process; the entry goes once its queue is empty, so keys do not accumulate. */
export function createLocalLocks(): ObjectLocks {
  const tails = new Map<string, Promise<void>>();
  return {
    run<T>(key: string, fn: () => Promise<T>): Promise<T> {
      const before = tails.get(key) ?? Promise.resolve();
      const result = before.then(fn);
      const tail = result.then(
        () => undefined,
        () => undefined,
      );
      tails.set(key, tail);
      void tail.then(() => {
        if (tails.get(key) === tail) tails.delete(key);
      });
      return result;
    },
    size: () => tails.size,
    // Nothing to release: an action still under way (on a hung host, say) must not hold up shutdown.
    close: async () => undefined,
  };
}

/** Deletes the lock only while it is still ours (it may have lapsed and been taken by another). */
const RELEASE = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`;
/** Pushes back the expiry of a lock still ours. */
const RENEW = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0`;

export interface RedisLocksOptions {
  /** A held lock lapses this long after its replica stopped renewing it (renewed every third of it). @default 30_000 */
  ttlMs?: number;
  /** How long a caller waits for a lock another replica holds. @default 60_000 */
  waitMs?: number;
  /** Delay between attempts at a lock another replica holds. @default 20 */
  retryMs?: number;
}

/**
 * Locks every replica on the same Redis honours: `SET key token NX PX ttl`, renewed while the
 * action runs, released only by its holder. Callers in one replica queue locally first, so a
 * replica contends for a key with one request at a time.
 */
export function createRedisLocks(url: string, options: RedisLocksOptions = {}): ObjectLocks {
  const { ttlMs = 30_000, waitMs = 60_000, retryMs = 20 } = options;
  const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 2 });
  // A Redis that does not answer fails the commands (LockUnavailableError); the event adds nothing.
  redis.on('error', () => undefined);
  const local = createLocalLocks();
  const redisKey = (key: string) => `virtql:lock:${key}`;

  async function acquire(key: string, token: string): Promise<void> {
    const deadline = Date.now() + waitMs;
    for (;;) {
      const taken = await redis.set(redisKey(key), token, 'PX', ttlMs, 'NX').catch((e: unknown) => {
        throw new LockUnavailableError(key, e);
      });
      if (taken === 'OK') return;
      if (Date.now() >= deadline) throw new LockTimeoutError(key, waitMs);
      await new Promise((resolve) => setTimeout(resolve, retryMs + Math.random() * retryMs));
    }
  }

  return {
    run<T>(key: string, fn: () => Promise<T>): Promise<T> {
      return local.run(key, async () => {
        const token = randomUUID();
        await acquire(key, token);
        const renew = setInterval(() => {
          redis.eval(RENEW, 1, redisKey(key), token, ttlMs).catch(() => undefined);
        }, ttlMs / 3);
        renew.unref();
        try {
          return await fn();
        } finally {
          clearInterval(renew);
          await redis.eval(RELEASE, 1, redisKey(key), token).catch(() => undefined);
        }
      });
    },
    size: () => local.size(),
    async close() {
      await local.close();
      redis.disconnect();
    },
  };
}
