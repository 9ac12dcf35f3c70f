import { createGraphQLError } from 'graphql-yoga';

/** The code of the last error a subscriber gets when it fell too far behind and was dropped. */
export const SLOW_CONSUMER = 'SLOW_CONSUMER';

/** Why a subscriber that stopped reading is dropped: thrown by its stream's next(). */
export function slowConsumerError(max: number) {
  return createGraphQLError(
    `dropped: more than ${max} events were waiting for this subscriber, which does not read them fast enough`,
    { extensions: { code: SLOW_CONSUMER } },
  );
}

/**
 * One subscriber's events, waiting in a plain array until it reads them. Bounded: an event
 * pushed onto a full queue drops what waits, calls `onOverflow` (the transport closes the
 * socket then), and the next read throws SLOW_CONSUMER; the other subscribers never wait for it.
 */
export class SubscriberQueue<T> implements AsyncIterableIterator<T> {
  #items: T[] = [];
  #head = 0;
  #wake: ((result: IteratorResult<T>) => void) | undefined;
  /** Rejects the read that waits, if any. */
  #fail: ((error: Error) => void) | undefined;
  #failure: Error | undefined;
  #ended = false;

  constructor(
    private readonly max: number,
    private readonly onEnd: () => void,
    private readonly onOverflow?: (error: Error) => void,
  ) {}

  get ended(): boolean {
    return this.#ended;
  }

  /** Events waiting to be read. */
  get size(): number {
    return this.#items.length - this.#head;
  }

  /** Hands the event to the reader, or queues it; false when the queue ended or just overflowed. */
  push(item: T): boolean {
    if (this.#ended) return false;
    const wake = this.#wake;
    if (wake) {
      this.#wake = undefined;
      this.#fail = undefined;
      wake({ done: false, value: item });
      return true;
    }
    if (this.size >= this.max) {
      this.overflow();
      return false;
    }
    this.#items.push(item);
    return true;
  }

  /** Drops what waits and ends the stream as too slow: the next read throws SLOW_CONSUMER. */
  overflow(): void {
    if (this.#ended) return;
    const error = slowConsumerError(this.max);
    this.#items = [];
    this.#head = 0;
    const fail = this.#fail;
    this.#wake = undefined;
    this.#fail = undefined;
    if (fail) fail(error);
    else this.#failure = error;
    this.#finish();
    this.onOverflow?.(error);
  }

  next(): Promise<IteratorResult<T>> {
    if (this.#head < this.#items.length) {
      const value = this.#items[this.#head] as T;
      this.#items[this.#head] = undefined as T;
      this.#head += 1;
      // Compact once the read part dominates, so a long-lived queue does not keep every event.
      if (this.#head > 64 && this.#head * 2 > this.#items.length) {
        this.#items = this.#items.slice(this.#head);
        this.#head = 0;
      }
      return Promise.resolve({ done: false, value });
    }
    if (this.#failure) {
      const failure = this.#failure;
      this.#failure = undefined;
      return Promise.reject(failure);
    }
    if (this.#ended) return Promise.resolve({ done: true, value: undefined });
    return new Promise((resolve, reject) => {
      this.#wake = resolve;
      this.#fail = reject;
    });
  }

  /** Ends the stream: the reader gets what waits, then done. */
  end(): void {
    this.#finish();
    if (this.#head >= this.#items.length) this.#wakeDone();
  }

  return(): Promise<IteratorResult<T>> {
    this.#items = [];
    this.#head = 0;
    this.#finish();
    this.#wakeDone();
    return Promise.resolve({ done: true, value: undefined });
  }

  throw(error?: unknown): Promise<IteratorResult<T>> {
    void this.return();
    return Promise.reject(error);
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  #wakeDone(): void {
    const wake = this.#wake;
    this.#wake = undefined;
    this.#fail = undefined;
    wake?.({ done: true, value: undefined });
  }

  #finish(): void {
    if (this.#ended) return;
    this.#ended = true;
    this.onEnd();
  }
}
