import type { Duplex } from 'node:stream';
import type { ExecutionResult } from 'graphql';
import { WebSocket } from 'ws';
import { formattedForWire } from '../schema/core/errors.ts';

/**
 * Serialised payloads, by the result object itself. useSharedEventExecution hands every
 * subscriber of a group the same result object per event, so the group's payload is stringified
 * and encoded once; a result built for one subscriber (its first payload with the cost, an error)
 * is its own key. Keyed by identity, never by content: a subscriber only ever gets the bytes of
 * the very object it would have serialised itself.
 */
const payloads = new WeakMap<ExecutionResult, Buffer>();

/** The payload's JSON as graphql-ws would stringify it for this result (errors as on the wire), in UTF-8. */
export function payloadOf(result: ExecutionResult): Buffer {
  let payload = payloads.get(result);
  if (payload === undefined) {
    payload = Buffer.from(
      JSON.stringify(result.errors ? { ...result, errors: result.errors.map(formattedForWire) } : result),
    );
    payloads.set(result, payload);
  }
  return payload;
}

const CLOSE = Buffer.from('}');

/** The start of a `next` message of operation `id`, up to its payload. */
export function nextHead(id: string): Buffer {
  return Buffer.from(`{"id":${JSON.stringify(id)},"type":"next","payload":`);
}

/** The graphql-transport-ws `next` message: byte for byte what graphql-ws sends for `result`. */
export function nextMessage(head: Buffer, result: ExecutionResult): Buffer {
  const payload = payloadOf(result);
  return Buffer.concat([head, payload, CLOSE], head.length + payload.length + 1);
}

/** Counts turns of the event loop in which messages were sent (see sendText). */
let turn = 0;
let turnEnding = false;
/** The turn of each socket's last message: `turn` once written to, `turn + 0.5` once corked. */
const lastTurn = new WeakMap<Duplex, number>();
const corked: Duplex[] = [];

function endTurn(): void {
  turnEnding = false;
  turn += 1;
  for (const raw of corked.splice(0)) raw.uncork();
}

/**
 * Sends `data` as a text message once the socket took it (resolves at once when it is not open).
 * The first message of a turn leaves at once; the socket is then corked until the microtasks of
 * this turn ran, so the other messages of one event to the many subscriptions of a socket leave
 * in one write instead of one each, and a socket with one subscription waits for nothing.
 */
export function sendText(ws: WebSocket, raw: Duplex | undefined, data: Buffer): Promise<void> {
  if (ws.readyState !== WebSocket.OPEN) return Promise.resolve();
  if (raw) {
    const last = lastTurn.get(raw);
    if (last === turn) {
      lastTurn.set(raw, turn + 0.5);
      raw.cork();
      corked.push(raw);
    } else if (last !== turn + 0.5) {
      lastTurn.set(raw, turn);
      if (!turnEnding) {
        turnEnding = true;
        process.nextTick(endTurn);
      }
    }
  }
  return new Promise((resolve, reject) => ws.send(data, { binary: false }, (e) => (e ? reject(e) : resolve())));
}

/**
 * The stream's results sent straight to the socket as `next` messages (see nextMessage), each
 * once the previous one was written, as graphql-ws does. graphql-ws iterates what this returns:
 * it yields nothing and ends when the stream does, so graphql-ws then sends `complete`; a failure
 * of the stream or of a write is thrown to graphql-ws, which sends it as the operation's `error`. Completing
 * the operation (or closing the socket) calls return(), which ends the stream: nothing is sent
 * after that.
 */
export function sentDirectly(
  stream: AsyncIterable<ExecutionResult>,
  id: string,
  send: (data: Buffer) => Promise<void>,
): AsyncIterableIterator<never> {
  const inner = stream[Symbol.asyncIterator]();
  const head = nextHead(id);
  let stopped = false;
  const iterator: AsyncIterableIterator<never> = {
    [Symbol.asyncIterator]: () => iterator,
    async next() {
      while (!stopped) {
        const item = await inner.next();
        if (item.done || stopped) break;
        try {
          await send(nextMessage(head, item.value));
        } catch (error) {
          // graphql-ws calls no return() on an iterator whose next() failed: end the stream here.
          stopped = true;
          await inner.return?.();
          throw error;
        }
      }
      return { done: true, value: undefined };
    },
    async return() {
      stopped = true;
      await inner.return?.();
      return { done: true, value: undefined };
    },
    async throw(error?: unknown) {
      stopped = true;
      await inner.return?.();
      throw error;
    },
  };
  return iterator;
}
