import { type FileHandle, open } from 'node:fs/promises';
import { Repeater } from 'graphql-yoga';
import type { Logger } from 'pino';
import type { AuditRecord } from './audit-record.ts';

export interface AuditLogOptions {
  /** A JSONL file each record is appended to. @default none */
  file?: string;
  /** Each record is logged at info with `audit: true`. */
  logger: Logger;
}

/**
 * Where audit records go: the pino log (`audit: true`), the JSONL file when one is configured,
 * and the live `auditEvents` subscribers of this process.
 */
export class AuditLog {
  readonly #logger: Logger;
  readonly #file: string | undefined;
  readonly #subscribers = new Map<(record: AuditRecord) => void, () => void>();
  #handle: Promise<FileHandle> | undefined;
  // Appends run one after another, so the file keeps the records' order.
  #appended: Promise<void> = Promise.resolve();
  readonly #changed = new Set<() => void>();

  constructor({ file, logger }: AuditLogOptions) {
    this.#file = file;
    this.#logger = logger.child({ component: 'audit' });
  }

  /**
   * Resolves once the record is in the file (a failure to write it is logged, never thrown).
   * `log` is the request's logger, so the line carries its request id.
   */
  write(record: AuditRecord, log?: Logger): Promise<void> {
    const { time: _time, ...fields } = record;
    const logger = log ? log.child({ component: 'audit' }) : this.#logger;
    logger.info({ audit: true, ...fields }, `audit ${record.operation} ${record.result}`);
    for (const push of this.#subscribers.keys()) push(record);
    const file = this.#file;
    if (file === undefined) return Promise.resolve();
    const line = `${JSON.stringify(record)}\n`;
    this.#appended = this.#appended
      .then(async () => {
        this.#handle ??= open(file, 'a', 0o600);
        await (await this.#handle).appendFile(line);
      })
      .catch((error: unknown) => {
        this.#handle = undefined;
        this.#logger.error({ err: error, file }, 'cannot append the audit record to the audit file');
      });
    return this.#appended;
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

  /** Ends the streams, waits for pending appends and closes the file. Idempotent. */
  async close(): Promise<void> {
    this.endStreams();
    await this.#appended;
    const handle = this.#handle;
    this.#handle = undefined;
    await (await handle?.catch(() => undefined))?.close();
  }
}
