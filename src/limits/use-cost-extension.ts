import type { DocumentNode, ExecutionResult, GraphQLSchema } from 'graphql';
import { handleStreamOrSingleExecutionResult, isAsyncIterable, type Plugin } from 'graphql-yoga';
import { costOf } from './operation-cost.ts';
import type { ListCostOptions } from './use-list-cost.ts';

/** What a response tells of its cost: `requested` as the maxCost limit counts it, and that limit. */
export interface CostTold {
  requested: number;
  limit: number;
}

function withCost<R extends ExecutionResult>(result: R, cost: CostTold): R {
  return { ...result, extensions: { ...result.extensions, cost } };
}

/**
 * The stream with the cost on its first result only; later events cost one call. Not envelop's
 * per-event result hook, which maps every event of every subscriber through one more async
 * iterator: the bench's 1,000 subscribers had p50 31-37 ms with it, 25-29 ms without; with this,
 * no difference beyond the runs' noise.
 */
function firstWithCost<R extends ExecutionResult>(stream: AsyncIterable<R>, cost: CostTold): AsyncIterableIterator<R> {
  const inner = stream[Symbol.asyncIterator]();
  let first = true;
  const iterator: AsyncIterableIterator<R> = {
    [Symbol.asyncIterator]: () => iterator,
    next: () => {
      if (!first) return inner.next();
      first = false;
      return inner.next().then((r) => (r.done ? r : { done: false, value: withCost(r.value, cost) }));
    },
    return: (value?: unknown) => inner.return?.(value) ?? Promise.resolve({ done: true, value: undefined }),
    throw: (error?: unknown) => inner.throw?.(error) ?? Promise.reject(error),
  };
  return iterator;
}

/**
 * `extensions.cost { requested, limit }` on every response to an operation that parsed, as
 * GitHub's `rateLimit` and Shopify's `cost` tell it: results over HTTP and graphql-ws, refusals
 * (validation, the cost limit itself, the rate limit) over HTTP, and a subscription's first
 * payload. `requested` is the cost the maxCost rule computed (or computes once, when yoga's
 * validation cache skipped the rule). A request that did not parse has no operation to cost.
 */
export function useCostExtension({ maxCost, assumedListSize }: ListCostOptions): Plugin {
  // By document and operation name: the cost depends on nothing else (a variable page size counts as the largest page).
  const byDocument = new WeakMap<DocumentNode, Map<string | null, CostTold>>();
  const told = (schema: GraphQLSchema, document: DocumentNode, operationName?: string | null) => {
    let costs = byDocument.get(document);
    if (costs === undefined) {
      costs = new Map();
      byDocument.set(document, costs);
    }
    const key = operationName ?? null;
    const known = costs.get(key);
    if (known !== undefined) return known;
    const requested = costOf(schema, document, operationName, assumedListSize);
    if (requested === undefined) return undefined;
    // Kept only for a name the document defines: the client's other names cannot grow the map.
    const cost = Object.freeze({ requested, limit: maxCost });
    costs.set(key, cost);
    return cost;
  };
  // HTTP refusals before execution (validation) reach only onResultProcess, which knows the request.
  const byRequest = new WeakMap<Request, CostTold>();
  return {
    onValidate({ context, params }) {
      const { request, params: graphqlParams } = context as {
        request?: Request;
        params?: { operationName?: string | null };
      };
      const cost = told(params.schema, params.documentAST, graphqlParams?.operationName);
      if (cost && request) byRequest.set(request, cost);
    },
    onExecute({ args }) {
      const cost = told(args.schema, args.document, args.operationName);
      if (!cost) return;
      return {
        onExecuteDone: (payload) =>
          handleStreamOrSingleExecutionResult(payload, ({ result, setResult }) => setResult(withCost(result, cost))),
      };
    },
    onSubscribe({ args }) {
      const cost = told(args.schema, args.document, args.operationName);
      if (!cost) return;
      return {
        onSubscribeResult: ({ result, setResult }) =>
          setResult(isAsyncIterable(result) ? firstWithCost(result, cost) : withCost(result, cost)),
      };
    },
    onResultProcess({ request, result, setResult }) {
      if (Array.isArray(result) || isAsyncIterable(result) || result.extensions?.cost) return;
      const cost = byRequest.get(request);
      if (cost) setResult(withCost(result, cost));
    },
  };
}
