import type { Plugin } from 'graphql-yoga';
import { isLoopback } from '../config/security.ts';
import type { UpgradeGuard } from '../events/graphql-ws-server.ts';

/** `localhost:4000`, `127.0.0.1`, `[::1]:4000` → whether the name is a loopback one. */
export function isLoopbackHost(host: string | null | undefined): boolean {
  if (!host) return false;
  let name: string;
  try {
    name = new URL(`http://${host}`).hostname;
  } catch {
    return false;
  }
  return isLoopback(name.replace(/^\[|\]$/g, ''));
}

function refusal(host: string | null | undefined): string {
  return `host ${host ?? '(none)'} is not a loopback name: without identities the gateway answers only to localhost, 127.0.0.1 and [::1]`;
}

/**
 * Without identities every caller is an admin, and only loopback keeps strangers out. A web page
 * whose own name an attacker re-points at 127.0.0.1 (DNS rebinding) is same-origin with itself,
 * so the Origin check lets it pass; its requests still carry its own name as Host, refused here.
 */
export function useLoopbackHost(graphqlEndpoint = '/graphql'): Plugin {
  return {
    onRequest({ request, url, endResponse, fetchAPI }) {
      if (url.pathname !== graphqlEndpoint) return;
      const host = request.headers.get('host') ?? url.host;
      if (isLoopbackHost(host)) return;
      const body = JSON.stringify({ errors: [{ message: refusal(host), extensions: { code: 'FORBIDDEN' } }] });
      endResponse(new fetchAPI.Response(body, { status: 403, headers: { 'content-type': 'application/json' } }));
    },
  };
}

export const websocketLoopbackGuard: UpgradeGuard = (req) =>
  isLoopbackHost(req.headers.host) ? undefined : { status: 403, code: 'FORBIDDEN', message: refusal(req.headers.host) };
