import { randomUUID } from 'node:crypto';
import { EventEmitter, on } from 'node:events';

export type OperationStatus = 'RUNNING' | 'COMPLETED' | 'FAILED' | 'CANCELLED';

export interface Operation<P = unknown, R = unknown> {
  id: string;
  kind: string;
  /** Who started it (an identity key): they may follow and cancel it, as may holders of Sys.Audit. */
  owner?: string;
  status: OperationStatus;
  /** The latest progress reading while it runs (and the last one after). */
  progress?: P;
  result?: R;
  error?: Error;
  startedAt: Date;
  updatedAt: Date;
}

export interface OperationTask<P, R> {
  kind: string;
  owner?: string;
  run: () => Promise<R>;
  /** Reads progress while the task runs; undefined when there is nothing to report. */
  poll: () => Promise<P | undefined>;
  /** Asks the task to stop; run() then settles (usually with an error). `running` says whether it still runs. */
  cancel: (running: () => boolean) => Promise<void>;
}

const TERMINAL: OperationStatus[] = ['COMPLETED', 'FAILED', 'CANCELLED'];

/**
 * Long actions (migrations) run as operations: started at once, polled for progress every
 * `pollMs` while they run, published to subscribers on every change, and kept for
 * `keepMs` after they end so a late client can still read the outcome.
 */
export class OperationTracker {
  readonly #ops = new Map<
    string,
    { op: Operation; cancel: (running: () => boolean) => Promise<void>; cancelled: boolean }
  >();
  readonly #emitter = new EventEmitter();
  readonly #pollMs: number;
  readonly #keepMs: number;
  readonly #closing = new AbortController();

  constructor(options: { pollMs?: number; keepMs?: number } = {}) {
    this.#pollMs = options.pollMs ?? 250;
    this.#keepMs = options.keepMs ?? 3_600_000;
    this.#emitter.setMaxListeners(0);
  }

  start<P, R>(task: OperationTask<P, R>): Operation<P, R> {
    const now = new Date();
    const op: Operation<P, R> = {
      id: randomUUID(),
      kind: task.kind,
      ...(task.owner === undefined ? {} : { owner: task.owner }),
      status: 'RUNNING',
      startedAt: now,
      updatedAt: now,
    };
    const entry = { op: op as Operation, cancel: task.cancel, cancelled: false };
    this.#ops.set(op.id, entry);
    const timer = setInterval(() => {
      task.poll().then(
        (progress) => {
          if (progress !== undefined && op.status === 'RUNNING') this.#update(op, { progress });
        },
        () => undefined,
      );
    }, this.#pollMs);
    task
      .run()
      .then(
        (result) => this.#update(op, { status: 'COMPLETED', result }),
        (error: Error) => this.#update(op, { status: entry.cancelled ? 'CANCELLED' : 'FAILED', error }),
      )
      .finally(() => {
        clearInterval(timer);
        setTimeout(() => this.#ops.delete(op.id), this.#keepMs).unref();
      });
    return op;
  }

  get(id: string): Operation | undefined {
    return this.#ops.get(id)?.op;
  }

  /** Asks a running operation to stop; false when there is no such running operation. */
  async cancel(id: string): Promise<boolean> {
    const entry = this.#ops.get(id);
    if (entry?.op.status !== 'RUNNING') return false;
    entry.cancelled = true;
    await entry.cancel(() => entry.op.status === 'RUNNING');
    return true;
  }

  /** The operation now, then each change, ending after it finishes. */
  async *updates(id: string): AsyncGenerator<Operation> {
    const first = this.get(id);
    if (!first) return;
    yield first;
    if (TERMINAL.includes(first.status)) return;
    try {
      for await (const [op] of on(this.#emitter, id, { signal: this.#closing.signal })) {
        yield op as Operation;
        if (TERMINAL.includes((op as Operation).status)) return;
      }
    } catch (e) {
      // close() ends every stream quietly.
      if ((e as Error).name !== 'AbortError') throw e;
    }
  }

  close(): void {
    this.#closing.abort();
  }

  #update(op: Operation, patch: Partial<Operation>): void {
    if (TERMINAL.includes(op.status)) return;
    Object.assign(op, patch, { updatedAt: new Date() });
    this.#emitter.emit(op.id, { ...op });
  }
}
