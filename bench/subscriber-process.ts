import { type Client, createClient } from 'graphql-ws';
import WebSocket from 'ws';
import type { FromSubscribers, ToSubscribers } from './subscriber-messages.ts';

// More connects at once than this overflow the listen backlog and wait out SYN retransmits.
const CONNECT_BATCH = 50;
const MAX_PROBLEMS = 5;

interface Pending {
  arrivals: BigInt64Array;
  types: Set<string>;
  errors: number;
  delivered: number;
}

const clients: Client[] = [];
const pending = new Map<number, Pending>();
let received: number[] = [];
let problems = 0;
let closing = false;

const send = (message: FromSubscribers) => {
  if (process.connected) process.send?.(message);
};

// Disposing the clients completes their subscriptions: that is no problem.
function problem(message: string): void {
  if (!closing && problems++ < MAX_PROBLEMS) send({ kind: 'problem', message });
}

const describe = (error: unknown) =>
  error instanceof Error ? error.message : ((error as { reason?: string })?.reason ?? JSON.stringify(error));

function arrived(subscriber: number, total: number, result: { data?: unknown; errors?: unknown }): void {
  const at = process.hrtime.bigint();
  const index = received[subscriber] ?? 0;
  received[subscriber] = index + 1;
  let event = pending.get(index);
  if (event === undefined) {
    event = { arrivals: new BigInt64Array(total), types: new Set(), errors: 0, delivered: 0 };
    pending.set(index, event);
  }
  event.arrivals[subscriber] = at;
  const type = (result.data as { domainEvents?: { type?: string } } | null | undefined)?.domainEvents?.type;
  if (type === undefined || result.errors !== undefined) event.errors += 1;
  else event.types.add(type);
  event.delivered += 1;
  if (event.delivered === total) {
    pending.delete(index);
    send({ kind: 'delivered', index, arrivals: event.arrivals, types: [...event.types], errors: event.errors });
  }
}

function openClient(m: Extract<ToSubscribers, { kind: 'open' }>, socket: number, failures: string[]): Promise<void> {
  const total = m.sockets * m.perSocket;
  return new Promise((resolve) => {
    const fail = (error: unknown) => {
      failures.push(describe(error));
      resolve();
    };
    const client = createClient({
      url: m.url,
      webSocketImpl: WebSocket,
      retryAttempts: 0,
      lazy: true,
      on: { connected: () => resolve(), error: fail },
    });
    clients.push(client);
    for (let s = 0; s < m.perSocket; s++) {
      const subscriber = socket * m.perSocket + s;
      client.subscribe(
        { query: m.query },
        {
          next: (result) => arrived(subscriber, total, result),
          error: (error) => {
            problem(`subscriber ${subscriber}: ${describe(error)}`);
            fail(error);
          },
          complete: () => problem(`subscriber ${subscriber}: completed by the server`),
        },
      );
    }
  });
}

async function open(m: Extract<ToSubscribers, { kind: 'open' }>): Promise<void> {
  received = new Array(m.sockets * m.perSocket).fill(0);
  const failures: string[] = [];
  for (let first = 0; first < m.sockets; first += CONNECT_BATCH) {
    const batch: Array<Promise<void>> = [];
    for (let socket = first; socket < Math.min(m.sockets, first + CONNECT_BATCH); socket++) {
      batch.push(openClient(m, socket, failures));
    }
    await Promise.all(batch);
  }
  send({ kind: 'opened', failures: failures.slice(0, MAX_PROBLEMS) });
}

async function close(): Promise<void> {
  closing = true;
  await Promise.all(clients.map((client) => client.dispose()));
  send({ kind: 'closed' });
  process.disconnect?.();
}

process.on('message', (m: ToSubscribers) => {
  if (m.kind === 'open') void open(m);
  else void close();
});
// A close handshake the gateway never answers must not keep this process alive once the bench is done with it.
process.on('disconnect', () => setTimeout(() => process.exit(0), 1_000).unref());
