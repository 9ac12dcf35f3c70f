import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { LibvirtError } from '../libvirt/errors.ts';
import type { Operation, SharedOperations } from './operation-tracker.ts';

export interface RedisOperationsOptions {
  /** e.g. redis://127.0.0.1:6379/0 */
  url: string;
  logger: Logger;
  /** @default a random UUID */
  replicaId?: string;
  /** How long a replica waits for the owning replica to answer a cancel request. @default 35_000 */
  cancelTimeoutMs?: number;
}

const recordKey = (id: string) => `virtql:operation:${id}`;
const UPDATES = 'virtql:operations:updates';
const cancelChannel = (replica: string) => `virtql:operations:cancel:${replica}`;
const replyChannel = (replica: string) => `virtql:operations:reply:${replica}`;

interface SharedError {
  name: string;
  message: string;
  code?: number;
  domain?: number;
  level?: number;
}

/** BigInts (job statistics) and errors (libvirt's, with their codes) survive JSON this way. */
function replacer(_key: string, value: unknown): unknown {
  if (typeof value === 'bigint') return { $bigint: value.toString() };
  if (value instanceof LibvirtError) {
    return {
      $error: { name: value.name, message: value.message, code: value.code, domain: value.domain, level: value.level },
    };
  }
  if (value instanceof Error) return { $error: { name: value.name, message: value.message } };
  return value;
}

function reviver(_key: string, value: unknown): unknown {
  if (value === null || typeof value !== 'object') return value;
  if ('$bigint' in value && typeof value.$bigint === 'string') return BigInt(value.$bigint);
  if ('$error' in value) {
    const e = value.$error as SharedError;
    if (e.name === 'LibvirtError') return new LibvirtError(e.message, e.code ?? 0, e.domain ?? 0, e.level ?? 0);
    const error = new Error(e.message);
    error.name = e.name;
    return error;
  }
  return value;
}

export function encodeOperation(op: Operation): string {
  return JSON.stringify(op, replacer);
}

export function decodeOperation(text: string): Operation {
  const raw = JSON.parse(text, reviver) as Operation & { startedAt: string; updatedAt: string };
  return { ...raw, startedAt: new Date(raw.startedAt), updatedAt: new Date(raw.updatedAt) };
}

type Message =
  | { type: 'update'; from: string; op: string }
  | { type: 'cancel'; from: string; id: string; request: string }
  | { type: 'reply'; request: string; ok: boolean; error?: string };

/**
 * Operations shared between replicas through Redis: each record a hash (`record`, the owning
 * `replica`) whose TTL is the tracker's keep time, renewed on every change; every change
 * published to all replicas; a cancel request sent to the owning replica's own channel, which
 * answers on the requester's.
 */
export function createRedisOperations(options: RedisOperationsOptions): SharedOperations {
  const log = options.logger.child({ component: 'redis-operations' });
  const replica = options.replicaId ?? randomUUID();
  const cancelTimeoutMs = options.cancelTimeoutMs ?? 35_000;
  const commands = new Redis(options.url);
  const subscriber = new Redis(options.url);
  for (const [role, client] of [
    ['commands', commands],
    ['subscribe', subscriber],
  ] as const) {
    // Without a listener ioredis prints every failed reconnect to stderr.
    client.on('error', (error: Error) => log.warn({ role, err: error.message }, 'redis connection failed'));
  }
  const updateListeners = new Set<(op: Operation) => void>();
  let cancelHandler: ((id: string) => Promise<boolean>) | undefined;
  const waiting = new Map<string, { settle: (ok: boolean, error?: Error) => void }>();
  const ready = subscriber.subscribe(UPDATES, cancelChannel(replica), replyChannel(replica));
  ready.catch((error: Error) => log.warn({ err: error.message }, 'subscribing to operation updates failed'));

  const publish = (channel: string, message: Message) =>
    commands.publish(channel, JSON.stringify(message)).catch((error: Error) => {
      log.warn({ channel, err: error.message }, 'publishing an operation message failed');
      return 0;
    });

  const answerCancel = async (message: Extract<Message, { type: 'cancel' }>) => {
    let reply: Message;
    try {
      const ok = cancelHandler ? await cancelHandler(message.id) : false;
      reply = { type: 'reply', request: message.request, ok };
    } catch (error) {
      reply = { type: 'reply', request: message.request, ok: false, error: encodeOperationError(error) };
    }
    await publish(replyChannel(message.from), reply);
  };

  subscriber.on('message', (channel: string, text: string) => {
    let message: Message;
    try {
      message = JSON.parse(text) as Message;
    } catch {
      return;
    }
    if (channel === UPDATES && message.type === 'update') {
      // This replica's own changes reach its subscribers directly.
      if (message.from === replica) return;
      const op = decodeOperation(message.op);
      for (const listener of updateListeners) listener(op);
    } else if (channel === cancelChannel(replica) && message.type === 'cancel') {
      void answerCancel(message);
    } else if (channel === replyChannel(replica) && message.type === 'reply') {
      const pending = waiting.get(message.request);
      waiting.delete(message.request);
      pending?.settle(message.ok, message.error === undefined ? undefined : decodeOperationError(message.error));
    }
  });

  return {
    async save(op, ttlMs) {
      try {
        const text = encodeOperation(op);
        await commands
          .multi()
          .hset(recordKey(op.id), 'record', text, 'replica', replica)
          .pexpire(recordKey(op.id), ttlMs)
          .publish(UPDATES, JSON.stringify({ type: 'update', from: replica, op: text } satisfies Message))
          .exec();
      } catch (error) {
        log.warn({ operation: op.id, err: (error as Error).message }, 'sharing an operation through redis failed');
      }
    },
    async load(id) {
      const text = await commands.hget(recordKey(id), 'record');
      return text === null ? undefined : decodeOperation(text);
    },
    async requestCancel(id) {
      const owner = await commands.hget(recordKey(id), 'replica');
      if (owner === null) return false;
      await ready;
      const request = randomUUID();
      const answered = new Promise<boolean>((resolve, reject) => {
        const timer = setTimeout(() => {
          waiting.delete(request);
          reject(new Error(`the replica running operation ${id} did not answer the cancel request`));
        }, cancelTimeoutMs);
        waiting.set(request, {
          settle: (ok, error) => {
            clearTimeout(timer);
            if (error) reject(error);
            else resolve(ok);
          },
        });
      });
      // PUBLISH answers how many subscribers got it: none when the owning replica is gone.
      const heard = await publish(cancelChannel(owner), { type: 'cancel', from: replica, id, request });
      if (heard === 0) {
        waiting.get(request)?.settle(false);
        waiting.delete(request);
      }
      return answered;
    },
    onUpdate(listener) {
      updateListeners.add(listener);
    },
    onCancelRequest(handler) {
      cancelHandler = handler;
    },
    ready: async () => {
      await ready;
    },
    async close() {
      for (const pending of waiting.values()) pending.settle(false);
      waiting.clear();
      await Promise.all([commands.quit(), subscriber.quit()]).catch(() => undefined);
      commands.disconnect();
      subscriber.disconnect();
    },
  };
}

function encodeOperationError(error: unknown): string {
  return JSON.stringify(error instanceof Error ? error : new Error(String(error)), replacer);
}

function decodeOperationError(text: string): Error {
  const decoded = JSON.parse(text, reviver) as unknown;
  return decoded instanceof Error ? decoded : new Error(String(decoded));
}
