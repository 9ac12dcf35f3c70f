import { Redis } from 'ioredis';

/** A request counted in a fixed window: how many the key has made in it, and when it ends. */
export interface WindowCount {
  count: number;
  resetInMs: number;
}

/** Fixed-window request counters per key. */
export interface WindowCounter {
  hit(key: string, windowMs: number): Promise<WindowCount>;
  close(): Promise<void>;
}

/** Counters of this process only. */
export function createMemoryCounter(now: () => number = Date.now): WindowCounter {
  const windows = new Map<string, { count: number; endsAt: number }>();
  let nextSweep = 0;
  return {
    async hit(key, windowMs) {
      const at = now();
      // Forgets ended windows now and then, so idle identities do not accumulate.
      if (at >= nextSweep) {
        for (const [k, w] of windows) if (w.endsAt <= at) windows.delete(k);
        nextSweep = at + windowMs;
      }
      let window = windows.get(key);
      if (!window || window.endsAt <= at) {
        window = { count: 0, endsAt: at + windowMs };
        windows.set(key, window);
      }
      window.count += 1;
      return { count: window.count, resetInMs: window.endsAt - at };
    },
    async close() {
      windows.clear();
    },
  };
}

/** INCR, and on the window's first request PEXPIRE, in one round trip; answers the count and the TTL left. */
const HIT = `local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) ttl = tonumber(ARGV[1]) end
return { n, ttl }`;

/** Counters in Redis, shared by every replica using the same server. */
export function createRedisCounter(url: string): WindowCounter {
  const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 2 });
  return {
    async hit(key, windowMs) {
      const [count, ttl] = (await redis.eval(HIT, 1, `virtql:ratelimit:${key}`, windowMs)) as [number, number];
      return { count, resetInMs: ttl };
    },
    async close() {
      redis.disconnect();
    },
  };
}
