import { describe, expect, it } from 'vitest';
import { endable } from '../../src/auth/use-authentication.ts';

async function* events(n: number) {
  for (let i = 0; i < n; i += 1) yield { payload: `${'x'.repeat(1_000)}${i}` };
}

function heapAfterGc(): number {
  (globalThis as { gc?: () => void }).gc?.();
  return process.memoryUsage().heapUsed;
}

describe('a subscription wrapped so revocation can end it', () => {
  it('passes every event through and completes with its source', async () => {
    let cleanedUp = 0;
    const { iterator } = endable(events(3), () => (cleanedUp += 1));
    const seen: string[] = [];
    for await (const e of iterator) seen.push(e.payload.slice(1_000));
    expect(seen).toEqual(['0', '1', '2']);
    expect(cleanedUp).toBe(1);
  });

  it('end() completes a subscription waiting for its next event, and stops the source', async () => {
    let stopped = false;
    let cleanedUp = 0;
    const source: AsyncIterable<number> = {
      [Symbol.asyncIterator]: () => ({
        next: () => new Promise<IteratorResult<number>>(() => undefined),
        return: async () => {
          stopped = true;
          return { done: true, value: undefined };
        },
      }),
    };
    const subscription = endable(source, () => (cleanedUp += 1));
    const pending = subscription.iterator.next();
    subscription.end();
    expect(await pending).toEqual({ done: true, value: undefined });
    expect(await subscription.iterator.next()).toEqual({ done: true, value: undefined });
    expect(stopped).toBe(true);
    expect(cleanedUp).toBe(1);
  });

  it('end(last) delivers a last event saying why, then completes', async () => {
    const subscription = endable(events(5), () => undefined);
    expect((await subscription.iterator.next()).done).toBe(false);
    subscription.end({ payload: 'revoked' });
    expect(await subscription.iterator.next()).toEqual({ done: false, value: { payload: 'revoked' } });
    expect(await subscription.iterator.next()).toEqual({ done: true, value: undefined });
  });

  it('does not keep the events it delivered: a long-lived subscription does not grow', async () => {
    expect(typeof (globalThis as { gc?: unknown }).gc).toBe('function');
    const subscription = endable(events(100_000), () => undefined);
    const before = heapAfterGc();
    for await (const _ of subscription.iterator);
    // 100,000 events of 1 KB: racing each next() against one pending promise kept ~80 MB of them.
    expect(heapAfterGc() - before).toBeLessThan(10 * 2 ** 20);
    subscription.end();
  });
});
