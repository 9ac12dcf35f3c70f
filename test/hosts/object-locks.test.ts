import { afterAll, describe, expect, it } from 'vitest';
import {
  createLocalLocks,
  createRedisLocks,
  LockUnavailableError,
  type ObjectLocks,
} from '../../src/hosts/object-locks.ts';
import { freePort, startRedis, stopRedis } from '../support/redis-server.ts';
import { deferred } from '../support/test-host.ts';

/** Runs `n` actions on one key at once; each records when it starts and ends. */
async function overlapping(locks: ObjectLocks[], n: number) {
  const trace: string[] = [];
  await Promise.all(
    Array.from({ length: n }, (_, i) =>
      (locks[i % locks.length] as ObjectLocks).run('domain:h:u', async () => {
        trace.push(`start ${i}`);
        await new Promise((resolve) => setImmediate(resolve));
        trace.push(`end ${i}`);
      }),
    ),
  );
  return trace;
}

/** True when every start is followed by its own end before the next start. */
const serial = (trace: string[]) =>
  trace.every((entry, i) =>
    i % 2 === 0 ? entry.startsWith('start') : entry === trace[i - 1]?.replace('start', 'end'),
  );

describe('locks in one process', () => {
  it('run the actions on one key one after another, in call order, and forget the key afterwards', async () => {
    const locks = createLocalLocks();
    const trace = await overlapping([locks], 10);
    expect(serial(trace)).toBe(true);
    expect(trace.filter((e) => e.startsWith('start'))).toEqual(Array.from({ length: 10 }, (_, i) => `start ${i}`));
    expect(locks.size()).toBe(0);
  });

  it('a failed action releases the lock for the next', async () => {
    const locks = createLocalLocks();
    await expect(locks.run('k', () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    expect(await locks.run('k', async () => 'next')).toBe('next');
  });
});

const redis = await startRedis();
const noRedis = 'unavailable' in redis ? redis.unavailable : undefined;
if (noRedis) console.warn(`skipping the Redis lock cases: ${noRedis}`);

describe.skipIf(noRedis !== undefined)('locks shared through Redis', () => {
  const url = 'url' in redis ? redis.url : '';
  const opened: ObjectLocks[] = [];
  const open = (options?: Parameters<typeof createRedisLocks>[1]) => {
    const locks = createRedisLocks(url, options);
    opened.push(locks);
    return locks;
  };
  afterAll(async () => {
    for (const locks of opened) await locks.close();
    if ('process' in redis) await stopRedis(redis.process);
  });

  it('never run two replicas’ actions on one key at once', async () => {
    const trace = await overlapping([open(), open()], 20);
    expect(serial(trace)).toBe(true);
    expect(trace).toHaveLength(40);
  });

  it('a replica that dies holding a lock loses it once its TTL lapses', async () => {
    const dying = createRedisLocks(url, { ttlMs: 300 });
    const held = deferred<void>();
    const entered = deferred<void>();
    void dying.run('domain:h:dead', async () => {
      entered.resolve();
      await held.promise;
    });
    await entered.promise;
    await dying.close();
    const t0 = performance.now();
    expect(await open({ retryMs: 10 }).run('domain:h:dead', async () => 'taken')).toBe('taken');
    console.info(`a dead replica's lock was taken over after ${(performance.now() - t0).toFixed(0)} ms (TTL 300 ms)`);
    held.resolve();
  });

  it('without Redis an action is refused with LockUnavailableError, not run unlocked', async () => {
    const locks = createRedisLocks(`redis://127.0.0.1:${await freePort()}`);
    let ran = false;
    await expect(
      locks.run('k', async () => {
        ran = true;
      }),
    ).rejects.toBeInstanceOf(LockUnavailableError);
    expect(ran).toBe(false);
    await locks.close();
  });
});
