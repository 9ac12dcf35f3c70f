import type { IncomingMessage } from 'node:http';
import { type CORSOptions, createGraphQLError, type Plugin } from 'graphql-yoga';
import type { CorsConfig } from '../config/security-schema.ts';
import type { UpgradeGuard } from '../events/graphql-ws-server.ts';
import { loopbackRefusal } from './loopback-host.ts';
import { originRefusal } from './origin-refusal.ts';
import { refusalResponse } from './refusal-response.ts';

/** The header a GET query (or any request whose content type a form could send) must carry. */
export const CSRF_HEADER = 'x-graphql-yoga-csrf';

/** Who may take a route once Host and Origin pass: anyone, or only an authenticated caller. */
export type Access = 'public' | 'authenticated';

export interface Route {
  /** The path as the request spells it, compared exactly (no trailing `/`, no case folding). */
  path: string;
  /** Covers every path that starts with `path` (which then ends in `/`). @default false */
  prefix?: boolean;
  access: Access | ((request: Request, url: URL) => Access);
}

/** Why the gate refuses a request: its HTTP status and, but for 404, a coded error. */
export interface Refusal {
  status: 400 | 401 | 403 | 404;
  code?: string;
  message?: string;
}

export interface GateOptions {
  /** The one path GraphQL is parsed on (the GraphiQL page is served there too). */
  graphqlEndpoint: string;
  /** Every path the app answers on; any other is 404 before anything else looks at it. */
  routes: readonly Route[];
  cors: CorsConfig;
  /** Without identities, on loopback: a Host that is not a loopback name is refused. @default false */
  loopbackHostOnly?: boolean;
  /** Resolves the caller (and keeps it for the context), or says why not. */
  authenticate(
    request: Request,
    req: IncomingMessage | undefined,
  ): Promise<{ status?: 401 | 403; code: string; message: string } | undefined>;
  /** Told once of every request refused 401 or 403 (credentials, Host, Origin, CSRF), before the answer goes. */
  onRefused?(request: Request, refusal: Required<Refusal>, req: IncomingMessage | undefined): void;
}

export interface Gate {
  /** yoga's `cors` option: listed origins only, with credentials. */
  cors: (request: Request) => CORSOptions;
  /** The gate first, before every other plugin of the app. */
  plugin: Plugin;
  /** The same Host and Origin checks for WebSocket upgrades (graphql-ws and /console route by exact path). */
  upgradeGuards: UpgradeGuard[];
  /** What the gate answers `request`: undefined when it passes. */
  check(request: Request, req?: IncomingMessage): Promise<Refusal | undefined>;
}

// An authority as RFC 3986 spells one (name or IP literal, optional port): a Host with `/`, `?`
// or `#` would move where the request URL's path starts.
const HOST_SHAPE = /^(?:[A-Za-z0-9._~-]*|\[[0-9A-Fa-f:.]+\])(?::\d{0,5})?$/;

// Content types a page can POST without a CORS preflight (HTML forms, fetch without headers).
const SIMPLE_TYPES = ['application/x-www-form-urlencoded', 'multipart/form-data', 'text/plain'];

function routeOf(routes: readonly Route[], pathname: string): Route | undefined {
  return routes.find((r) => (r.prefix ? pathname.startsWith(r.path) : pathname === r.path));
}

/**
 * The one place every HTTP request passes, first, whatever its path: yoga matches its GraphQL
 * endpoint loosely (any URL that ends in `/graphql`, `/graphql/` included), so checks written per
 * route missed spellings. Here, in this order:
 * 1. the path must be one of `routes`, spelled exactly (`/graphql/`, `//graphql`, `/GRAPHQL`,
 *    `/%67raphql`, `/x?y=/graphql` are 404), and the Host header a plain authority;
 * 2. with `loopbackHostOnly`, the Host must be a loopback name (DNS rebinding);
 * 3. a browser's Origin must be the gateway's own or listed in `cors.origins`;
 * 4. an `authenticated` route needs valid credentials: 401 otherwise, for POST, GET and SSE alike;
 * 5. a GraphQL request a page could send without a preflight (a form or text/plain POST, a GET
 *    from another site) must carry {@link CSRF_HEADER} (checked when yoga parses it, as yoga's CSRF
 *    plugin does); a same-origin GET, one with an allowed Origin and a non-browser GET need not
 *    (see unforgedGet), so GET clients (urql's default, EventSource) work.
 * CORS preflights are answered by yoga's CORS before this, for listed origins only.
 */
