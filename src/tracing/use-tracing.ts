import type { ExecutionArgs } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import { withSpan } from './tracing.ts';

/** The operation's type and name, as OpenTelemetry's GraphQL conventions name them. */
function operationOf(args: ExecutionArgs) {
  const ops = args.document.definitions.filter((d) => d.kind === 'OperationDefinition');
  const op = args.operationName ? ops.find((d) => d.name?.value === args.operationName) : ops[0];
  const type = op?.operation ?? 'query';
  const name = op?.name?.value;
  return { type, name, span: name ? `${type} ${name}` : type };
}

type Run = (args: ExecutionArgs) => unknown;

/** `run` inside a span named after the operation, the active span while it runs. */
function traced<F extends Run>(phase: 'execute' | 'subscribe', run: F): F {
  return ((args: ExecutionArgs) => {
    const op = operationOf(args);
    return withSpan(
      op.span,
      () => ({
        'graphql.operation.type': op.type,
        ...(op.name ? { 'graphql.operation.name': op.name } : {}),
        'virtql.graphql.phase': phase,
      }),
      async (span) => {
        const result = (await run(args)) as { errors?: readonly unknown[] } | AsyncIterable<unknown>;
        const errors = Symbol.asyncIterator in result ? undefined : result.errors;
        if (errors?.length) span?.setAttribute('graphql.errors', errors.length);
        return result;
      },
      // The HTTP request (or the WebSocket's upgrade request): its traceparent continues the caller's trace.
      (args.contextValue as { request?: Request } | undefined)?.request?.headers,
    );
  }) as F;
}

/**
 * A span for each GraphQL operation, the active one while it executes, so that the loader
 * batches and libvirt calls it causes become its children. Installed only when tracing is
 * configured. (@envelop/opentelemetry would load OpenTelemetry at startup, and its spans are
 * per resolver, not per batch.)
 */
export function useTracing(): Plugin {
  return {
    onExecute({ executeFn, setExecuteFn }) {
      setExecuteFn(traced('execute', executeFn));
    },
    onSubscribe({ subscribeFn, setSubscribeFn }) {
      setSubscribeFn(traced('subscribe', subscribeFn));
    },
  };
}
