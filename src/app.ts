import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { createYoga, useReadinessCheck } from 'graphql-yoga';
import { type Logger, pino } from 'pino';
import { AuditLog, UNAUTHENTICATED_OPERATION } from './audit/audit-log.ts';
import { useAudit } from './audit/use-audit.ts';
import { AuthService } from './auth/auth-service.ts';
import { Identity } from './auth/identity.ts';
import {
  authenticateRequest,
  requestCredentials,
  requestIdentity,
  useAuthentication,
} from './auth/use-authentication.ts';
import { defaultSecurity, hasIdentities, type SecurityConfig } from './config/security.ts';
import { type AuthConfig, consolesSchema, metricsSchema } from './config/security-schema.ts';
import { imagesSchema, transfersSchema } from './config/transfer-schema.ts';
import { CONSOLE_PATH, type ConsoleServer, createConsoleServer } from './console/console-server.ts';
import { createConsoleTickets, createMemoryTicketStore, createRedisTicketStore } from './console/console-tickets.ts';
import { displayRouteOf } from './console/remote-display.ts';
import type { HistoryLimits } from './events/event-history.ts';
import { EventHub, type EventRegistry } from './events/event-hub.ts';
import { createMemoryTransport } from './events/event-transport.ts';
import { type GraphQLWsServer, serveGraphQLWs, type UpgradeGuard } from './events/graphql-ws-server.ts';
import { createRedisTransport, type RedisTransportOptions } from './events/redis-transport.ts';
import { useSharedEventExecution } from './events/use-shared-event-execution.ts';
import { useCompiledQueries } from './execution/use-compiled-queries.ts';
import {
  DEFAULT_QUERY,
  GRAPHIQL_ASSETS_PATH,
  isGraphiQLPageRequest,
  useGraphiQLAssets,
} from './graphiql/use-graphiql-assets.ts';
import { createReadiness } from './health/readiness.ts';
import { createLocalLocks, createRedisLocks } from './hosts/object-locks.ts';
import { createLimits } from './limits/create-limits.ts';
import { createRequestLogging } from './logging/use-request-logging.ts';
import { collectCertificateExpiry } from './metrics/certificate-metrics.ts';
import { createMetrics, type GatewayMetrics } from './metrics/create-metrics.ts';
import { METRICS_PATH } from './metrics/use-metrics-endpoint.ts';
import { OperationTracker } from './operations/operation-tracker.ts';
import { createRedisOperations } from './operations/redis-operations.ts';
import { startRequestDeadline } from './request-deadline.ts';
import type { GatewayContext, HostSource } from './schema/core/context.ts';
import { clientErrorCode, clientErrorMessage, gatewayError, maskError } from './schema/core/errors.ts';
import { schema } from './schema/index.ts';
import { CSRF_HEADER, createGate, type Route } from './security/create-gate.ts';
import { createStreamTickets, STREAM_TICKET_PARAM, type StreamGrant } from './security/stream-tickets.ts';
import {
  createMemoryTicketStore as createMemoryStore,
  createRedisTicketStore as createRedisStore,
} from './security/ticket-store.ts';
import { trustedIdOf, trustedQuery, useTrustedDocuments } from './security/trusted-documents.ts';
import { trackConnections } from './server-shutdown.ts';
import { StatsSamplers } from './stats/stats-samplers.ts';
import { startTracing, type Tracing } from './tracing/tracing.ts';
import { useTracing } from './tracing/use-tracing.ts';
import { TRANSFER_PATH, VolumeTransfers } from './transfer/volume-transfers.ts';
import { useInputErrorCodes } from './validation/use-input-error-codes.ts';
import { useNestingLimit } from './validation/use-nesting-limit.ts';
import { useNulFreeArguments } from './validation/use-nul-free-arguments.ts';

/** The host registry as the app needs it: named connections, their comings and goings, readiness and shutdown. */
export interface Registry extends HostSource, EventRegistry {
  checkReady(): Promise<Array<{ host: string; ok: boolean; error?: string }>>;
  /** The host's console settings, when the registry has any. */
  config?(name: string): { consoles?: { graphicsAddress?: string } };
  close(): Promise<void>;
}