/**
 * A GET a page of another site cannot have made: the browser says it is same-origin or typed by the
 * user (`Sec-Fetch-Site`), or it carries an Origin (which step 3 already found to be the gateway's
 * own or a listed one), or it comes from no browser at all (no Sec-Fetch-Site: curl, a server, a
 * client library). A GET runs queries and subscriptions only (yoga answers a mutation 405), so an
 * old browser without Fetch Metadata can at most start a read whose answer it cannot see.
 */
export function unforgedGet(request: Request): boolean {
  if (request.method !== 'GET') return false;
  const site = request.headers.get('sec-fetch-site');
  return site === null || site === 'same-origin' || site === 'none' || request.headers.has('origin');
}

export function createGate(options: GateOptions): Gate {
  const origins = [...options.cors.origins];
  const hostOf = (request: Request, url: URL) => request.headers.get('host') ?? url.host;
  const check = async (request: Request, req?: IncomingMessage): Promise<Refusal | undefined> => {
    let url: URL;
    try {
      url = new URL(request.url);
    } catch {
      return { status: 404 };
    }
    const route = routeOf(options.routes, url.pathname);
    if (!route) return { status: 404 };
    const host = hostOf(request, url);
    if (!HOST_SHAPE.test(host)) return { status: 400, code: 'INVALID_INPUT', message: 'host: not a host name' };
    const notLoopback = options.loopbackHostOnly ? loopbackRefusal(host) : undefined;
    if (notLoopback) return { status: 403, code: 'FORBIDDEN', message: notLoopback };
    if (request.method === 'OPTIONS') return undefined;
    const foreign = originRefusal(request.headers.get('origin'), host, origins);
    if (foreign) return { status: 403, code: 'FORBIDDEN', message: foreign };
    const access = typeof route.access === 'function' ? route.access(request, url) : route.access;
    if (access === 'public') return undefined;
    const refused = await options.authenticate(request, req);
    return refused && { status: refused.status ?? 401, code: refused.code, message: refused.message };
  };
  const plugin: Plugin = {
    async onRequest({ request, serverContext, endResponse, fetchAPI }) {
      const { req } = serverContext as { req?: IncomingMessage };
      const refusal = await check(request, req);
      if (!refusal) return;
      if (refusal.status === 404) {
        endResponse(new fetchAPI.Response(null, { status: 404 }));
        return;
      }
      if (refusal.status !== 400) options.onRefused?.(request, refusal as Required<Refusal>, req);
      endResponse(refusalResponse(fetchAPI, refusal));
    },
    onRequestParse({ request, url, serverContext }) {
      // yoga parses GraphQL on any URL that ends in /graphql (`/health?/graphql`): only the endpoint runs it.
      if (url.pathname !== options.graphqlEndpoint) {
        throw createGraphQLError('no GraphQL here', { extensions: { code: 'NOT_FOUND', http: { status: 404 } } });
      }
      const type = request.headers.get('content-type')?.toLowerCase();
      const preflighted = type !== undefined && !SIMPLE_TYPES.some((simple) => type.startsWith(simple));
      if (preflighted || request.headers.has(CSRF_HEADER) || unforgedGet(request)) return;
      const message = `CSRF: a cross-site GET or a form or text/plain POST needs the header ${CSRF_HEADER}: 1 (a page can send those without asking)`;
      options.onRefused?.(
        request,
        { status: 403, code: 'FORBIDDEN', message },
        (serverContext as { req?: IncomingMessage } | undefined)?.req,
      );
      throw createGraphQLError(message, { extensions: { code: 'FORBIDDEN', http: { status: 403 } } });
    },
  };
  const upgradeGuards: UpgradeGuard[] = [
    (req) => {
      const host = req.headers.host;
      const notLoopback = options.loopbackHostOnly ? loopbackRefusal(host) : undefined;
      if (notLoopback) return { status: 403, code: 'FORBIDDEN', message: notLoopback };
      const foreign = originRefusal(req.headers.origin, host, origins);
      return foreign ? { status: 403, code: 'FORBIDDEN', message: foreign } : undefined;
    },
  ];
  return {
    cors: (request) => {
      const origin = request.headers.get('origin');
      if (origin === null || !origins.includes(origin)) return false;
      return { origin: [origin], credentials: true, methods: ['GET', 'POST'] };
    },
    plugin,
    upgradeGuards,
    check,
  };
}
