import { AsyncLocalStorage } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';
import { type DocumentNode, type GraphQLError, getOperationAST } from 'graphql';
import { isAsyncIterable, type Plugin, type YogaLogger } from 'graphql-yoga';
import type { Logger } from 'pino';
import { boundedErrorSerializer } from './create-logger.ts';

/** The header a caller may set to name its request, and the one every response carries. */
export const REQUEST_ID_HEADER = 'x-request-id';

const SANE_REQUEST_ID = /^[A-Za-z0-9._-]{1,128}$/;

/** The longest message a log line repeats: a client's 1 MB argument echoed in an error stays out of the log. */
export const MAX_LOGGED_MESSAGE = 2048;

function bounded(message: string, limit = MAX_LOGGED_MESSAGE): string {
  return message.length <= limit ? message : `${message.slice(0, limit)} … (${message.length} characters, cut)`;
}

/** The caller's request id when it is one we can log as is; anything else is replaced by a fresh one. */
export function parseRequestId(value: string | null | undefined): string | undefined {
  return value != null && SANE_REQUEST_ID.test(value) ? value : undefined;
}

/** What every request's context carries: its id and a logger whose lines name it. */
export interface RequestLog {
  requestId: string;
  log: Logger;
}

export interface RequestLoggingOptions {
  logger: Logger;
  /** The code a client sees for an error (its extensions.code once masked). */
  codeOf: (error: unknown) => string;
  /** The message a client sees for an error (masked: a secret's value it sent is not in it). @default its own message */
  messageOf?: (error: unknown) => string;
  /** Who runs the operation, when known at its end. */
  identityOf: (context: Record<string, unknown>) => string | undefined;
}

export interface RequestLogging {
  /** The request id and logger of the operation whose context this is (HTTP: the request's; graphql-ws: one per operation). */
  contextFor(context: object): RequestLog;
  /** Logs a request refused 401 or 403, once, with its request id (also in the response) and why. */
  refused(
    request: Request,
    refusal: { status: number; code: string; message: string; source?: string; method?: string },
  ): void;
  plugin: Plugin;
  /** yoga's `logging`: its messages go to the current request's logger, else the app's. */
  yogaLogger: YogaLogger;
}

interface OperationLog {
  request: RequestLog;
  started: number;
  name?: string;
  type?: string;
  codes: Set<string>;
  done: boolean;
}

/**
 * Request ids and the access log. Each HTTP request gets the caller's `x-request-id` (if sane)
 * or a new UUID, returned in the response; each graphql-ws operation gets a new one. Every line
 * logged while the request runs (the context's `log`, yoga's own messages) carries it, and each
 * operation ends with one `operation` line: name, type, duration, error codes, identity.
 */
