import { useCSRFPrevention } from '@graphql-yoga/plugin-csrf-prevention';
import type { CORSOptions, Plugin } from 'graphql-yoga';
import type { CorsConfig } from '../config/security-schema.ts';
import type { UpgradeGuard } from '../events/graphql-ws-server.ts';
import { useLoopbackHost, websocketLoopbackGuard } from './loopback-host.ts';
import { useOriginCheck } from './use-origin-check.ts';
import { websocketOriginGuard } from './websocket-origin.ts';

/** The header a GET query (or any request whose content type a form could send) must carry. */
export const CSRF_HEADER = 'x-graphql-yoga-csrf';

export interface BrowserDefenses {
  /** yoga's `cors` option. */
  cors: (request: Request) => CORSOptions;
  /** Before authentication: the Origin check, then yoga's CSRF prevention. */
  plugins: Plugin[];
  upgradeGuards: UpgradeGuard[];
}

/**
 * What keeps a web page the operator happens to open from driving the gateway, in every mode
 * (loopback without identities included):
 * - a request from another origin is refused unless `cors.origins` lists it (HTTP and WebSocket);
 * - CORS answers listed origins only, with credentials, and no other;
 * - yoga's CSRF prevention refuses what a page can send without a preflight (HTML forms,
 *   `<img src=…?query=>`, `fetch` with a form content type) unless it carries {@link CSRF_HEADER};
 * - with `loopbackHostOnly` (no identities, on loopback), a Host that is not a loopback name is
 *   refused, so a DNS-rebound page (same origin as itself, resolving to 127.0.0.1) cannot call in.
 */
export function createBrowserDefenses(
  config: CorsConfig,
  graphqlEndpoint = '/graphql',
  options: { loopbackHostOnly?: boolean } = {},
): BrowserDefenses {
  const origins = [...config.origins];
  const rebinding = options.loopbackHostOnly ? [useLoopbackHost(graphqlEndpoint)] : [];
  return {
    cors: (request) => {
      const origin = request.headers.get('origin');
      if (origin === null || !origins.includes(origin)) return false;
      return { origin: [origin], credentials: true, methods: ['GET', 'POST'] };
    },
    plugins: [
      ...rebinding,
      useOriginCheck({ origins, graphqlEndpoint }),
      useCSRFPrevention({ requestHeaders: [CSRF_HEADER] }),
    ],
    upgradeGuards: [...(options.loopbackHostOnly ? [websocketLoopbackGuard] : []), websocketOriginGuard(origins)],
  };
}
