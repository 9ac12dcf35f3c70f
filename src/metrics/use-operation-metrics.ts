import { type DocumentNode, getOperationAST } from 'graphql';
import { isAsyncIterable, type Plugin } from 'graphql-yoga';
import { Counter, Histogram, type Registry } from 'prom-client';
import { clientErrorCode } from '../schema/core/errors.ts';

const BUCKETS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
/** Paths reported by name; anything else is `other`, so scanners cannot grow the label set. */
const KNOWN_PATHS = new Set(['/graphql', '/health', '/ready', '/metrics']);

interface Operation {
  operation_name: string;
  operation_type: string;
}

/** The label value for operations not labelled by name: the series stay bounded whatever clients send. */
export const OTHER_OPERATION = 'other';

export interface OperationNameBound {
  /** Only these names are labelled by name. */
  known?: readonly string[];
  /** Without `known`: the first this many distinct names are, in the order seen. */
  max: number;
}

/**
 * The label an operation name gets. A client chooses its operation names, so each could be a
 * series of its own: only the configured names, or the first `max` seen, keep theirs.
 */
function createOperationLabel(bound: OperationNameBound): (name: string) => string {
  const labelled = new Set(bound.known ?? []);
  const open = bound.known === undefined;
  return (name) => {
    if (name === 'anonymous' || labelled.has(name)) return name;
    if (!open || labelled.size >= bound.max) return OTHER_OPERATION;
    labelled.add(name);
    return name;
  };
}

function operationOf(
  label: (name: string) => string,
  document: DocumentNode,
  operationName?: string | null,
): Operation {
  const ast = getOperationAST(document, operationName);
  // Only a name the document defines: an operationName naming none of its operations is the client's text.
  const name = ast?.name?.value;
  return {
    operation_name: name === undefined ? (operationName ? OTHER_OPERATION : 'anonymous') : label(name),
    operation_type: ast?.operation ?? 'unknown',
  };
}

/** OK, or the code the client sees for the first error (once masked). */
function outcomeOf(errors: readonly unknown[] | undefined): string {
  return errors?.[0] === undefined ? 'OK' : clientErrorCode(errors[0]);
}

/**
 * HTTP requests by method, path and status, and GraphQL operations (over HTTP and graphql-ws)
 * by name (bounded, see createOperationLabel), type and outcome code, each with a latency histogram.
 */
export function useOperationMetrics(registry: Registry, bound: OperationNameBound = { max: 100 }): Plugin {
  const label = createOperationLabel(bound);
  const counter = <L extends string>(name: string, help: string, labelNames: readonly L[]) =>
    new Counter<L>({ name, help, labelNames, registers: [registry] });
  const histogram = <L extends string>(name: string, help: string, labelNames: readonly L[]) =>
    new Histogram<L>({ name, help, labelNames, buckets: BUCKETS, registers: [registry] });
  const requests = counter('virtql_http_requests_total', 'HTTP requests answered, by method, path and status.', [
    'method',
    'path',
    'status',
  ]);
  const requestDuration = histogram(
    'virtql_http_request_duration_seconds',
    'Time to answer an HTTP request (to the response head, for streams), by method and path.',
    ['method', 'path'],
  );
  const operations = counter(
    'virtql_graphql_operations_total',
    'GraphQL operations executed or subscribed, by operation name, type and outcome code (OK or the first error code).',
    ['operation_name', 'operation_type', 'code'],
  );
  const operationDuration = histogram(
    'virtql_graphql_operation_duration_seconds',
    'Time to execute a query or mutation, or to set up a subscription, by operation name and type.',
    ['operation_name', 'operation_type'],
  );
  const started = new WeakMap<Request, { start: number; path: string }>();
  const pathOf = (pathname: string) => (KNOWN_PATHS.has(pathname) ? pathname : 'other');
  const finish = (operation: Operation, start: number, code: string) => {
    operations.inc({ operation_name: operation.operation_name, operation_type: operation.operation_type, code });
    operationDuration.observe(operation, (performance.now() - start) / 1000);
  };
  return {
    // The path from the URL yoga parsed for the request already: parsing it again took 4 µs a request.
    onRequest({ request, url }) {
      started.set(request, { start: performance.now(), path: pathOf(url.pathname) });
    },
    onResponse({ request, response }) {
      const found = started.get(request);
      const path = found?.path ?? pathOf(new URL(request.url, 'http://virtql').pathname);
      requests.inc({ method: request.method, path, status: String(response.status) });
      if (found !== undefined)
        requestDuration.observe({ method: request.method, path }, (performance.now() - found.start) / 1000);
    },
    onValidate({ params, context }) {
      const start = performance.now();
      return ({ valid, result }) => {
        if (valid) return;
        const operationName = (context as { params?: { operationName?: string | null } }).params?.operationName;
        finish(operationOf(label, params.documentAST, operationName), start, outcomeOf(result));
      };
    },
    onExecute({ args }) {
      const operation = operationOf(label, args.document, args.operationName);
      const start = performance.now();
      return {
        onExecuteDone({ result }) {
          if (!isAsyncIterable(result)) finish(operation, start, outcomeOf(result.errors));
        },
      };
    },
    onSubscribe({ args }) {
      const operation = operationOf(label, args.document, args.operationName);
      const start = performance.now();
      return {
        onSubscribeResult({ result }) {
          finish(operation, start, isAsyncIterable(result) ? 'OK' : outcomeOf(result.errors));
        },
      };
    },
  };
}
