import type { UpgradeGuard } from '../events/graphql-ws-server.ts';
import { isAllowedOrigin } from './allowed-origin.ts';

/**
 * Refuses (403, before the handshake) a WebSocket that a browser opened from a page of another
 * origin the operator did not list. Browsers let any page open a WebSocket anywhere and send
 * the gateway's cookies and client certificate along; only the Origin header tells them apart.
 * Non-browser clients send no Origin and pass.
 */
export function websocketOriginGuard(origins: readonly string[]): UpgradeGuard {
  return (req) => {
    const { origin, host } = req.headers;
    if (origin === undefined || isAllowedOrigin(origin, host, origins)) return undefined;
    return {
      status: 403,
      code: 'FORBIDDEN',
      message: `origin ${origin} may not open a WebSocket to this gateway: list it in cors.origins`,
    };
  };
}
