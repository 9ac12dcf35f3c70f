import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createYoga, useReadinessCheck } from 'graphql-yoga';
import type { Logger } from 'pino';
import type { GatewayContext, HostSource } from './schema/context.ts';
import { maskError } from './schema/errors.ts';
import { schema } from './schema/index.ts';

/** The host registry as the app needs it: named connections, readiness and shutdown. */
export interface Registry extends HostSource {
  checkReady(): Promise<Array<{ host: string; ok: boolean; error?: string }>>;
  close(): Promise<void>;
}

export interface AppOptions {
  registry: Registry;
  /** @default 4000 */
  port?: number;
  /** @default '0.0.0.0' */
  hostname?: string;
  /** Where yoga logs (request failures it masks, among others). @default yoga's console logger */
  logger?: Logger;
}

export interface App {
  yoga: ReturnType<typeof createYoga<Record<string, unknown>, GatewayContext>>;
  /** Listens and resolves with the URL of the GraphQL endpoint. */
  start(): Promise<string>;
  /** Stops accepting requests, then closes every libvirt connection. Idempotent. */
  stop(): Promise<void>;
}

function yogaLogging(logger: Logger) {
  const log = logger.child({ component: 'graphql' });
  return {
    debug: (...args: unknown[]) => log.debug(args),
    info: (...args: unknown[]) => log.info(args),
    warn: (...args: unknown[]) => log.warn(args),
    error: (...args: unknown[]) => log.error(args),
  };
}

export function buildApp(options: AppOptions): App {
  const { registry } = options;
  const yoga = createYoga<Record<string, unknown>, GatewayContext>({
    schema,
    graphqlEndpoint: '/graphql',
    healthCheckEndpoint: '/health',
    context: () => ({ hosts: registry }),
    maskedErrors: { maskError },
    ...(options.logger ? { logging: yogaLogging(options.logger) } : {}),
    plugins: [
      useReadinessCheck({
        endpoint: '/ready',
        check: async ({ fetchAPI }) => {
          const hosts = await registry.checkReady();
          const ready = hosts.every((h) => h.ok);
          return new fetchAPI.Response(JSON.stringify({ ready, hosts }), {
            status: ready ? 200 : 503,
            headers: { 'content-type': 'application/json' },
          });
        },
      }),
    ],
  });
  let server: Server | undefined;
  let stopping: Promise<void> | undefined;

  return {
    yoga,
    start: () =>
      new Promise((resolve, reject) => {
        server = createServer(yoga);
        server.once('error', reject);
        server.listen(options.port ?? 4000, options.hostname ?? '0.0.0.0', () => {
          const { port } = server?.address() as AddressInfo;
          const host = options.hostname && options.hostname !== '0.0.0.0' ? options.hostname : 'localhost';
          resolve(`http://${host}:${port}${yoga.graphqlEndpoint}`);
        });
      }),
    stop: () => {
      stopping ??= (async () => {
        if (server) {
          const s = server;
          const closed = new Promise<void>((resolve) => s.close(() => resolve()));
          s.closeIdleConnections();
          await closed;
        }
        await registry.close();
      })();
      return stopping;
    },
  };
}
