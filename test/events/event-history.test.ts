import { describe, expect, it } from 'vitest';
import { compareIds, decodeCursor, encodeCursor, MemoryHistory } from '../../src/events/event-history.ts';
import { hostStatusEvent } from '../../src/events/hub-event.ts';

const event = (n: number) => hostStatusEvent('lab', 'RESYNC', String(n));

describe('the in-memory event history', () => {
  it('keeps at most maxEvents per host, and answers undefined for a cursor whose followers were dropped', async () => {
    const history = new MemoryHistory({ maxEvents: 3, maxAgeSeconds: 300 });
    const ids = Array.from({ length: 1_000 }, (_, i) => history.append('lab', event(i)));
    history.append('other', event(0));
    expect(history.size).toBe(4);
    expect(await history.since('lab', ids[0] as string)).toBeUndefined();
    expect(await history.since('lab', ids[995] as string)).toBeUndefined();
    // The last dropped one is still a good cursor: nothing after it is missing.
    expect((await history.since('lab', ids[996] as string))?.map((e) => e.detail)).toEqual(['997', '998', '999']);
    expect(await history.since('lab', ids[999] as string)).toEqual([]);
    const [first] = (await history.since('lab', ids[997] as string)) ?? [];
    expect(decodeCursor(first?.cursor ?? '')).toEqual({ host: 'lab', id: ids[998] });
  });

  it('drops events older than maxAgeSeconds, and knows no cursor of another process or of the future', async () => {
    let now = 1_000_000;
    const history = new MemoryHistory({ maxEvents: 100, maxAgeSeconds: 10 }, () => now);
    const old = history.append('lab', event(1));
    now += 5_000;
    const recent = history.append('lab', event(2));
    now += 6_000;
    // The old one was dropped, but as the last one dropped it is still a good cursor.
    expect((await history.since('lab', old))?.map((e) => e.detail)).toEqual(['2']);
    expect(history.size).toBe(1);
    expect(await history.since('lab', recent)).toEqual([]);
    const [epoch] = recent.split('-');
    expect(await history.since('lab', `${epoch}-99`)).toBeUndefined();
    expect(await history.since('lab', '1-1')).toBeUndefined();
    expect(await history.since('nowhere', recent)).toBeUndefined();
  });

  it('writes opaque cursors naming the host and the position, and reads back only its own', () => {
    const cursor = encodeCursor('lab', '1700000000000-7');
    expect(decodeCursor(cursor)).toEqual({ host: 'lab', id: '1700000000000-7' });
    for (const bad of ['', 'x'.repeat(300), 'not a cursor', Buffer.from('v2:lab:1-1').toString('base64url')]) {
      expect(decodeCursor(bad)).toBeUndefined();
    }
    expect(compareIds('2-1', '10-0')).toBe(-1);
    expect(compareIds('5-10', '5-9')).toBe(1);
    expect(compareIds('5-9', '5-9')).toBe(0);
  });
});