export interface AppOptions {
  registry: Registry;
  /** @default 4000 */
  port?: number;
  /** @default '0.0.0.0' */
  hostname?: string;
  /** Lets migration destinations given as URI parts use ext and file/program parameters. @default false */
  allowUnsafeClientUris?: boolean;
  /** Where yoga logs (request failures it masks, among others). @default yoga's console logger */
  logger?: Logger;
  /**
   * Redis for subscription events and tracked operations shared between replicas (index.ts
   * passes env REDIS_URL as `url`, e.g. redis://127.0.0.1:6379).
   * @default in-memory: subscribers see this process's events and operations only
   */
  redis?: Omit<RedisTransportOptions, 'logger'>;
  /**
   * Identities and grants, TLS, CORS, limits and audit (config.security).
   * @default no identities (every caller is the anonymous admin), no TLS, no cross origin, default limits
   */
  security?: SecurityConfig;
  /** When /ready answers 200 (config ready). @default { minHosts: 1 } */
  ready?: { minHosts: number; hostNames?: boolean };
  /** What each host's event stream keeps for subscribers that resume (config events.history). @default DEFAULT_HISTORY */
  events?: { history?: HistoryLimits };
}

export interface App {
  yoga: ReturnType<typeof createYoga<Record<string, unknown>, GatewayContext>>;
  /** The live event hub the subscriptions read. */
  events: EventHub;
  /** Where each mutation's audit record goes (log, audit.file, auditEvents). */
  audit: AuditLog;
  /** Prometheus metrics: /metrics on this port, or on config metrics.listen. */
  metrics: GatewayMetrics;
  /** Serial and VNC consoles over WebSocket at /console, opened with openConsole's tickets. */
  consoles: ConsoleServer;
  /** Listens and resolves with the URL of the GraphQL endpoint. */
  start(): Promise<string>;
  /** Applies new identities and grants (SIGHUP); sessions whose credentials were revoked end. */
  reloadAuth(auth: AuthConfig): Promise<void>;
  /** Ends subscriptions and WebSockets, stops accepting requests, then closes every libvirt connection. Idempotent. */
  stop(): Promise<void>;
}

