// Runs the gateway: reads the configuration, listens, and closes every libvirt connection on SIGTERM/SIGINT.
// A configuration, environment or listen mistake ends it with one `virtql: path: reason` line per fault and exit 2.
import { buildApp } from './app.ts';
import { ConfigError, loadConfig } from './config/config.ts';
import { listenProblem, readEnvironment } from './config/environment.ts';
import { hasIdentities } from './config/security.ts';
import { HostRegistry } from './hosts/host-registry.ts';
import { createLogger } from './logging/create-logger.ts';

function refuse(problems: ReadonlyArray<{ path: string; reason: string }>): never {
  for (const p of problems) console.error(`virtql: ${p.path}: ${p.reason}`);
  process.exit(2);
}

const { environment, problems } = readEnvironment(process.env);
if (problems.length > 0) refuse(problems);
const log = createLogger({ level: environment.logLevel, format: environment.logFormat });

let config: Awaited<ReturnType<typeof loadConfig>>;
try {
  config = await loadConfig();
} catch (e) {
  if (e instanceof ConfigError)
    refuse(e.problems.map((p) => (e.source ? { ...p, reason: `${p.reason} (in ${e.source})` } : p)));
  throw e;
}
for (const warning of config.warnings) log.warn({ path: warning.path }, `${warning.path}: ${warning.reason}`);
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
  events: config.events,
  ...(environment.redisUrl ? { redis: { url: environment.redisUrl } } : {}),
});
let url: string;
try {
  url = await app.start();
} catch (e) {
  const problem = listenProblem(e, config.port);
  if (problem === undefined) throw e;
  await app.stop().catch(() => undefined);
  refuse([problem]);
}
log.info({ hosts: config.hosts.map((h) => ({ name: h.name, uri: h.uri })), defaultHost: config.defaultHost }, 'hosts');
log.info({ url, graphiql: security.graphiql }, `virtql: GraphQL${security.graphiql ? ' and GraphiQL' : ''} at ${url}`);
// SIGHUP re-reads the configuration's identities and grants; revoked credentials lose their sessions.
process.on('SIGHUP', () => {
  loadConfig()
    .then((next) => {
      for (const warning of next.warnings) log.warn({ path: warning.path }, `${warning.path}: ${warning.reason}`);
      return app.reloadAuth(next.security.auth);
    })
    .then(
      () => log.info('auth configuration reloaded'),
      (e: unknown) =>
        log.error(
          e instanceof ConfigError ? { problems: e.problems } : { err: e },
          'auth configuration not reloaded; the previous one stays',
        ),
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