export function createRequestLogging({
  logger,
  codeOf,
  messageOf = (error) => (error instanceof Error ? error.message : ''),
  identityOf,
}: RequestLoggingOptions): RequestLogging {
  // Knowing the current request inside yoga's own log calls takes AsyncLocalStorage, whose
  // promise hooks cost Node 20 about a tenth of the CPU of a large query. yoga speaks mostly at
  // debug level, so the hooks are on only when debug lines are logged; above that, yoga's rare
  // warnings carry no request id, and the access line still names the request and its codes.
  const current = logger.isLevelEnabled('debug') ? new AsyncLocalStorage<RequestLog>() : undefined;
  const requests = new WeakMap<Request, RequestLog>();
  const operations = new WeakMap<object, OperationLog>();
  const base = logger.child({ component: 'graphql' });

  const named = (requestId: string): RequestLog => ({ requestId, log: logger.child({ requestId }) });
  const ofRequest = (request: Request): RequestLog => {
    let found = requests.get(request);
    if (found === undefined) {
      found = named(parseRequestId(request.headers.get(REQUEST_ID_HEADER)) ?? randomUUID());
      requests.set(request, found);
    }
    return found;
  };
  const operationOf = (context: object): OperationLog => {
    let found = operations.get(context);
    if (found === undefined) {
      const { request } = context as { request?: Request };
      found = {
        request: request !== undefined ? ofRequest(request) : named(randomUUID()),
        started: performance.now(),
        codes: new Set(),
        done: false,
      };
      operations.set(context, found);
    }
    return found;
  };
  const describe = (context: object, document: DocumentNode): void => {
    const operation = operationOf(context);
    const { params } = context as { params?: { operationName?: string | null } };
    const ast = getOperationAST(document, params?.operationName ?? undefined);
    operation.name = ast?.name?.value ?? params?.operationName ?? undefined;
    operation.type = ast?.operation;
  };
  const record = (context: object, errors: readonly unknown[] | undefined): void => {
    const operation = operationOf(context);
    for (const error of errors ?? []) operation.codes.add(codeOf(error));
  };
  const finish = (context: object, errors?: readonly unknown[]): void => {
    record(context, errors);
    const operation = operationOf(context);
    if (operation.done) return;
    operation.done = true;
    operation.request.log.info(
      {
        operationName: operation.name === undefined ? null : bounded(operation.name, 256),
        operationType: operation.type ?? null,
        durationMs: Math.round((performance.now() - operation.started) * 1000) / 1000,
        codes: [...operation.codes],
        identity: identityOf(context as Record<string, unknown>) ?? null,
      },
      'operation',
    );
  };
  const forward =
    (level: keyof YogaLogger) =>
    (...args: unknown[]): void => {
      const store = current?.getStore();
      const log = store ? store.log.child({ component: 'graphql' }) : base;
      const [first, ...rest] = args;
      const details = rest.length > 0 ? { details: rest } : {};
      // yoga logs at error every error maskError changed, expected ones too (a name taken, a format
      // the host lacks): those are the client's, logged at info with their code and no stack.
      const code = level === 'error' && first instanceof Error ? codeOf(first) : undefined;
      if (code !== undefined && code !== 'INTERNAL') {
        log.info({ code, ...details }, bounded(messageOf(first)));
      } else if (first instanceof Error) {
        log[level]({ err: boundedErrorSerializer(first), ...details }, bounded(first.message));
      } else if (typeof first === 'string') log[level](details, first);
      else log[level]({ details: args }, 'graphql');
    };

  return {
    contextFor: (context) => operationOf(context).request,
    refused: (request, { status, code, message, source, method }) => {
      // The reason is the gate's own wording (never the credential); an Origin in it is the client's, so bounded.
      ofRequest(request).log.warn(
        { status, code, reason: bounded(message, 512), source: source ?? null, method: method ?? request.method },
        'request refused',
      );
    },
    yogaLogger: { debug: forward('debug'), info: forward('info'), warn: forward('warn'), error: forward('error') },
    plugin: {
      ...(current && {
        instrumentation: {
          request: ({ request }, wrapped) => current.run(ofRequest(request), wrapped),
          execute: ({ context }, wrapped) => current.run(operationOf(context).request, wrapped),
          subscribe: ({ context }, wrapped) => current.run(operationOf(context).request, wrapped),
        },
      }),
      onResponse({ request, response }) {
        const found = requests.get(request);
        if (found) response.headers.set(REQUEST_ID_HEADER, found.requestId);
      },
      onParse({ context }) {
        operationOf(context);
        return ({ result }) => {
          if (result instanceof Error) finish(context, [result]);
        };
      },
      onValidate({ context, params }) {
        describe(context, params.documentAST);
        return ({ valid, result }) => {
          if (!valid) finish(context, result as readonly GraphQLError[]);
        };
      },
      onExecute({ args }) {
        const context = args.contextValue as object;
        return {
          onExecuteDone({ result }) {
            if (!isAsyncIterable(result)) return finish(context, result.errors);
            return {
              onNext: ({ result: next }) => record(context, next.errors),
              onEnd: () => finish(context),
            };
          },
        };
      },
      onSubscribe({ args }) {
        const context = args.contextValue as object;
        return {
          onSubscribeResult({ result }) {
            if (!isAsyncIterable(result)) return finish(context, result.errors);
            return {
              onNext: ({ result: next }) => record(context, next.errors),
              onEnd: () => finish(context),
            };
          },
          onSubscribeError: ({ error }) => finish(context, [error]),
        };
      },
    },
  };
}
