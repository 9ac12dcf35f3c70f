import type { Connection, LibvirtEvent } from '../../src/libvirt/index.ts';
import { deferred } from './test-host.ts';

/**
 * Records a connection's events and lets a test await the next one that matches. Each event
 * is handed to at most one next() call, so an event that arrives before the test asks for it
 * is not lost.
 */
export class EventQueue {
  readonly seen: LibvirtEvent[] = [];
  readonly #unclaimed: LibvirtEvent[] = [];
  #waiters: Array<{ match: (e: LibvirtEvent) => boolean; resolve: (e: LibvirtEvent) => void }> = [];
  #unsubscribe: (() => void) | undefined;

  static async on(connection: Connection): Promise<EventQueue> {
    const q = new EventQueue();
    q.#unsubscribe = await connection.subscribe((e) => q.#push(e));
    return q;
  }

  #push(event: LibvirtEvent): void {
    this.seen.push(event);
    const i = this.#waiters.findIndex((w) => w.match(event));
    if (i >= 0) {
      const [w] = this.#waiters.splice(i, 1);
      w?.resolve(event);
    } else {
      this.#unclaimed.push(event);
    }
  }

  /** The oldest unclaimed event that matches, or the next one to arrive. */
  next<E extends LibvirtEvent>(match: (e: LibvirtEvent) => e is E): Promise<E> {
    const i = this.#unclaimed.findIndex(match);
    if (i >= 0) return Promise.resolve(this.#unclaimed.splice(i, 1)[0] as E);
    const d = deferred<LibvirtEvent>();
    this.#waiters.push({ match, resolve: d.resolve });
    return d.promise as Promise<E>;
  }

  stop(): void {
    this.#unsubscribe?.();
  }
}

export const domainEvent =
  (name: string, type: string) =>
  (e: LibvirtEvent): e is Extract<LibvirtEvent, { kind: 'domain' }> =>
    e.kind === 'domain' && e.domain.name === name && e.type === type;

export const networkEvent =
  (name: string, type: string) =>
  (e: LibvirtEvent): e is Extract<LibvirtEvent, { kind: 'network' }> =>
    e.kind === 'network' && e.network.name === name && e.type === type;

export const poolEvent =
  (name: string, type: string) =>
  (e: LibvirtEvent): e is Extract<LibvirtEvent, { kind: 'storagePool' }> =>
    e.kind === 'storagePool' && e.pool.name === name && e.type === type;
