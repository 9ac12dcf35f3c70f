import type { IncomingMessage } from 'node:http';
import { isAsyncIterable, type Plugin } from 'graphql-yoga';
import type { AuthService } from './auth-service.ts';
import { AuthError } from './authenticator.ts';
import { credentialsOf } from './credentials.ts';
import type { Identity } from './identity.ts';

interface AuthContext {
  identity?: Identity;
  request: Request;
}

/** The body of a refused request: a GraphQL error with its code, as yoga shapes errors. */
export function authErrorBody(e: AuthError): string {
  return JSON.stringify({ errors: [{ message: e.message, extensions: { code: e.code } }] });
}

/** Ends an async iterable when `ended` settles: a revoked or expired credential stops its subscriptions. */
function until<T>(source: AsyncIterable<T>, ended: Promise<void>, cleanup: () => void): AsyncIterableIterator<T> {
  const it = source[Symbol.asyncIterator]();
  const done = ended.then((): IteratorResult<T> => {
    void it.return?.();
    return { done: true, value: undefined };
  });
  return {
    [Symbol.asyncIterator]() {
      return this;
    },
    next: async () => {
      const next = await Promise.race([it.next(), done]);
      if (next.done) cleanup();
      return next;
    },
    return: async () => {
      cleanup();
      return (await it.return?.()) ?? { done: true, value: undefined };
    },
  };
}

/**
 * Resolves the caller once per HTTP request (API token, JWT or client certificate) and puts
 * the identity in the context; a request to the GraphQL endpoint without valid credentials
 * ends with 401 before any parsing. WebSocket operations arrive with the identity that
 * graphql-ws authenticated at connection time. Subscriptions (SSE and WebSocket) end when
 * their credentials are revoked by a config reload or expire.
 */
const identities = new WeakMap<Request, { identity: Identity; authorization: string | null; req?: IncomingMessage }>();

/** The identity useAuthentication resolved for this HTTP request, if any. */
export function requestIdentity(request: Request | undefined): Identity | undefined {
  return request ? identities.get(request)?.identity : undefined;
}

export function useAuthentication(auth: AuthService, graphqlEndpoint = '/graphql'): Plugin<AuthContext> {
  return {
    async onRequest({ request, serverContext, url, endResponse, fetchAPI }) {
      if (url.pathname !== graphqlEndpoint || request.method === 'OPTIONS') return;
      // The GraphiQL page itself carries no data; its requests authenticate like any other.
      if (
        request.method === 'GET' &&
        !url.searchParams.has('query') &&
        request.headers.get('accept')?.includes('text/html')
      )
        return;
      const req = (serverContext as { req?: IncomingMessage }).req;
      const authorization = request.headers.get('authorization');
      try {
        identities.set(request, {
          identity: await auth.authenticate(credentialsOf(authorization, req)),
          authorization,
          req,
        });
      } catch (e) {
        if (!(e instanceof AuthError)) throw e;
        endResponse(
          new fetchAPI.Response(authErrorBody(e), {
            status: 401,
            headers: { 'content-type': 'application/json', 'www-authenticate': 'Bearer' },
          }),
        );
      }
    },
    onSubscribe({ args }) {
      const context = args.contextValue as { identity?: Identity; request?: Request; revoked?: Promise<void> };
      return {
        onSubscribeResult({ result, setResult }) {
          if (!isAsyncIterable(result)) return;
          // Over graphql-ws the socket closes itself on revocation (see graphql-ws-server.ts).
          const found = context.request ? identities.get(context.request) : undefined;
          if (!found) return;
          let untrack = () => {};
          const ended = new Promise<void>((resolve) => {
            untrack = auth.track(credentialsOf(found.authorization, found.req), found.identity, () => resolve());
          });
          setResult(until(result, ended, () => untrack()));
        },
      };
    },
  };
}
