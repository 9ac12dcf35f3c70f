import type { Plugin } from 'graphql-yoga';
import { isAllowedOrigin } from './allowed-origin.ts';

export interface OriginCheckOptions {
  /** Cross origins the operator allows (`cors.origins`). */
  origins: readonly string[];
  /** @default '/graphql' */
  graphqlEndpoint?: string;
}

/**
 * Refuses (403) a request to the GraphQL endpoint that a browser sent from a page of another
 * origin the operator did not list, before authentication or parsing. CORS alone only stops
 * the page from reading the answer; this stops the operation from running at all, whatever the
 * browser let through. Preflights (OPTIONS) are left to CORS, and clients that send no Origin
 * (curl, servers, graphql-ws in Node) are not browsers and pass.
 */
export function useOriginCheck({ origins, graphqlEndpoint = '/graphql' }: OriginCheckOptions): Plugin {
  return {
    onRequest({ request, url, endResponse, fetchAPI }) {
      if (url.pathname !== graphqlEndpoint || request.method === 'OPTIONS') return;
      const origin = request.headers.get('origin');
      if (origin === null || isAllowedOrigin(origin, request.headers.get('host') ?? url.host, origins)) return;
      const message = `origin ${origin} may not call this gateway: list it in cors.origins`;
      endResponse(
        new fetchAPI.Response(JSON.stringify({ errors: [{ message, extensions: { code: 'FORBIDDEN' } }] }), {
          status: 403,
          headers: { 'content-type': 'application/json' },
        }),
      );
    },
  };
}
