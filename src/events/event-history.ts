import type { HubEvent } from './hub-event.ts';

/** How much of each host's stream is kept for subscribers that come back (config events.history). */
export interface HistoryLimits {
  /** Events kept per host. @default 10_000 */
  maxEvents: number;
  /** Events older than this are dropped. @default 300 */
  maxAgeSeconds: number;
}

export const DEFAULT_HISTORY: HistoryLimits = { maxEvents: 10_000, maxAgeSeconds: 300 };

/**
 * The recent events of each host's stream, by position: an id `<major>-<minor>` that grows with
 * every event of the host (a Redis Stream entry id, or this process's start and a counter).
 */
export interface EventHistory {
  /** Records the event and answers its id (synchronously when it can, so events stay in order). */
  append(host: string, event: HubEvent): string | Promise<string>;
  /**
   * The host's events after `id`, oldest first, each with its cursor; undefined when events after
   * it were dropped, or it is not a position of this history (it left it, or never was in it).
   */
  since(host: string, id: string): Promise<HubEvent[] | undefined>;
  close(): Promise<void>;
}

/** A position in a host's stream, as clients hold it: opaque, base64url of `v1:<host>:<id>`. */
export interface StreamPosition {
  host: string;
  id: string;
}

const POSITION = /^v1:([A-Za-z0-9._-]{1,64}):(\d{1,20}-\d{1,20})$/;

export function encodeCursor(host: string, id: string): string {
  return Buffer.from(`v1:${host}:${id}`).toString('base64url');
}

/** The position a cursor names; undefined when it is not one this gateway wrote. */
export function decodeCursor(cursor: string): StreamPosition | undefined {
  if (cursor.length > 200 || !/^[A-Za-z0-9_-]+$/.test(cursor)) return undefined;
  const match = POSITION.exec(Buffer.from(cursor, 'base64url').toString('utf8'));
  return match ? { host: match[1] as string, id: match[2] as string } : undefined;
}

/** Orders two ids of one host's stream. */
export function compareIds(a: string, b: string): number {
  const [aMajor = 0n, aMinor = 0n] = a.split('-').map(BigInt);
  const [bMajor = 0n, bMinor = 0n] = b.split('-').map(BigInt);
  if (aMajor !== bMajor) return aMajor < bMajor ? -1 : 1;
  return aMinor === bMinor ? 0 : aMinor < bMinor ? -1 : 1;
}

/** The id of an event's cursor, when it is of this host. */
export function idOf(event: HubEvent, host: string): string | undefined {
  if (event.cursor === undefined || event.host !== host) return undefined;
  return decodeCursor(event.cursor)?.id;
}

interface HostLog {
  entries: Array<{ id: string; seq: number; at: number; event: HubEvent }>;
  /** Entries are dropped from the front: the sequence number of the last one dropped. */
  droppedThrough: number;
  seq: number;
}

/**
 * This process's history: an array per host, capped by count and age. Ids are `<start>-<seq>`,
 * the process's start in ms and a counter, so a cursor from before a restart is never taken as
 * one of this process's.
 */
export class MemoryHistory implements EventHistory {
  readonly #limits: HistoryLimits;
  readonly #epoch = String(Date.now());
  readonly #hosts = new Map<string, HostLog>();
  readonly #now: () => number;

  constructor(limits: HistoryLimits = DEFAULT_HISTORY, now: () => number = Date.now) {
    this.#limits = limits;
    this.#now = now;
  }

  /** Events kept now, over every host (for tests of the cap). */
  get size(): number {
    let size = 0;
    for (const log of this.#hosts.values()) size += log.entries.length;
    return size;
  }

  append(host: string, event: HubEvent): string {
    let log = this.#hosts.get(host);
    if (log === undefined) {
      log = { entries: [], droppedThrough: 0, seq: 0 };
      this.#hosts.set(host, log);
    }
    log.seq += 1;
    const id = `${this.#epoch}-${log.seq}`;
    log.entries.push({ id, seq: log.seq, at: this.#now(), event: { ...event, cursor: encodeCursor(host, id) } });
    this.#trim(log);
    return id;
  }

  async since(host: string, id: string): Promise<HubEvent[] | undefined> {
    const [epoch, seqText] = id.split('-');
    const log = this.#hosts.get(host);
    if (epoch !== this.#epoch || log === undefined) return undefined;
    this.#trim(log);
    const seq = Number(seqText);
    if (seq < log.droppedThrough || seq > log.seq) return undefined;
    return log.entries.filter((e) => e.seq > seq).map((e) => e.event);
  }

  async close(): Promise<void> {
    this.#hosts.clear();
  }

  #trim(log: HostLog): void {
    const oldest = this.#now() - this.#limits.maxAgeSeconds * 1000;
    let drop = Math.max(0, log.entries.length - this.#limits.maxEvents);
    while (drop < log.entries.length && (log.entries[drop]?.at ?? 0) < oldest) drop += 1;
    if (drop === 0) return;
    log.droppedThrough = log.entries[drop - 1]?.seq ?? log.droppedThrough;
    log.entries.splice(0, drop);
  }
}