export function buildApp(options: AppOptions): App {
  const { registry } = options;
  const security = options.security ?? defaultSecurity();
  const trusted = security.persistedDocuments;
  const auth = new AuthService(security.auth);
  const events = new EventHub({
    registry,
    transport: options.redis
      ? createRedisTransport({
          ...options.redis,
          logger: options.logger ?? pino({ level: 'info' }),
          ...(options.events?.history && { history: options.events.history }),
        })
      : createMemoryTransport(options.events?.history),
    ...(options.logger ? { logger: options.logger } : {}),
    maxQueuedEvents: security.limits.eventQueue,
  });
  // With Redis, every replica reads, follows and cancels the operations any replica started.
  const operations = new OperationTracker(
    options.redis
      ? {
          shared: createRedisOperations({
            url: options.redis.url,
            logger: options.logger ?? pino({ level: 'info' }),
            ...(options.redis.replicaId ? { replicaId: options.redis.replicaId } : {}),
          }),
        }
      : {},
  );
  const stats = new StatsSamplers({
    connection: (host) => registry.connection(host),
    minIntervalSeconds: security.limits.minStatsIntervalSeconds,
  });
  let ws: GraphQLWsServer | undefined;
  const metrics = createMetrics({
    config: security.metrics ?? metricsSchema.parse({}),
    hosts: registry,
    events,
    openSockets: () => ws?.openSockets() ?? 0,
    auth,
    // Called per request, after requestLogging exists.
    onRefused: (request, refusal, req) => logRefusal(request, refusal, req),
  });
  if (security.tls) collectCertificateExpiry(metrics.registry, security.tls.cert);
  const audit = new AuditLog({ ...security.audit, logger: options.logger ?? pino({ level: 'info' }) });
  const graphqlEndpoint = '/graphql';
  // Every path the app answers on. The GraphiQL page and its assets carry no data, the probes only counts.
  const routes: Route[] = [
    {
      path: graphqlEndpoint,
      access: (request, url) => (security.graphiql && isGraphiQLPageRequest(request, url) ? 'public' : 'authenticated'),
    },
    { path: '/health', access: 'public' },
    // PUT and GET of volume data, served beside yoga (bodies of any size); the ticket names the transfer.
    { path: TRANSFER_PATH, prefix: true, access: 'authenticated' },
    { path: '/ready', access: 'public' },
    ...(security.metrics?.listen === undefined ? [{ path: METRICS_PATH, access: 'authenticated' as const }] : []),
    ...(security.graphiql
      ? [
          { path: '/', access: 'public' as const },
          { path: GRAPHIQL_ASSETS_PATH, prefix: true, access: 'public' as const },
        ]
      : []),
  ];
  /** A request or WebSocket refused for its credentials, before any operation is known (a mutation may follow). */
  const recordUnauthenticated = ({ code, source }: { code: string; source: string | null }) =>
    audit.write({
      time: new Date().toISOString(),
      identity: { name: 'unknown', kind: 'anonymous' },
      source,
      host: registry.defaultName,
      operation: UNAUTHENTICATED_OPERATION,
      arguments: {},
      result: code,
      durationMs: 0,
    });
  const requestLogging = createRequestLogging({
    logger: options.logger ?? pino({ level: 'info' }),
    codeOf: clientErrorCode,
    messageOf: clientErrorMessage,
    identityOf: (context) => (context.identity instanceof Identity ? context.identity.name : undefined),
  });
  /** A WebSocket refused for its credentials (close 4401) or its Host/Origin (403): no request id, one line. */
  function logSocketRefusal(refusal: { status: number; code: string; message: string; source: string | null }): void {
    (options.logger ?? pino({ level: 'info' })).warn(
      {
        status: refusal.status,
        code: refusal.code,
        reason: refusal.message.slice(0, 512),
        source: refusal.source,
        transport: 'websocket',
      },
      'request refused',
    );
  }
  function logRefusal(
    request: Request,
    refusal: { status: number; code: string; message: string },
    req: IncomingMessage | undefined,
  ): void {
    requestLogging.refused(request, {
      ...refusal,
      ...(req?.socket.remoteAddress ? { source: req.socket.remoteAddress } : {}),
      // The HTTP method as sent: the volume data handler's Request is built from headers only.
      ...(req?.method ? { method: req.method } : {}),
    });
  }
  // EventSource tickets (createStreamTicket), in Redis when replicas share one, as console tickets are.
  const streamTicketStore = options.redis
    ? createRedisStore<StreamGrant>(options.redis.url, 'stream-ticket')
    : createMemoryStore<StreamGrant>();
  const streamTickets = createStreamTickets({ store: streamTicketStore, auth });
  const gate = createGate({
    graphqlEndpoint,
    routes,
    cors: security.cors,
    loopbackHostOnly: !hasIdentities(security.auth) && !security.insecure,
    authenticate: async (request, req) => {
      // A ticket is the credential of the one request it was issued for; nothing else authenticates it.
      const url = new URL(request.url);
      const refused =
        url.pathname === graphqlEndpoint && url.searchParams.has(STREAM_TICKET_PARAM)
          ? await streamTickets.admit(request, req)
          : await authenticateRequest(auth, request, req);
      // Refused before parsing, so the operation is unknown: every refused POST is recorded (mutations
      // come only by POST), within the audit's per-address bound, before the 401 is sent.
      if (refused && request.method === 'POST') {
        await recordUnauthenticated({ code: refused.code, source: req?.socket.remoteAddress ?? null });
      }
      return refused;
    },
    onRefused: (request, refusal, req) => logRefusal(request, refusal, req),
  });
  const limits = createLimits({
    limits: security.limits,
    introspection: security.introspection,
    ...(options.redis ? { redisUrl: options.redis.url } : {}),
    ...(options.logger ? { logger: options.logger } : {}),
  });
  const consolesConfig = security.consoles ?? consolesSchema.parse({});
  // In Redis when replicas share one, so any replica can take the WebSocket of a ticket another issued.
  const ticketStore = options.redis ? createRedisTicketStore(options.redis.url) : createMemoryTicketStore();
  // Lifecycle actions on one domain run one at a time, across replicas when they share Redis.
  const locks = options.redis ? createRedisLocks(options.redis.url) : createLocalLocks();
  const consoleTickets = createConsoleTickets(ticketStore, consolesConfig.ticketSeconds);
  const consoles = createConsoleServer({
    tickets: ticketStore,
    hosts: registry,
    audit,
    config: consolesConfig,
    auth,
    connectGuards: limits.connectGuards,
    displayRoute: (host) => displayRouteOf(registry.uri(host), registry.config?.(host).consoles),
    locks,
    ...(options.logger ? { logger: options.logger } : {}),
  });
  const transfers = new VolumeTransfers({
    hosts: registry,
    audit,
    ticketSeconds: (security.transfers ?? transfersSchema.parse({})).ticketSeconds,
    gate: async (request, req) => {
      const refusal = await gate.check(request, req);
      // Logged as the gate's plugin logs what it refuses on yoga's paths.
      if (refusal?.code && refusal.message && (refusal.status === 401 || refusal.status === 403)) {
        logRefusal(request, { status: refusal.status, code: refusal.code, message: refusal.message }, req);
      }
      return refusal;
    },
    identityOf: (request) => requestIdentity(request) ?? (auth.enabled ? undefined : Identity.anonymous()),
    ...(options.logger ? { logger: options.logger } : {}),
  });
  const images = security.images ?? imagesSchema.parse({});
  /** Volume data goes to its own handler, which runs the same gate; everything else to yoga. */
  const handler = (req: IncomingMessage, res: ServerResponse) => {
    startRequestDeadline(req, res);
    if (VolumeTransfers.handles(req.url)) void transfers.handle(req, res);
    else void yoga(req, res);
  };
  /** graphql-ws passes the socket's identity; HTTP requests get theirs from useAuthentication. Fails closed. */
  const identityFor = (initial: { identity?: unknown; request?: Request }): Identity => {
    if (initial.identity instanceof Identity) return initial.identity;
    const found = requestIdentity(initial.request);
    if (found) return found;
    // The gate authenticates every GraphQL request first; should one get here without, it is still a 401.
    if (auth.enabled) throw gatewayError('UNAUTHENTICATED', 'authentication required', { http: { status: 401 } });
    return Identity.anonymous();
  };
  /** A stream ticket for the caller of `request`, and the EventSource URL that carries it (documentId when the document is trusted). */
  const issueStreamTicket = async (request: Request, query: string, variables: Record<string, unknown> | null) => {
    const identity = requestIdentity(request) ?? Identity.anonymous();
    const credentials = requestCredentials(request) ?? {};
    const { ticket, expiresAt } = await streamTickets.issue({ identity, credentials, query, variables });
    const url = new URL(graphqlEndpoint, request.url);
    const id = trustedIdOf(trusted, query);
    if (id) url.searchParams.set('documentId', `sha256:${id}`);
    else url.searchParams.set('query', query);
    if (variables && Object.keys(variables).length > 0) url.searchParams.set('variables', JSON.stringify(variables));
    url.searchParams.set(STREAM_TICKET_PARAM, ticket);
    return { ticket, url: url.href, expiresAt };
  };
  let server: Server | undefined;
  let stopping: Promise<void> | undefined;
  const readiness = createReadiness({
    checkHosts: () => registry.checkReady(),
    minHosts: options.ready?.minHosts ?? 1,
    hostNames: options.ready?.hostNames ?? false,
    ...(options.redis ? { redisUrl: options.redis.url } : {}),
    // In-process (yoga.fetch, no port) the app serves as long as it is not stopping.
    serving: () => stopping === undefined && (server === undefined || server.listening),
  });
  const yoga = createYoga<Record<string, unknown>, GatewayContext>({
    schema,
    graphqlEndpoint,
    healthCheckEndpoint: '/health',
    // The request log's fields are named, not spread: an object literal that starts with a spread
    // and goes on with a dozen properties took V8 about 15 µs a request to build, these 0.5 µs.
    context: (initial) => {
      const { requestId, log } = requestLogging.contextFor(initial);
      return {
        requestId,
        log,
        identity: identityFor(initial),
        hosts: registry,
        events,
        operations,
        stats,
        locks,
        consoles: { tickets: consoleTickets, path: CONSOLE_PATH },
        streamTickets: { issue: issueStreamTicket },
        transfers,
        images,
        allowUnsafeClientUris: options.allowUnsafeClientUris ?? false,
        ...(security.hostSafety ? { hostSafety: security.hostSafety } : {}),
      };
    },
    maskedErrors: { maskError },
    // yoga renders GraphiQL before any plugin of ours could check the request: useGraphiQLAssets
    // serves it behind the gate. No yoga landing page (and its version) on other paths.
    graphiql: false,
    landingPage: false,
    cors: gate.cors,
    maxRequestBodySize: limits.maxRequestBodySize,
    // The GraphQL over HTTP proposal's way to name a trusted document in a POST body.
    ...(trusted ? { extraParamNames: ['documentId'] } : {}),
    logging: requestLogging.yogaLogger,
    plugins: [
      // First: it replaces the executor of the queries it compiles, and the plugins after it wrap that.
      useCompiledQueries(),
      ...(security.tracing ? [useTracing()] : []),
      gate.plugin,
      ...metrics.plugins,
      requestLogging.plugin,
      ...(security.graphiql
        ? [
            useGraphiQLAssets(
              {
                title: 'virtql',
                defaultQuery: DEFAULT_QUERY,
                // Its requests carry the CSRF header, so GET queries from GraphiQL pass too.
                additionalHeaders: { [CSRF_HEADER]: '1' },
                isHeadersEditorEnabled: true,
              },
              graphqlEndpoint,
              security.graphiqlCredentials ?? 'tab',
            ),
          ]
        : []),
      useAuthentication(auth),
      ...(trusted ? [useTrustedDocuments(trusted)] : []),
      // After the trusted documents: a ticket binds the document that runs, however the URL names it.
      streamTickets.plugin,
      useAudit(audit),
      // Before every plugin that walks the variables (shared subscriptions key on them): too deep is refused here.
      useNulFreeArguments(),
      useSharedEventExecution(),
      ...limits.plugins,
      useNestingLimit(),
      useInputErrorCodes(),
      useReadinessCheck({
        endpoint: '/ready',
        check: async ({ fetchAPI }) => {
          const report = await readiness.check();
          return new fetchAPI.Response(JSON.stringify(report), {
            status: report.ready ? 200 : 503,
            headers: { 'content-type': 'application/json', 'cache-control': 'no-store' },
          });
        },
      }),
    ],
  });
  let connections: ReturnType<typeof trackConnections> | undefined;
  let tracing: Promise<Tracing> | undefined;

  return {
    yoga,
    events,
    audit,
    metrics,
    consoles,
    reloadAuth: (next) => auth.reload(next),
    start: async () => {
      // OpenTelemetry is loaded here, and only when configured.
      if (security.tracing) {
        tracing ??= startTracing(security.tracing);
        await tracing;
      }
      return new Promise((resolve, reject) => {
        const { tls } = security;
        server = tls
          ? createHttpsServer(
              {
                cert: tls.cert,
                key: tls.key,
                ...(tls.clientCa ? { ca: tls.clientCa, requestCert: true, rejectUnauthorized: false } : {}),
                requestTimeout: 0,
              },
              handler,
            )
          : // Request bodies have startRequestDeadline's deadline instead, which a volume upload lifts.
            createServer({ requestTimeout: 0 }, handler);
        ws = serveGraphQLWs(server, yoga, {
          auth,
          maxPayload: limits.maxPayload,
          connectionInitWaitTimeout: limits.connectionInitWaitMs,
          onUnauthenticated: (refusal) => {
            logSocketRefusal({ status: 4401, ...refusal });
            return recordUnauthenticated(refusal);
          },
          // The gate's Host and Origin checks, each refusal logged as the HTTP ones are.
          upgradeGuards: [
            ...gate.upgradeGuards.map(
              (guard): UpgradeGuard =>
                (req) => {
                  const refusal = guard(req);
                  if (refusal) {
                    logSocketRefusal({
                      status: refusal.status,
                      code: refusal.code ?? '',
                      message: refusal.message,
                      source: req.socket.remoteAddress ?? null,
                    });
                  }
                  return refusal;
                },
            ),
            ...limits.upgradeGuards,
          ],
          connectGuards: limits.connectGuards,
          routes: { [CONSOLE_PATH]: (req, socket, head) => consoles.handleUpgrade(req, socket, head) },
          ...(trusted ? { documentOf: (params) => trustedQuery(trusted, params) } : {}),
        });
        connections = trackConnections(server);
        server.once('error', reject);
        server.listen(options.port ?? 4000, options.hostname ?? '0.0.0.0', () => {
          const { port } = (server as Server).address() as AddressInfo;
          const host = options.hostname && options.hostname !== '0.0.0.0' ? options.hostname : 'localhost';
          const url = `${tls ? 'https' : 'http'}://${host}:${port}${yoga.graphqlEndpoint}`;
          metrics.start().then(() => resolve(url), reject);
        });
      });
    },
    stop: () => {
      stopping ??= (async () => {
        const operationsClosed = operations.close();
        stats.close();
        // Ending the subscriptions first lets SSE responses and graphql-ws operations complete.
        await events.close();
        audit.endStreams();
        await ws?.close();
        await consoles.close();
        await transfers.close();
        await streamTicketStore.close();
        await connections?.close();
        await metrics.close();
        await registry.close();
        await limits.close();
        await locks.close();
        await readiness.close();
        await operationsClosed;
        await audit.close();
        // Last, so that the spans of what the steps above ended are sent too.
        await (await tracing?.catch(() => undefined))?.shutdown();
      })();
      return stopping;
    },
  };
}
