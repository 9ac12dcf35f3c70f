import type { GraphQLError } from 'graphql';
import { isAsyncIterable, type Plugin } from 'graphql-yoga';
import { limitExceeded } from './limit-errors.ts';

/**
 * yoga enforces its `maxRequestBodySize` (set to the same `bodyBytes`) on Content-Length and
 * on the streamed body, answering 413 with its own REQUEST_ENTITY_TOO_LARGE; this gives that
 * answer the gateway's LIMIT_EXCEEDED naming the limit, keeping the 413.
 */
export function useBodyLimit({ bodyBytes }: { bodyBytes: number }): Plugin {
  return {
    onResultProcess({ result, setResult }) {
      if (Array.isArray(result) || isAsyncIterable(result) || !result.errors) return;
      const errors = result.errors as readonly GraphQLError[];
      if (!errors.some((e) => e.extensions?.code === 'REQUEST_ENTITY_TOO_LARGE')) return;
      setResult({
        ...result,
        errors: errors.map((e) =>
          e.extensions?.code === 'REQUEST_ENTITY_TOO_LARGE'
            ? limitExceeded('bodyBytes', bodyBytes, `request body larger than ${bodyBytes} bytes`, {}, 413)
            : e,
        ),
      });
    },
  };
}
