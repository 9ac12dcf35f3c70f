import { type FileHandle, open, rename, rm } from 'node:fs/promises';
import { Repeater } from 'graphql-yoga';
import type { Logger } from 'pino';
import type { AuditRecord } from './audit-record.ts';

export interface AuditLogOptions {
  /** A JSONL file each record is appended to. @default none */
  file?: string;
  /** The file's size at which it is rotated: file → file.1 → … → file.keep. @default 100 MiB */
  maxBytes?: number;
  /** Rotated files kept. @default 5 */
  keep?: number;
  /** Failed or refused calls recorded per identity and per client address in each window. @default 60 */
  maxFailuresPerMinute?: number;
  /** The window of that count. @default 60,000 */
  windowMs?: number;
  /** Each record is logged at info with `audit: true`. */
  logger: Logger;
}

interface Window {
  endsAt: number;
  count: number;
  suppressed: number;
  /** The last record suppressed: whom and where the summary names. */
  last?: AuditRecord;
}

/** The operation of a request refused for its credentials before it was parsed (any POST to /graphql). */
export const UNAUTHENTICATED_OPERATION = 'unauthenticatedRequest';

/** The operation of the record that says how many failed calls of one identity or address were not recorded. */
export const SUPPRESSED_OPERATION = 'auditSuppressed';

/**
 * Where audit records go: the pino log (`audit: true`), the JSONL file when one is configured
 * (rotated by size), and the live `auditEvents` subscribers of this process. Successful calls are
 * always recorded; failed and refused ones (FORBIDDEN, UNAUTHENTICATED, INVALID_INPUT…) up to
 * `maxFailuresPerMinute` per identity and per client address, then one record per window says
 * how many more there were, so a caller repeating refused calls cannot fill the disk.
 */
export class AuditLog {
  readonly #logger: Logger;
  readonly #file: string | undefined;
  readonly #maxBytes: number;
  readonly #keep: number;
  readonly #maxFailures: number;
  readonly #windowMs: number;
  readonly #windows = new Map<string, Window>();
  readonly #sweep: NodeJS.Timeout;
  readonly #subscribers = new Map<(record: AuditRecord) => void, () => void>();
  #handle: Promise<FileHandle> | undefined;
  #size = 0;
  // Appends run one after another, so the file keeps the records' order.
  #appended: Promise<void> = Promise.resolve();
  readonly #changed = new Set<() => void>();

  constructor({ file, logger, maxBytes, keep, maxFailuresPerMinute, windowMs }: AuditLogOptions) {
    this.#file = file;
    this.#maxBytes = maxBytes ?? 100 * 1024 * 1024;
    this.#keep = keep ?? 5;
    this.#maxFailures = maxFailuresPerMinute ?? 60;
    this.#windowMs = windowMs ?? 60_000;
    this.#logger = logger.child({ component: 'audit' });
    // Windows that ended with calls left out say so even when their caller went quiet.
    this.#sweep = setInterval(() => this.#summarize(false), this.#windowMs);
    this.#sweep.unref();
  }

