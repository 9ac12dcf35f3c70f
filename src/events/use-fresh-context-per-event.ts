import { initContextCache } from '@pothos/core';
import { createSourceEventStream, type ExecutionArgs, execute } from 'graphql';
import { isAsyncIterable, mapAsyncIterator, type Plugin } from 'graphql-yoga';

/**
 * Executes each subscription event with a context of its own (a copy of the subscription's),
 * so the per-request loaders keyed by the context read libvirt afresh for every event instead
 * of serving what the first event loaded. graphql-js reuses one context for the whole
 * subscription and offers no hook per event, hence this subscribe function: the source stream
 * as graphql-js makes it, each event executed as graphql-js does, only with a new context.
 */
export function useFreshContextPerEvent(): Plugin {
  return {
    onSubscribe({ setSubscribeFn }) {
      setSubscribeFn(async (args: ExecutionArgs) => {
        const stream = await createSourceEventStream(args);
        if (!isAsyncIterable(stream)) return stream;
        return mapAsyncIterator(stream, (payload: unknown) =>
          execute({
            ...args,
            rootValue: payload,
            contextValue: { ...(args.contextValue as object), ...initContextCache() },
          }),
        );
      });
    },
  };
}
