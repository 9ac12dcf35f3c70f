import { type ChildProcess, fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Delivery, FromSubscribers, ToSubscribers } from './subscriber-messages.ts';

const CHILD = fileURLToPath(new URL('./subscriber-process.ts', import.meta.url));
const EXIT_WAIT_MS = 3_000;

/**
 * graphql-ws subscribers in a child process, so their parsing runs beside the gateway rather
 * than on its event loop, and the gateway's RSS is its own.
 */
export class SubscriberPool {
  readonly problems: string[] = [];
  readonly #child: ChildProcess;
  readonly #deliveries = new Map<number, Delivery>();
  readonly #exited: Promise<void>;
  #waiter: { accepts: (m: FromSubscribers) => boolean; resolve: (m: FromSubscribers | undefined) => void } | undefined;

  private constructor() {
    this.#child = fork(CHILD, [], { serialization: 'advanced', stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    this.#child.on('message', (m: FromSubscribers) => this.#receive(m));
    this.#child.on('error', (error) => this.problems.push(`subscriber process: ${error.message}`));
    this.#exited = new Promise((resolve) =>
      this.#child.once('exit', () => {
        this.#waiter?.resolve(undefined);
        resolve();
      }),
    );
  }

  /** Resolves once every socket is connected, with what failed to. */
  static async open(
    url: string,
    query: string,
    sockets: number,
    perSocket: number,
  ): Promise<{ pool: SubscriberPool; failures: string[] }> {
    const pool = new SubscriberPool();
    const opened = pool.#wait((m) => m.kind === 'opened', 60_000);
    pool.#send({ kind: 'open', url, query, sockets, perSocket });
    const m = await opened;
    return { pool, failures: m?.kind === 'opened' ? m.failures : ['the subscriber process did not answer'] };
  }

  /** The event `index` once every subscriber got it; undefined if that takes longer than timeoutMs. */
  async delivered(index: number, timeoutMs: number): Promise<Delivery | undefined> {
    const ready = this.#deliveries.get(index);
    if (ready === undefined) await this.#wait((m) => m.kind === 'delivered' && m.index === index, timeoutMs);
    const delivery = this.#deliveries.get(index);
    this.#deliveries.delete(index);
    return delivery;
  }

  async close(): Promise<void> {
    if (this.#child.connected) {
      const closed = this.#wait((m) => m.kind === 'closed', EXIT_WAIT_MS);
      this.#send({ kind: 'close' });
      await closed;
    }
    const timer = setTimeout(() => this.#child.kill(), EXIT_WAIT_MS);
    await this.#exited;
    clearTimeout(timer);
  }

  #send(message: ToSubscribers): void {
    this.#child.send(message);
  }

  #receive(m: FromSubscribers): void {
    if (m.kind === 'problem') this.problems.push(m.message);
    if (m.kind === 'delivered') this.#deliveries.set(m.index, m);
    if (this.#waiter?.accepts(m)) this.#waiter.resolve(m);
  }

  #wait(accepts: (m: FromSubscribers) => boolean, timeoutMs: number): Promise<FromSubscribers | undefined> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => done(undefined), timeoutMs);
      const done = (m: FromSubscribers | undefined) => {
        clearTimeout(timer);
        this.#waiter = undefined;
        resolve(m);
      };
      this.#waiter = { accepts, resolve: done };
    });
  }
}
