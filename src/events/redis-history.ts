import type { Redis } from 'ioredis';
import { type EventHistory, encodeCursor, type HistoryLimits } from './event-history.ts';
import type { HubEvent } from './hub-event.ts';

const streamKey = (host: string) => `virtql:events:stream:${host}`;

/**
 * The history in a Redis Stream per host, so a subscriber may resume on any replica: the
 * publishing replica XADDs each event (trimmed to about maxEvents, and by age through MINID),
 * and any replica reads what followed a cursor with XRANGE.
 */
export class RedisHistory implements EventHistory {
  readonly #redis: Redis;
  readonly #limits: HistoryLimits;

  constructor(redis: Redis, limits: HistoryLimits) {
    this.#redis = redis;
    this.#limits = limits;
  }

  async append(host: string, event: HubEvent): Promise<string> {
    const key = streamKey(host);
    const minId = Math.max(0, Date.now() - this.#limits.maxAgeSeconds * 1000);
    const results = await this.#redis
      .multi()
      .xadd(key, 'MAXLEN', '~', this.#limits.maxEvents, '*', 'e', JSON.stringify(event))
      .xtrim(key, 'MINID', '~', minId)
      .exec();
    const [error, id] = results?.[0] ?? [new Error('the transaction was discarded'), null];
    if (error) throw error;
    return id as string;
  }

  /**
   * Trimming drops entries from the front only: while the cursor's own entry is there, nothing
   * after it was dropped. A cursor at the stream's last id has missed nothing even if age
   * trimmed its entry.
   */
  async since(host: string, id: string): Promise<HubEvent[] | undefined> {
    const key = streamKey(host);
    const count = this.#limits.maxEvents * 2 + 100;
    const results = await this.#redis.multi().xrange(key, id, '+', 'COUNT', count).xinfo('STREAM', key).exec();
    const [rangeError, range] = results?.[0] ?? [new Error('the transaction was discarded'), null];
    if (rangeError) throw rangeError;
    const entries = range as Array<[string, string[]]>;
    const info = results?.[1]?.[1] as unknown[] | null | undefined;
    const last = Array.isArray(info) ? info[info.indexOf('last-generated-id') + 1] : undefined;
    if (entries[0]?.[0] !== id && last !== id) return undefined;
    // More than trimming ever keeps: not a replay to trust whole.
    if (entries.length >= count) return undefined;
    return entries
      .filter(([entryId]) => entryId !== id)
      .map(([entryId, fields]) => ({
        ...(JSON.parse(fields[fields.indexOf('e') + 1] as string) as HubEvent),
        cursor: encodeCursor(host, entryId),
      }));
  }

  async close(): Promise<void> {}
}
