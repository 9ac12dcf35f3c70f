import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';

/** Open-subscription places per identity: `acquire` answers a release function, or undefined when all `max` are taken. */
export interface SubscriptionSlots {
  acquire(key: string, max: number): Promise<(() => void) | undefined>;
  close(): Promise<void>;
}

/** Places counted by this process only. */
export function createMemorySlots(): SubscriptionSlots {
  const open = new Map<string, number>();
  return {
    async acquire(key, max) {
      const held = open.get(key) ?? 0;
      if (held >= max) return undefined;
      open.set(key, held + 1);
      let released = false;
      return () => {
        if (released) return;
        released = true;
        const n = (open.get(key) ?? 1) - 1;
        if (n > 0) open.set(key, n);
        else open.delete(key);
      };
    },
    async close() {
      open.clear();
    },
  };
}

/** Drops lapsed places, then takes one if fewer than ARGV[1] remain: a member scored with its expiry (Redis' clock). */
const ACQUIRE = `local t = redis.call('TIME')
local now = t[1] * 1000 + math.floor(t[2] / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[1]) then return 0 end
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[3])
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return 1`;

/** Pushes back the expiry of places still held (XX: never revives a released one). */
const RENEW = `local t = redis.call('TIME')
local until_ = t[1] * 1000 + math.floor(t[2] / 1000) + tonumber(ARGV[1])
for i = 2, #ARGV do redis.call('ZADD', KEYS[1], 'XX', until_, ARGV[i]) end
redis.call('PEXPIRE', KEYS[1], ARGV[1])
return 1`;

const slotsKey = (key: string) => `virtql:subscriptions:${key}`;

/**
 * Places shared by every replica on the same Redis: a sorted set per identity whose members
 * are the open subscriptions, each scored with when it lapses. A replica renews its own at a
 * third of `ttlMs`, so the places of a replica that dies free themselves within `ttlMs`.
 */
export function createRedisSlots(url: string, ttlMs = 30_000): SubscriptionSlots {
  const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 2 });
  const held = new Map<string, Set<string>>();
  const renew = setInterval(() => {
    for (const [key, members] of held) {
      redis.eval(RENEW, 1, slotsKey(key), ttlMs, ...members).catch(() => undefined);
    }
  }, ttlMs / 3);
  renew.unref();
  return {
    async acquire(key, max) {
      const member = randomUUID();
      const taken = await redis.eval(ACQUIRE, 1, slotsKey(key), max, ttlMs, member);
      if (taken !== 1) return undefined;
      const members = held.get(key) ?? new Set<string>();
      members.add(member);
      held.set(key, members);
      return () => {
        if (!members.delete(member)) return;
        if (members.size === 0) held.delete(key);
        redis.zrem(slotsKey(key), member).catch(() => undefined);
      };
    },
    async close() {
      clearInterval(renew);
      const pending = [...held].map(([key, members]) => redis.zrem(slotsKey(key), ...members).catch(() => undefined));
      held.clear();
      await Promise.all(pending);
      redis.disconnect();
    },
  };
}
