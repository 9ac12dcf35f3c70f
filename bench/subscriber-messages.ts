export type ToSubscribers =
  | { kind: 'open'; url: string; query: string; sockets: number; perSocket: number }
  | { kind: 'close' };

export interface Delivery {
  index: number;
  /** process.hrtime.bigint() when each subscriber's next() ran. */
  arrivals: BigInt64Array;
  types: string[];
  errors: number;
}

export type FromSubscribers =
  | { kind: 'opened'; failures: string[] }
  | ({ kind: 'delivered' } & Delivery)
  | { kind: 'problem'; message: string }
  | { kind: 'closed' };
