import { initContextCache } from '@pothos/core';
import {
  createSourceEventStream,
  type DocumentNode,
  type ExecutionArgs,
  type ExecutionResult,
  execute,
  GraphQLError,
  print,
} from 'graphql';
import { isAsyncIterable, type Plugin } from 'graphql-yoga';
import { SLOW_CONSUMER } from './subscriber-queue.ts';

interface Scoped {
  identity?: { scope: string };
}

/** What the plugin shares per event: one context per authorization scope, one result per subscription group. */
interface PerEvent {
  contexts: Map<string, object>;
  results: Map<string, Promise<ExecutionResult>>;
}

/**
 * Executes each subscription event once per group of subscribers that would get the same
 * result: the same document, operation and variables under the same authorization scope
 * (identities with equal grants). The event sources hand every subscriber the same event
 * object, so the first subscriber to read an event executes it and the others of its group get
 * that result; subscribers of other groups with the same scope share its context, so its
 * per-request loaders read libvirt once per event, whatever the number of subscribers.
 *
 * graphql-js reuses one context for a whole subscription and offers no hook per event, hence
 * this subscribe function: the source stream as graphql-js makes it, each event executed as
 * graphql-js does, only with a fresh context per event (so loaders read libvirt afresh).
 */
export function useSharedEventExecution(): Plugin {
  const printed = new WeakMap<DocumentNode, string>();
  const perEvent = new WeakMap<object, PerEvent>();

  const groupOf = (args: ExecutionArgs, scope: string): string => {
    let text = printed.get(args.document);
    if (text === undefined) {
      text = print(args.document);
      printed.set(args.document, text);
    }
    return JSON.stringify([scope, args.operationName ?? null, args.variableValues ?? null, text]);
  };

  const executeShared = (args: ExecutionArgs, scope: string, group: string, payload: unknown) => {
    const fresh = () => ({ ...(args.contextValue as object), ...initContextCache() });
    if (payload === null || typeof payload !== 'object') {
      return execute({ ...args, rootValue: payload, contextValue: fresh() });
    }
    let shared = perEvent.get(payload);
    if (shared === undefined) {
      shared = { contexts: new Map(), results: new Map() };
      perEvent.set(payload, shared);
    }
    let result = shared.results.get(group);
    if (result === undefined) {
      let contextValue = shared.contexts.get(scope);
      if (contextValue === undefined) {
        contextValue = fresh();
        shared.contexts.set(scope, contextValue);
      }
      result = Promise.resolve(execute({ ...args, rootValue: payload, contextValue })).then(stringifiedOnce);
      shared.results.set(group, result);
    }
    return result;
  };

  return {
    onSubscribe({ setSubscribeFn }) {
      setSubscribeFn(async (args: ExecutionArgs) => {
        const stream = await createSourceEventStream(args);
        if (!isAsyncIterable(stream)) return stream;
        const scope = (args.contextValue as Scoped).identity?.scope ?? '';
        const group = groupOf(args, scope);
        return mapEvents(stream[Symbol.asyncIterator](), (payload) => executeShared(args, scope, group, payload));
      });
    },
  };
}

/**
 * The result, whose JSON yoga's result processors (SSE, multipart) then make once for all the
 * subscribers of its group: they stringify a result with its own `stringify` when it has one.
 * Non-enumerable, so JSON and spreads ignore it; a copy (the cost extension's first payload, a
 * result with its errors sanitised) is stringified anew, as the text is only ever this object's.
 */
export function stringifiedOnce(result: ExecutionResult): ExecutionResult {
  let text: string | undefined;
  const stringify = (value: unknown) => {
    if (value !== result) return JSON.stringify(value);
    text ??= JSON.stringify(result);
    return text;
  };
  return Object.defineProperty(result, 'stringify', { value: stringify });
}

/**
 * The source's events mapped through `run`. A subscriber dropped as too slow gets the reason as
 * a last result (SLOW_CONSUMER), then the end; any other failure of the source is thrown on.
 */
function mapEvents(
  source: AsyncIterator<unknown>,
  run: (payload: unknown) => Promise<ExecutionResult> | ExecutionResult,
): AsyncIterableIterator<ExecutionResult> {
  let finished = false;
  return {
    async next(): Promise<IteratorResult<ExecutionResult>> {
      if (finished) return { done: true, value: undefined };
      let item: IteratorResult<unknown>;
      try {
        item = await source.next();
      } catch (error) {
        finished = true;
        if (error instanceof GraphQLError && error.extensions.code === SLOW_CONSUMER) {
          return { done: false, value: { errors: [error] } };
        }
        throw error;
      }
      if (item.done) {
        finished = true;
        return { done: true, value: undefined };
      }
      return { done: false, value: await run(item.value) };
    },
    async return(): Promise<IteratorResult<ExecutionResult>> {
      finished = true;
      await source.return?.();
      return { done: true, value: undefined };
    },
    async throw(error?: unknown): Promise<IteratorResult<ExecutionResult>> {
      finished = true;
      await source.return?.();
      throw error;
    },
    [Symbol.asyncIterator]() {
      return this;
    },
  };
}
