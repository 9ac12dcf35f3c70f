import { randomUUID } from 'node:crypto';
import { EventEmitter, on } from 'node:events';

export type OperationStatus = 'RUNNING' | 'COMPLETED' | 'FAILED' | 'CANCELLED';

export interface Operation<P = unknown, R = unknown> {
  id: string;
  kind: string;
  /** Who started it (an identity key): they may follow and cancel it, as may holders of Sys.Audit. */
  owner?: string;
  /** The host it acts on (what cancelOperation's audit record names). */
  host?: string;
  /** What it acts on and how it was started, as plain data every replica reads (a migration's domain, postcopy). */
  details?: Readonly<Record<string, string | boolean>>;
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
  host?: string;
  details?: Readonly<Record<string, string | boolean>>;
  run: () => Promise<R>;
  /** Reads progress while the task runs; undefined when there is nothing to report. */
  poll: () => Promise<P | undefined>;
  /** Asks the task to stop; run() then settles (usually with an error). `running` says whether it still runs. */
  cancel: (running: () => boolean) => Promise<void>;
  /** The result as other replicas get it (plain data: no libvirt handles). @default the result itself */
  shareable?: (result: R) => unknown;
}

/**
 * Where replicas share operations (Redis): every change saved and announced, records read by
 * id, and cancel requests carried to the replica that runs the operation.
 */
export interface SharedOperations {
  /** Stores the operation (kept `ttlMs` after its last change) and tells the other replicas. Never rejects. */
  save(op: Operation, ttlMs: number): Promise<void>;
  /** An operation any replica runs or ran, as last saved. */
  load(id: string): Promise<Operation | undefined>;
  /** Asks the replica running it to cancel; resolves with that replica's answer (false when it is gone). */
  requestCancel(id: string): Promise<boolean>;
  /** Changes saved by the other replicas. */
  onUpdate(listener: (op: Operation) => void): void;
  /** Answers other replicas' cancel requests for this replica's operations. */
  onCancelRequest(handler: (id: string) => Promise<boolean>): void;
  /** Resolves once this replica hears updates and cancel requests. */
  ready(): Promise<void>;
  close(): Promise<void>;
}

const TERMINAL: OperationStatus[] = ['COMPLETED', 'FAILED', 'CANCELLED'];

/**
 * Long actions (migrations) run as operations: started at once, polled for progress every
 * `pollMs` while they run, published to subscribers on every change, and kept for
 * `keepMs` after they end so a late client can still read the outcome. With `shared`
 * (Redis), every replica reads, follows and cancels the operations of every other.
 */
export class OperationTracker {
  readonly #ops = new Map<
    string,
    {
      op: Operation;
      cancel: (running: () => boolean) => Promise<void>;
      cancelled: boolean;
      shareable?: (result: never) => unknown;
    }
  >();
  readonly #emitter = new EventEmitter();
  readonly #pollMs: number;
  readonly #keepMs: number;
  readonly #closing = new AbortController();
  readonly #shared: SharedOperations | undefined;

  constructor(options: { pollMs?: number; keepMs?: number; shared?: SharedOperations } = {}) {
    this.#pollMs = options.pollMs ?? 250;
    this.#keepMs = options.keepMs ?? 3_600_000;
    this.#shared = options.shared;
    this.#emitter.setMaxListeners(0);
    this.#shared?.onUpdate((op) => {
      if (!this.#ops.has(op.id)) this.#emitter.emit(op.id, op);
    });
    this.#shared?.onCancelRequest((id) => (this.#ops.has(id) ? this.cancel(id) : Promise.resolve(false)));
  }

  /** Starts the task; resolves once other replicas can see the operation. */
  async start<P, R>(task: OperationTask<P, R>): Promise<Operation<P, R>> {
    const now = new Date();
    const op: Operation<P, R> = {
      id: randomUUID(),
      kind: task.kind,
      ...(task.owner === undefined ? {} : { owner: task.owner }),
      ...(task.host === undefined ? {} : { host: task.host }),
      ...(task.details === undefined ? {} : { details: task.details }),
      status: 'RUNNING',
      startedAt: now,
      updatedAt: now,
    };
    const entry = {
      op: op as Operation,
      cancel: task.cancel,
      cancelled: false,
      ...(task.shareable ? { shareable: task.shareable as (result: never) => unknown } : {}),
    };
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
    await this.#share(op as Operation);
    return op;
  }

  /** An operation of this replica, or (shared) of any replica. */
  async get(id: string): Promise<Operation | undefined> {
    return this.#ops.get(id)?.op ?? (await this.#shared?.load(id));
  }

  /** Asks a running operation to stop; false when there is no such running operation. */
  async cancel(id: string): Promise<boolean> {
    const entry = this.#ops.get(id);
    if (!entry) return this.#shared ? this.#shared.requestCancel(id) : false;
    if (entry.op.status !== 'RUNNING') return false;
    entry.cancelled = true;
    await entry.cancel(() => entry.op.status === 'RUNNING');
    return true;
  }

  /** The operation now, then each change, ending after it finishes. */
  async *updates(id: string): AsyncGenerator<Operation> {
    // Listening before reading: a change made meanwhile (on another replica) is not lost.
    const changes = on(this.#emitter, id, { signal: this.#closing.signal });
    try {
      const first = await this.get(id);
      if (!first) return;
      const since = first.updatedAt.getTime();
      yield first;
      if (TERMINAL.includes(first.status)) return;
      for await (const [op] of changes) {
        if ((op as Operation).updatedAt.getTime() < since) continue;
        yield op as Operation;
        if (TERMINAL.includes((op as Operation).status)) return;
      }
    } catch (e) {
      // close() ends every stream quietly.
      if ((e as Error).name !== 'AbortError') throw e;
    }
  }

  async close(): Promise<void> {
    this.#closing.abort();
    await this.#shared?.close();
  }

  #update(op: Operation, patch: Partial<Operation>): void {
    if (TERMINAL.includes(op.status)) return;
    Object.assign(op, patch, { updatedAt: new Date() });
    this.#emitter.emit(op.id, { ...op });
    void this.#share(op);
  }

  #share(op: Operation): Promise<void> {
    if (!this.#shared) return Promise.resolve();
    const { shareable } = this.#ops.get(op.id) ?? {};
    const copy = shareable && op.result !== undefined ? { ...op, result: shareable(op.result as never) } : { ...op };
    return this.#shared.save(copy, this.#keepMs);
  }
}
