import type { IncomingMessage } from 'node:http';
import { createGraphQLError, isAsyncIterable, type Plugin } from 'graphql-yoga';
import type { AuthService } from './auth-service.ts';
import { AuthError, type Credentials } from './authenticator.ts';
import { credentialsOf } from './credentials.ts';
import type { Identity } from './identity.ts';

interface AuthContext {
  identity?: Identity;
  request: Request;
}

/**
 * Wraps a subscription so that `end(last)` (a revoked or expired credential) delivers `last`, if
 * given, and completes it. Each pending `next()` gets its own wake-up: racing every `next()` against one long-lived promise
 * would pile a reaction (and the event it resolved with) onto that promise per event.
 */
export function endable<T>(
  source: AsyncIterable<T>,
  cleanup: () => void,
): { iterator: AsyncIterableIterator<T>; end(last?: T): void } {
  const it = source[Symbol.asyncIterator]();
  let ended = false;
  let wake: ((result: IteratorResult<T>) => void) | undefined;
  let final: { value: T } | undefined;
  const finish = () => {
    if (ended) return;
    ended = true;
    cleanup();
  };
  return {
    end(last) {
      if (ended) return;
      finish();
      void it.return?.();
      if (last === undefined) return wake?.({ done: true, value: undefined });
      if (wake) wake({ done: false, value: last });
      else final = { value: last };
    },
    iterator: {
      [Symbol.asyncIterator]() {
        return this;
      },
      next: () => {
        if (final) {
          const { value } = final;
          final = undefined;
          return Promise.resolve({ done: false, value });
        }
        if (ended) return Promise.resolve({ done: true, value: undefined });
        return new Promise<IteratorResult<T>>((resolve, reject) => {
          wake = resolve;
          it.next().then(
            (result) => {
              wake = undefined;
              if (result.done) finish();
              resolve(result);
            },
            (error: unknown) => {
              wake = undefined;
              finish();
              reject(error);
            },
          );
        });
      },
      return: async () => {
        finish();
        return (await it.return?.()) ?? { done: true, value: undefined };
      },
    },
  };
}

const identities = new WeakMap<
  Request,
  { identity: Identity; authorization: string | null; req?: IncomingMessage; credentials?: Credentials }
>();

/**
 * Keeps an identity resolved from credentials the request did not carry itself (a stream ticket's),
 * so its subscription ends when those credentials are revoked, as one sent in the header does.
 */
export function adoptIdentity(
  request: Request,
  identity: Identity,
  credentials: Credentials,
  req: IncomingMessage | undefined,
): void {
  identities.set(request, { identity, authorization: null, credentials, ...(req ? { req } : {}) });
}

/** The credentials the request's identity was resolved from, if it has one. */
export function requestCredentials(request: Request | undefined): Credentials | undefined {
  const found = request ? identities.get(request) : undefined;
  return found && (found.credentials ?? credentialsOf(found.authorization, found.req));
}

/** The identity useAuthentication resolved for this HTTP request, if any. */
export function requestIdentity(request: Request | undefined): Identity | undefined {
  return request ? identities.get(request)?.identity : undefined;
}

/**
 * Resolves the caller of an HTTP request (API token, JWT or client certificate) and keeps the
 * identity for the context; resolves to the AuthError saying why not. The gate
 * (src/security/create-gate.ts) calls it for every route that needs a caller, before any parsing.
 */
export async function authenticateRequest(
  auth: AuthService,
  request: Request,
  req: IncomingMessage | undefined,
): Promise<AuthError | undefined> {
  const authorization = request.headers.get('authorization');
  try {
    identities.set(request, {
      identity: await auth.authenticate(credentialsOf(authorization, req)),
      authorization,
      req,
    });
    return undefined;
  } catch (e) {
    if (e instanceof AuthError) return e;
    throw e;
  }
}

/**
 * WebSocket operations arrive with the identity that graphql-ws authenticated at connection
 * time, HTTP ones with the identity {@link authenticateRequest} resolved. Subscriptions (SSE and
 * WebSocket) end when their credentials are revoked by a config reload or expire.
 */
export function useAuthentication(auth: AuthService): Plugin<AuthContext> {
  return {
    onSubscribe({ args }) {
      const context = args.contextValue as { identity?: Identity; request?: Request; revoked?: Promise<void> };
      return {
        onSubscribeResult({ result, setResult }) {
          if (!isAsyncIterable(result)) return;
          // Over graphql-ws the socket closes itself on revocation (see graphql-ws-server.ts).
          const found = context.request ? identities.get(context.request) : undefined;
          if (!found) return;
          let untrack = () => {};
          const subscription = endable(result, () => untrack());
          // The last event says why the stream ends, as graphql-ws says it in its close reason.
          untrack = auth.track(
            found.credentials ?? credentialsOf(found.authorization, found.req),
            found.identity,
            (e) => subscription.end({ errors: [createGraphQLError(e.message, { extensions: { code: e.code } })] }),
          );
          setResult(subscription.iterator);
        },
      };
    },
  };
}
