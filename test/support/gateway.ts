import pino from 'pino';
import { type App, buildApp } from '../../src/app.ts';
import { loadConfig, resolveConfig } from '../../src/config/config.ts';
import { HostRegistry } from '../../src/hosts/host-registry.ts';

export interface GraphQLResponse<D = Record<string, unknown>> {
  data?: D | null;
  errors?: Array<{ message: string; path?: Array<string | number>; extensions?: Record<string, unknown> }>;
}

export interface TestGateway {
  app: App;
  registry: HostRegistry;
  /** POSTs a query to the app in-process (yoga.fetch, no port), with extra headers (e.g. authorization). */
  query<D = Record<string, unknown>>(
    query: string,
    variables?: Record<string, unknown>,
    headers?: Record<string, string>,
  ): Promise<GraphQLResponse<D>>;
  /** The data of a query that must succeed: throws (failing the test) with the errors when there are any. */
  ok<D = Record<string, unknown>>(
    query: string,
    variables?: Record<string, unknown>,
    headers?: Record<string, string>,
  ): Promise<D>;
  close(): Promise<void>;
}

export interface TestGatewayOptions {
  /** Config-file keys beyond the hosts (auth, limits, cors, audit, tls, graphiql, introspection…), as in virtql.yaml. */
  config?: Record<string, unknown>;
  /** Where relative paths of `config` (tls files) resolve. @default cwd */
  baseDir?: string;
  /** @default silent */
  logger?: pino.Logger;
  /** Redis shared with other replicas (events, operations). @default in-memory */
  redis?: { url: string };
}

/** An app over the given hosts (name → URI), the first one the default unless named. */
export async function startGateway(
  hosts: Record<string, string>,
  defaultHost?: string,
  options: TestGatewayOptions = {},
): Promise<TestGateway> {
  const env = {
    VIRTQL_HOSTS: Object.entries(hosts)
      .map(([name, uri]) => `${name}=${uri}`)
      .join(','),
    VIRTQL_DEFAULT_HOST: defaultHost ?? Object.keys(hosts)[0],
  };
  const config = options.config
    ? await resolveConfig(options.config, { env, ...(options.baseDir ? { baseDir: options.baseDir } : {}) })
    : await loadConfig({ env });
  const logger = options.logger ?? pino({ level: 'silent' });
  const registry = new HostRegistry(config, { logger, readyTimeoutMs: 2_000 });
  const app = buildApp({
    registry,
    logger,
    security: config.security,
    ready: config.ready,
    port: 0,
    hostname: '127.0.0.1',
    ...(options.redis ? { redis: options.redis } : {}),
  });
  const query = async (text: string, variables?: Record<string, unknown>, headers: Record<string, string> = {}) => {
    const res = await app.yoga.fetch('http://localhost/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify({ query: text, variables }),
    });
    return (await res.json()) as GraphQLResponse<never>;
  };
  return {
    app,
    registry,
    query,
    async ok(text, variables, headers) {
      const res = await query(text, variables, headers);
      if (res.errors !== undefined) throw new Error(`the query failed: ${JSON.stringify(res.errors)}`);
      return res.data as never;
    },
    close: () => app.stop(),
  };
}
