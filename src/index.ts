// Runs the gateway: reads the configuration, listens, and closes every libvirt connection on SIGTERM/SIGINT.
import { buildApp } from './app.ts';
import { ConfigError, loadConfig } from './config/config.ts';
import { hasIdentities } from './config/security.ts';
import { HostRegistry } from './hosts/host-registry.ts';
import { createLogger, parseLogFormat } from './logging/create-logger.ts';

const format = parseLogFormat(process.env.LOG_FORMAT);
if (format === undefined) {
  console.error(`virtql: LOG_FORMAT: must be json or pretty, not ${JSON.stringify(process.env.LOG_FORMAT)}`);
  process.exit(2);
}
const log = createLogger({ level: process.env.LOG_LEVEL ?? 'info', format });

try {
  const config = await loadConfig();
  const registry = new HostRegistry(config, { logger: log });
  const { security } = config;
  if (!hasIdentities(security.auth)) {
    log.warn(
      { host: config.host, insecure: security.insecure },
      'no identities configured: every caller is an anonymous admin. Configure auth before exposing the port (README, Security)',
    );
  }
  const app = buildApp({
    registry,
    security,
    port: config.port,
    hostname: config.host,
    logger: log,
    allowUnsafeClientUris: config.allowUnsafeClientUris,
    ready: config.ready,
    ...(process.env.REDIS_URL ? { redis: { url: process.env.REDIS_URL } } : {}),
  });
  const url = await app.start();
  log.info(
    { hosts: config.hosts.map((h) => ({ name: h.name, uri: h.uri })), defaultHost: config.defaultHost },
    'hosts',
  );
  log.info(
    { url, graphiql: security.graphiql },
    `virtql: GraphQL${security.graphiql ? ' and GraphiQL' : ''} at ${url}`,
  );
  // SIGHUP re-reads the configuration's identities and grants; revoked credentials lose their sessions.
  process.on('SIGHUP', () => {
    loadConfig()
      .then((next) => app.reloadAuth(next.security.auth))
      .then(
        () => log.info('auth configuration reloaded'),
        (e: unknown) => log.error({ err: e }, 'auth configuration not reloaded; the previous one stays'),
      );
  });
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.once(signal, () => {
      log.info({ signal }, 'shutting down');
      app.stop().then(
        () => process.exit(0),
        (e: unknown) => {
          log.error(e, 'shutdown failed');
          process.exit(1);
        },
      );
    });
  }
} catch (e) {
  if (e instanceof ConfigError) {
    console.error(`virtql: ${e.message}`);
    process.exit(2);
  }
  throw e;
}