  /**
   * Resolves once the record is in the file (a failure to write it is logged, never thrown).
   * `log` is the request's logger, so the line carries its request id.
   */
  write(record: AuditRecord, log?: Logger): Promise<void> {
    if (record.result !== 'ok' && !this.#admit(record)) return this.#appended;
    return this.#record(record, log);
  }

  /** Counts a failed call against its identity and its address; false once either is over the limit. */
  #admit(record: AuditRecord): boolean {
    const now = Date.now();
    let admitted = true;
    for (const key of [`identity ${record.identity.kind}:${record.identity.name}`, `source ${record.source ?? ''}`]) {
      let window = this.#windows.get(key);
      if (window && window.endsAt <= now) {
        this.#summary(window);
        window = undefined;
      }
      if (!window) {
        window = { endsAt: now + this.#windowMs, count: 0, suppressed: 0 };
        this.#windows.set(key, window);
      }
      window.count += 1;
      if (window.count > this.#maxFailures) {
        window.suppressed += 1;
        window.last = record;
        admitted = false;
      }
    }
    return admitted;
  }

  #summary(window: Window): void {
    const { last, suppressed } = window;
    if (!last || suppressed === 0) return;
    window.suppressed = 0;
    void this.#record({
      time: new Date().toISOString(),
      identity: last.identity,
      source: last.source,
      host: last.host,
      operation: SUPPRESSED_OPERATION,
      arguments: {
        suppressed,
        windowSeconds: this.#windowMs / 1000,
        lastOperation: last.operation,
        lastResult: last.result,
      },
      result: `${suppressed} more suppressed`,
      durationMs: 0,
    });
  }

  /** Writes the summaries of ended windows (of all, at close) and forgets ended windows. */
  #summarize(all: boolean): void {
    const now = Date.now();
    for (const [key, window] of this.#windows) {
      if (!all && window.endsAt > now) continue;
      this.#summary(window);
      if (window.endsAt <= now) this.#windows.delete(key);
    }
  }

  #record(record: AuditRecord, log?: Logger): Promise<void> {
    const { time: _time, ...fields } = record;
    const logger = log ? log.child({ component: 'audit' }) : this.#logger;
    logger.info({ audit: true, ...fields }, `audit ${record.operation} ${record.result}`);
    for (const push of this.#subscribers.keys()) push(record);
    const file = this.#file;
    if (file === undefined) return Promise.resolve();
    const line = `${JSON.stringify(record)}\n`;
    this.#appended = this.#appended
      .then(() => this.#append(file, line))
      .catch((error: unknown) => {
        this.#handle = undefined;
        this.#logger.error({ err: error, file }, 'cannot append the audit record to the audit file');
      });
    return this.#appended;
  }

  async #append(file: string, line: string): Promise<void> {
    if (this.#handle === undefined) {
      this.#handle = open(file, 'a', 0o600);
      this.#size = (await (await this.#handle).stat()).size;
    }
    const bytes = Buffer.byteLength(line);
    if (this.#size > 0 && this.#size + bytes > this.#maxBytes) await this.#rotate(file);
    await (await (this.#handle as Promise<FileHandle>)).appendFile(line);
    this.#size += bytes;
  }

  /** file.N is deleted, file.N-1 … file.1 move up one, file becomes file.1, and a new file begins. */
  async #rotate(file: string): Promise<void> {
    await (await this.#handle)?.close();
    this.#handle = undefined;
    const missing = (e: NodeJS.ErrnoException) => {
      if (e.code !== 'ENOENT') throw e;
    };
    if (this.#keep === 0) await rm(file, { force: true });
    else {
      await rm(`${file}.${this.#keep}`, { force: true });
      for (let i = this.#keep - 1; i >= 1; i--) await rename(`${file}.${i}`, `${file}.${i + 1}`).catch(missing);
      await rename(file, `${file}.1`);
    }
    this.#handle = open(file, 'a', 0o600);
    this.#size = 0;
    await this.#handle;
  }

  /** Every record written from now on, until the iterator is returned or the log ends its streams. */
  subscribe(): Repeater<AuditRecord> {
    return new Repeater<AuditRecord>(async (push, stop) => {
      const listener = (record: AuditRecord) => void push(record);
      this.#subscribers.set(listener, () => stop());
      this.#notify();
      await stop;
      this.#subscribers.delete(listener);
      this.#notify();
    });
  }

  /** How many `auditEvents` streams are open. */
  get subscribers(): number {
    return this.#subscribers.size;
  }

  /** Calls `listener` whenever a stream opens or ends; returns the unsubscribe function. */
  onChange(listener: () => void): () => void {
    this.#changed.add(listener);
    return () => this.#changed.delete(listener);
  }

  #notify(): void {
    for (const listener of this.#changed) listener();
  }

  /** Completes every live stream (at shutdown, before the sockets close). */
  endStreams(): void {
    for (const stop of this.#subscribers.values()) stop();
  }

  /** Writes what was left out, ends the streams, waits for pending appends and closes the file. Idempotent. */
  async close(): Promise<void> {
    clearInterval(this.#sweep);
    this.#summarize(true);
    this.#windows.clear();
    this.endStreams();
    await this.#appended;
    const handle = this.#handle;
    this.#handle = undefined;
    await (await handle?.catch(() => undefined))?.close();
  }
}
