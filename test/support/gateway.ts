import pino from 'pino';
import { type App, buildApp } from '../../src/app.ts';
import { loadConfig } from '../../src/config/config.ts';
import { HostRegistry } from '../../src/hosts/host-registry.ts';

export interface GraphQLResponse<D = Record<string, unknown>> {
  data?: D | null;
  errors?: Array<{ message: string; path?: Array<string | number>; extensions?: Record<string, unknown> }>;
}

export interface TestGateway {
  app: App;
  registry: HostRegistry;
  /** POSTs a query to the app in-process (yoga.fetch, no port). */
  query<D = Record<string, unknown>>(query: string, variables?: Record<string, unknown>): Promise<GraphQLResponse<D>>;
  close(): Promise<void>;
}

/** An app over the given hosts (name → URI), the first one the default unless named. */
export async function startGateway(hosts: Record<string, string>, defaultHost?: string): Promise<TestGateway> {
  const config = await loadConfig({
    env: {
      VIRTQL_HOSTS: Object.entries(hosts)
        .map(([name, uri]) => `${name}=${uri}`)
        .join(','),
      VIRTQL_DEFAULT_HOST: defaultHost ?? Object.keys(hosts)[0],
    },
  });
  const logger = pino({ level: 'silent' });
  const registry = new HostRegistry(config, { logger, readyTimeoutMs: 2_000 });
  const app = buildApp({ registry, logger });
  return {
    app,
    registry,
    async query(query, variables) {
      const res = await app.yoga.fetch('http://virtql.test/graphql', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ query, variables }),
      });
      return (await res.json()) as GraphQLResponse<never>;
    },
    close: () => app.stop(),
  };
}
