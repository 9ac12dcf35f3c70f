import type { Server } from 'node:http';
import type { ExecutionArgs, ExecutionResult } from 'graphql';
import { useServer } from 'graphql-ws/use/ws';
import type { YogaServerInstance } from 'graphql-yoga';
import { WebSocket, WebSocketServer } from 'ws';

export interface GraphQLWsServer {
  /**
   * Closes every socket (1001 Going away) once the operations under way have completed (end
   * the subscriptions first), waiting at most `timeoutMs` for that and for each socket to close.
   */
  close(timeoutMs?: number): Promise<void>;
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
export function serveGraphQLWs(server: Server, yoga: YogaServerInstance<any, any>): GraphQLWsServer {
  const wss = new WebSocketServer({ server, path: yoga.graphqlEndpoint });
  // Operations under way, so close() lets each send its complete message before the sockets close.
  let operations = 0;
  let drained: (() => void) | undefined;
  const disposable = useServer(
    {
      execute: (args) => (args.rootValue as EnvelopedRoot).execute(args),
      subscribe: (args) => (args.rootValue as EnvelopedRoot).subscribe(args),
      onSubscribe: async (ctx, _id, params) => {
        const { schema, execute, subscribe, contextFactory, parse, validate } = yoga.getEnveloped({
          ...ctx,
          req: ctx.extra.request,
          socket: ctx.extra.socket,
          params,
        });
        const args: ExecutionArgs = {
          schema,
          operationName: params.operationName,
          document: parse(params.query),
          variableValues: params.variables,
          contextValue: await contextFactory(),
          rootValue: { execute, subscribe } satisfies EnvelopedRoot,
        };
        const errors = validate(args.schema, args.document);
        if (errors.length > 0) return errors;
        operations += 1;
        return args;
      },
      onComplete: () => {
        operations -= 1;
        if (operations === 0) drained?.();
      },
    },
    wss,
  );
  return {
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
