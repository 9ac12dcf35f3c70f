import { type IncomingMessage, type Server, STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import type { DocumentNode, ExecutionArgs, ExecutionResult, GraphQLError } from 'graphql';
import { useServer } from 'graphql-ws/use/ws';
import { isAsyncIterable, type YogaServerInstance } from 'graphql-yoga';
import { WebSocket, WebSocketServer } from 'ws';
import type { AuthService } from '../auth/auth-service.ts';
import { AuthError } from '../auth/authenticator.ts';
import { credentialsOf } from '../auth/credentials.ts';
import { Identity } from '../auth/identity.ts';
import { formattedForWire } from '../schema/core/errors.ts';
import { sendText, sentDirectly } from './ws-next-messages.ts';

/** Why an upgrade request is refused before the WebSocket handshake: an HTTP status and a message. */
export interface UpgradeRefusal {
  status: number;
  message: string;
  /** The gateway's error code, sent as `extensions.code`. */
  code?: string;
}

/** Runs on every upgrade request to the GraphQL path, before the handshake (origin checks, connection caps). */
export type UpgradeGuard = (req: IncomingMessage) => UpgradeRefusal | undefined;

/** Runs once the socket's identity is known; a close code (4xxx) and reason refuse the connection. */
export type ConnectGuard = (
  identity: Identity,
  socket: WebSocket,
  req: IncomingMessage,
) => { code: number; reason: string } | undefined;

export interface GraphQLWsOptions {
  /** Authenticates each connection from `connectionParams.authorization` (or the upgrade's Authorization header). @default everyone is the anonymous admin */
  auth?: AuthService;
  upgradeGuards?: UpgradeGuard[];
  connectGuards?: ConnectGuard[];
  /** Largest message accepted, in bytes; a larger one closes the socket (1009). @default 4 MiB */
  maxPayload?: number;
  /** How long a socket may take to send connection_init before it is closed (4408). @default 3_000 */
  connectionInitWaitTimeout?: number;
  /** Told of each connection refused for its credentials (4401), with the client's address: the audit records it. @default none */
  onUnauthenticated?: (refusal: { code: string; message: string; source: string | null }) => void | Promise<void>;
  /** Other WebSocket endpoints on the same port, by path (the consoles); the upgrade guards run for them too. @default none */
  routes?: Record<string, (req: IncomingMessage, socket: Duplex, head: Buffer) => void>;
  /**
   * The document an operation runs, from its `query` and `extensions` (the trusted-documents rule
   * HTTP requests meet too); throws the GraphQLError that refuses it. @default the operation's `query`
   */
  documentOf?: (params: { query: string; extensions?: unknown }) => string | undefined;
}

/** graphql-ws keeps what onConnect learns about a socket here. */
interface SocketExtra {
  identity?: Identity;
  untrack?: () => void;
}

/** Close codes a refused connection gets: graphql-ws' own 4403 Forbidden, and 4401 for bad credentials. */
export const CloseCode = { Unauthorized: 4401, Forbidden: 4403, SlowConsumer: 1008 } as const;

/** How long a dropped slow consumer gets to take the close frame before its socket is destroyed. */
const SLOW_CONSUMER_GRACE_MS = 5_000;

/** Closes the socket of a subscriber that fell too far behind (1008, policy violation), then destroys it. */
function dropSlowConsumer(socket: WebSocket, error: Error): void {
  socket.close(CloseCode.SlowConsumer, `SLOW_CONSUMER: ${error.message}`.slice(0, 120));
  setTimeout(() => socket.terminate(), SLOW_CONSUMER_GRACE_MS).unref();
}

function refuseUpgrade(socket: Duplex, { status, message, code }: UpgradeRefusal): void {
  const body = JSON.stringify({ errors: [{ message, ...(code ? { extensions: { code } } : {}) }] });
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Error'}\r\n` +
      `Content-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}

export interface GraphQLWsServer {
  /**
   * Closes every socket (1001 Going away) once the operations under way have completed (end
   * the subscriptions first), waiting at most `timeoutMs` for that and for each socket to close.
   */
  close(timeoutMs?: number): Promise<void>;
  /** WebSockets open now. */
  openSockets(): number;
}

interface EnvelopedRoot {
  execute: (args: ExecutionArgs) => Promise<ExecutionResult>;
  subscribe: (args: ExecutionArgs) => Promise<ExecutionResult | AsyncIterable<ExecutionResult>>;
}

/**
 * graphql-ws (the graphql-transport-ws protocol) on the HTTP server, at yoga's GraphQL path.
 * Follows yoga's graphql-ws recipe: each operation is parsed, validated, given its context and
 * executed through yoga's envelop, so plugins, error masking and the context are the same as
 * over HTTP.
 */
export function serveGraphQLWs(
  server: Server,
  // biome-ignore lint/suspicious/noExplicitAny: any yoga app's envelop serves; its contexts are built by its own factory
  yoga: YogaServerInstance<any, any>,
  options: GraphQLWsOptions = {},
): GraphQLWsServer {
  const wss = new WebSocketServer({ noServer: true, maxPayload: options.maxPayload ?? 4 * 1024 * 1024 });
  // Each WebSocket's TCP socket, which sendText corks while one event's messages are written.
  const rawSockets = new WeakMap<WebSocket, Duplex>();
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const path = new URL(req.url ?? '/', 'http://virtql').pathname;
    const route = Object.hasOwn(options.routes ?? {}, path) ? options.routes?.[path] : undefined;
    if (path !== yoga.graphqlEndpoint && !route) {
      refuseUpgrade(socket, { status: 404, message: 'no WebSocket endpoint here' });
      return;
    }
    for (const guard of options.upgradeGuards ?? []) {
      const refusal = guard(req);
      if (refusal) return refuseUpgrade(socket, refusal);
    }
    if (route) return route(req, socket, head);
    wss.handleUpgrade(req, socket, head, (ws) => {
      rawSockets.set(ws, socket);
      wss.emit('connection', ws, req);
    });
  });
  // Operations under way, so close() lets each send its complete message before the sockets close.
  let operations = 0;
  let drained: (() => void) | undefined;
  const disposable = useServer(
    {
      connectionInitWaitTimeout: options.connectionInitWaitTimeout ?? 3_000,
      execute: (args) => (args.rootValue as EnvelopedRoot).execute(args),
      subscribe: (args) => (args.rootValue as EnvelopedRoot).subscribe(args),
      onConnect: async (ctx) => {
        const extra = ctx.extra as typeof ctx.extra & SocketExtra;
        const { socket, request } = ctx.extra;
        const authorization =
          (ctx.connectionParams?.authorization as string | undefined) ?? request.headers.authorization ?? null;
        const credentials = credentialsOf(authorization, request);
        let identity: Identity;
        try {
          identity = options.auth ? await options.auth.authenticate(credentials) : Identity.anonymous();
        } catch (e) {
          if (!(e instanceof AuthError)) throw e;
          await options.onUnauthenticated?.({
            code: e.code,
            message: e.message,
            source: request.socket.remoteAddress ?? null,
          });
          socket.close(CloseCode.Unauthorized, `${e.code}: ${e.message}`.slice(0, 120));
          return false;
        }
        for (const guard of options.connectGuards ?? []) {
          const refusal = guard(identity, socket, request);
          if (refusal) {
            socket.close(refusal.code, refusal.reason.slice(0, 120));
            return false;
          }
        }
        extra.identity = identity;
        extra.untrack = options.auth?.track(credentials, identity, (e) =>
          socket.close(CloseCode.Forbidden, `${e.code}: ${e.message}`.slice(0, 120)),
        );
        socket.once('close', () => extra.untrack?.());
        return true;
      },
      onSubscribe: async (ctx, id, params) => {
        const { schema, execute, subscribe, contextFactory, parse, validate } = yoga.getEnveloped({
          ...ctx,
          req: ctx.extra.request,
          socket: ctx.extra.socket,
          params,
          identity: (ctx.extra as SocketExtra).identity,
          onSlowConsumer: (error: Error) => dropSlowConsumer(ctx.extra.socket, error),
        });
        let document: DocumentNode;
        try {
          document = parse(options.documentOf?.(params) ?? params.query);
        } catch (e) {
          // A syntax error, the token limit or an untrusted document: an error message for this operation, not a 4500 close.
          if (e instanceof Error && e.name === 'GraphQLError') return [e as GraphQLError];
          throw e;
        }
        const args: ExecutionArgs = {
          schema,
          operationName: params.operationName,
          document,
          variableValues: params.variables,
          contextValue: await contextFactory(),
          rootValue: {
            execute,
            // Events go to the socket as pre-serialised messages, shared by the subscribers of a group (ws-next-messages.ts).
            subscribe: async (args) => {
              const result = await subscribe(args);
              if (!isAsyncIterable(result)) return result;
              const { socket } = ctx.extra;
              const raw = rawSockets.get(socket);
              return sentDirectly(result as AsyncIterable<ExecutionResult>, id, (data) => sendText(socket, raw, data));
            },
          } satisfies EnvelopedRoot,
        };
        const errors = validate(args.schema, args.document);
        if (errors.length > 0) return errors;
        operations += 1;
        return args;
      },
      // yoga's extensions.http (an HTTP status) is for HTTP responses only; subscription events get the same in nextMessage.
      onError: (_ctx, _id, _payload, errors) => errors.map(formattedForWire),
      onNext: (_ctx, _id, _payload, _args, result) =>
        result.errors ? { ...result, errors: result.errors.map(formattedForWire) } : undefined,
      onComplete: () => {
        operations -= 1;
        if (operations === 0) drained?.();
      },
    },
    wss,
  );
  return {
    openSockets: () => wss.clients.size,
    async close(timeoutMs = 2_000) {
      if (operations > 0) {
        await new Promise<void>((resolve) => {
          drained = resolve;
          setTimeout(resolve, timeoutMs).unref();
        });
      }
      // graphql-ws sends an operation's complete message right after onComplete returns.
      await new Promise((resolve) => setImmediate(resolve));
      const sockets = [...wss.clients];
      const closed = sockets.map(
        (socket) =>
          new Promise<void>((resolve) => {
            if (socket.readyState === WebSocket.CLOSED) return resolve();
            const timer = setTimeout(() => {
              socket.terminate();
              resolve();
            }, timeoutMs);
            timer.unref();
            socket.once('close', () => {
              clearTimeout(timer);
              resolve();
            });
          }),
      );
      await disposable.dispose();
      await Promise.all(closed);
    },
  };
}
