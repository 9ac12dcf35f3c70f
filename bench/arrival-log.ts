export interface Arrival {
  type: string;
  at: bigint;
  afterActionResolved: boolean;
}

export class ArrivalLog {
  readonly arrivals: Arrival[] = [];
  actionResolved = true;
  #waiter: { count: number; resolve: () => void } | undefined;

  record(type: string, at: bigint): void {
    this.arrivals.push({ type, at, afterActionResolved: this.actionResolved });
    if (this.#waiter && this.arrivals.length >= this.#waiter.count) this.#waiter.resolve();
  }

  until(count: number, timeoutMs: number): Promise<boolean> {
    if (this.arrivals.length >= count) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.#waiter = undefined;
        resolve(false);
      }, timeoutMs);
      this.#waiter = {
        count,
        resolve: () => {
          clearTimeout(timer);
          this.#waiter = undefined;
          resolve(true);
        },
      };
    });
  }

  clear(): void {
    this.arrivals.length = 0;
  }
}
