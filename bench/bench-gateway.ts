import pino from 'pino';
import { type App, buildApp } from '../src/app.ts';
import { resolveConfig } from '../src/config/config.ts';
import { HostRegistry } from '../src/hosts/host-registry.ts';

export interface BenchGateway {
  app: App;
  query(query: string): Promise<{ data?: unknown; errors?: Array<{ message: string }> }>;
}

/**
 * A gateway over `hosts`; `config` holds config-file keys beyond the hosts (auth, limits…), as in
 * virtql.yaml. The per-identity rate limit is off unless `config` sets it: every benchmark here
 * is one identity sending far more than a client would, and measures throughput, not the limiter.
 */
export async function buildBenchGateway(
  hosts: Record<string, string>,
  config: Record<string, unknown> = {},
): Promise<BenchGateway> {
  const resolved = await resolveConfig(
    { limits: { rateLimit: { requests: 0 } }, ...config },
    {
      env: {
        VIRTQL_HOSTS: Object.entries(hosts)
          .map(([name, uri]) => `${name}=${uri}`)
          .join(','),
        VIRTQL_DEFAULT_HOST: Object.keys(hosts)[0],
      },
    },
  );
  const logger = pino({ level: 'silent' });
  const registry = new HostRegistry(resolved, { logger, readyTimeoutMs: 2_000 });
  const app = buildApp({ registry, logger, security: resolved.security, port: 0, hostname: '127.0.0.1' });
  return {
    app,
    async query(query) {
      const res = await app.yoga.fetch('http://localhost/graphql', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ query }),
      });
      return (await res.json()) as { data?: unknown; errors?: Array<{ message: string }> };
    },
  };
}
