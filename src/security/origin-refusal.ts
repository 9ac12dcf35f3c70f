import { isAllowedOrigin } from './allowed-origin.ts';

/**
 * Why a browser's request (HTTP or WebSocket upgrade) from a page of another origin is refused,
 * or undefined when it may call: no Origin (curl, servers, graphql-ws in Node are not browsers),
 * the gateway's own origin, or one the operator listed in `cors.origins`. Browsers let any page
 * send requests and open WebSockets anywhere, with the gateway's cookies and client certificate;
 * only the Origin header tells them apart. CORS alone only stops the page from reading the answer.
 */
export function originRefusal(
  origin: string | null | undefined,
  host: string | null | undefined,
  origins: readonly string[],
): string | undefined {
  if (origin == null || isAllowedOrigin(origin, host, origins)) return undefined;
  return `origin ${origin} may not call this gateway: list it in cors.origins`;
}
