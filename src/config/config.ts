import { readFile } from 'node:fs/promises';
import { dirname, extname, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import {
  checkUriParts,
  parseHostUri,
  type ResolvedUriParts,
  resolveUriParts,
  UriPartError,
  type UriPartsInput,
} from '../hosts/uri.ts';
import { ConfigError, type ConfigProblem } from './config-error.ts';
import { configFileSchema, type HostEntry, hostEntrySchema, toProblems, URI_PART_KEYS } from './config-schema.ts';
import { checkGrants } from './grant-checks.ts';
import { parseHostList } from './host-list.ts';
import { bindAddress, resolveSecurity, type SecurityConfig } from './security.ts';

export { ConfigError, type ConfigProblem } from './config-error.ts';

/** One libvirt host of the registry, validated. */
export interface HostConfig {
  /** Registry name: what `host: "name"` selects. */
  name: string;
  /** The canonical libvirt URI: built from the parts, or the configured URI re-built from its parsed parts. */
  uri: string;
  parts: ResolvedUriParts;
  /** Answers libvirt's passphrase prompt (SASL, ssh password); read from passwordFile when that is set. */
  password?: string;
  /** Where the password came from, as configured. */
  passwordFile?: string;
  /** How the gateway reaches the host's graphical consoles. */
  consoles?: { graphicsAddress?: string };
}

export interface KeepAliveConfig {
  /** Seconds of silence before libvirt sends a keepalive. */
  intervalSeconds: number;
  /** Unanswered keepalives before libvirt closes the connection. */
  count: number;
}

export interface GatewayConfig {
  /** HTTP port. @default 4000 (env PORT) */
  port: number;
  /** Address the HTTP server binds to. @default '0.0.0.0' with identities configured, else '127.0.0.1' */
  host: string;
  /** The host used when a request names none (env VIRTQL_DEFAULT_HOST). @default `default` if configured, else the first host */
  defaultHost: string;
  /** Lets clients name migration destinations with the ext transport or the file and program parameters. @default false */
  allowUnsafeClientUris: boolean;
  /** @default { intervalSeconds: 5, count: 3 } */
  keepAlive: KeepAliveConfig;
  /** Never empty: without any host configured, one named `default` at {@link EMBEDDED_DEFAULT_URI}. */
  hosts: HostConfig[];
  /** Identities, grants, TLS, CORS, limits and audit. */
  security: SecurityConfig;
  /** When /ready answers 200, and what it says. @default { minHosts: 1, hostNames: false } */
  ready: ReadyConfig;
  /** What each host's event stream keeps for subscribers that resume. @default { history: { maxEvents: 10000, maxAgeSeconds: 300 } } */
  events: { history: { maxEvents: number; maxAgeSeconds: number } };
  /** Settings that work but look like mistakes (a grant's host glob matching no host), as `path: reason`. */
  warnings: ConfigProblem[];
}

export interface ReadyConfig {
  /** Hosts that must be connected; never more than the hosts configured. */
  minHosts: number;
  /** Whether the public body names the hosts. @default false */
  hostNames: boolean;
}

export const EMBEDDED_DEFAULT_HOST = 'default';
/** libvirt's test driver, in-process: the gateway works out of the box. */
export const EMBEDDED_DEFAULT_URI = 'test:///default';

export interface LoadConfigOptions {
  /** @default process.env */
  env?: NodeJS.ProcessEnv;
  /** @default env.VIRTQL_CONFIG; no file means defaults plus the environment */
  file?: string;
}

/** A host entry with the label its problems are reported under (`hosts[1]`, `VIRTQL_HOSTS[lab]`). */
interface LabelledEntry {
  label: string;
  entry: HostEntry;
}

async function readConfigFile(file: string): Promise<unknown> {
  const ext = extname(file).toLowerCase();
  if (!['.yaml', '.yml', '.json'].includes(ext)) {
    throw new ConfigError([{ path: file, reason: 'must end in .yaml, .yml or .json' }], file);
  }
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new ConfigError([{ path: file, reason: `cannot read: ${(error as Error).message}` }], file);
  }
  try {
    // The YAML parser would read JSON too, but leniently (`{"port": }` is a null port): JSON gets JSON's parser.
    return (ext === '.json' ? JSON.parse(text) : parseYaml(text)) ?? {};
  } catch (error) {
    throw new ConfigError([{ path: file, reason: `cannot parse: ${(error as Error).message}` }], file);
  }
}

/**
 * Loads the gateway configuration: the file at `file` (or VIRTQL_CONFIG), YAML or JSON by
 * extension, then the environment on top of it:
 * - `PORT` overrides `port`;
 * - `VIRTQL_DEFAULT_HOST` overrides `defaultHost`;
 * - `VIRTQL_HOSTS` (`name=uri,name2=uri2`) adds hosts, replacing file hosts of the same name.
 *
 * With no host configured anywhere there is one, `default` at `test:///default`. Relative
 * `passwordFile` paths are resolved against the config file's directory. Throws a
 * {@link ConfigError} listing every problem as `path: reason`.
 */
export async function loadConfig(options: LoadConfigOptions = {}): Promise<GatewayConfig> {
  const env = options.env ?? process.env;
  const file = options.file ?? (env.VIRTQL_CONFIG || undefined);
  const raw = file === undefined ? {} : await readConfigFile(file);
  return resolveConfig(raw, {
    env,
    source: file,
    baseDir: file === undefined ? process.cwd() : dirname(resolve(file)),
  });
}

export interface ResolveConfigOptions {
  env?: NodeJS.ProcessEnv;
  /** For the error message: the file the raw config came from. */
  source?: string;
  /** Directory that relative passwordFile paths are resolved against. @default process.cwd() */
  baseDir?: string;
}

/** Validates an already parsed config object, applies the environment overrides and reads password files. */
export async function resolveConfig(raw: unknown, options: ResolveConfigOptions = {}): Promise<GatewayConfig> {
  const env = options.env ?? {};
  const baseDir = options.baseDir ?? process.cwd();
  const problems: ConfigProblem[] = [];

  const parsed = configFileSchema.safeParse(raw, { reportInput: true });
  if (!parsed.success) problems.push(...toProblems(parsed.error.issues));
  const file = parsed.success ? parsed.data : undefined;

  const fileHosts: LabelledEntry[] = [];
  // Hosts are checked even when another top-level key is wrong, so one run reports everything.
  const rawHosts = parsed.success ? parsed.data.hosts : hostsOf(raw);
  rawHosts.forEach((value, i) => {
    const entry = hostEntrySchema.safeParse(value, { reportInput: true });
    if (entry.success) fileHosts.push({ label: `hosts[${i}]`, entry: entry.data });
    else problems.push(...toProblems(entry.error.issues, `hosts[${i}]`));
  });
  problems.push(...duplicateNames(fileHosts));

  const envHosts: LabelledEntry[] = [];
  if (env.VIRTQL_HOSTS !== undefined && env.VIRTQL_HOSTS.trim() !== '') {
    const list = parseHostList(env.VIRTQL_HOSTS);
    problems.push(...list.problems);
    for (const { name, uri } of list.entries) envHosts.push({ label: `VIRTQL_HOSTS[${name}]`, entry: { name, uri } });
    problems.push(...duplicateNames(envHosts));
  }

  let port = file?.port ?? 4000;
  if (env.PORT !== undefined && env.PORT !== '') {
    const value = /^\d{1,5}$/.test(env.PORT) ? Number(env.PORT) : Number.NaN;
    if (value >= 1 && value <= 65535) port = value;
    else problems.push({ path: 'PORT', reason: 'must be an integer between 1 and 65535' });
  }

  const merged = mergeHosts(fileHosts, envHosts);
  const hosts: HostConfig[] = [];
  for (const labelled of merged) {
    const host = await resolveHost(labelled, baseDir, problems);
    if (host !== undefined) hosts.push(host);
  }
  const embedded = rawHosts.length === 0 && envHosts.length === 0;
  if (embedded) hosts.push(embeddedDefaultHost());

  const defaultFromEnv = env.VIRTQL_DEFAULT_HOST !== undefined && env.VIRTQL_DEFAULT_HOST !== '';
  const requested = defaultFromEnv ? env.VIRTQL_DEFAULT_HOST : file?.defaultHost;
  const names = merged.map((h) => h.entry.name);
  if (requested !== undefined && !embedded && !names.includes(requested)) {
    problems.push({
      path: defaultFromEnv ? 'VIRTQL_DEFAULT_HOST' : 'defaultHost',
      reason: `no host named ${JSON.stringify(requested)} (configured: ${names.join(', ') || 'none'})`,
    });
  }
  if (requested !== undefined && embedded && requested !== EMBEDDED_DEFAULT_HOST) {
    problems.push({
      path: defaultFromEnv ? 'VIRTQL_DEFAULT_HOST' : 'defaultHost',
      reason: `no host named ${JSON.stringify(requested)} (only the embedded "${EMBEDDED_DEFAULT_HOST}" is configured)`,
    });
  }

  if (file && file.ready.minHosts > hosts.length && problems.length === 0) {
    problems.push({
      path: 'ready.minHosts',
      reason: `is ${file.ready.minHosts}, but only ${hosts.length} host${hosts.length === 1 ? ' is' : 's are'} configured`,
    });
  }
  const host = file ? bindAddress(file.host, file.auth) : '';
  const security = file ? await resolveSecurity(file, host, baseDir, problems) : undefined;
  const grants = file
    ? checkGrants(
        file.auth,
        hosts.map((h) => h.name),
      )
    : { problems: [], warnings: [] };
  problems.push(...grants.problems);
  if (problems.length > 0 || file === undefined || security === undefined) {
    throw new ConfigError(problems, options.source);
  }
  const defaultHost =
    requested ?? (hosts.some((h) => h.name === EMBEDDED_DEFAULT_HOST) ? EMBEDDED_DEFAULT_HOST : (hosts[0]?.name ?? ''));
  return {
    port,
    host,
    defaultHost,
    allowUnsafeClientUris: file.allowUnsafeClientUris,
    keepAlive: { ...file.keepAlive },
    hosts,
    security,
    ready: { ...file.ready },
    events: { history: { ...file.events.history } },
    warnings: grants.warnings,
  };
}

function hostsOf(raw: unknown): unknown[] {
  const hosts = typeof raw === 'object' && raw !== null ? (raw as { hosts?: unknown }).hosts : undefined;
  return Array.isArray(hosts) ? hosts : [];
}

function embeddedDefaultHost(): HostConfig {
  const parts = resolveUriParts(parseHostUri(EMBEDDED_DEFAULT_URI));
  return { name: EMBEDDED_DEFAULT_HOST, uri: parts.uri, parts };
}

/** Host names are unique, ignoring case so `Lab` and `lab` cannot both exist. */
function duplicateNames(hosts: readonly LabelledEntry[]): ConfigProblem[] {
  const seen = new Map<string, string>();
  const problems: ConfigProblem[] = [];
  for (const { label, entry } of hosts) {
    const key = entry.name.toLowerCase();
    const first = seen.get(key);
    if (first === undefined) seen.set(key, label);
    else
      problems.push({ path: `${label}.name`, reason: `${JSON.stringify(entry.name)} is already the name of ${first}` });
  }
  return problems;
}

/** VIRTQL_HOSTS replaces file hosts of the same name in place and appends the others. */
function mergeHosts(fileHosts: readonly LabelledEntry[], envHosts: readonly LabelledEntry[]): LabelledEntry[] {
  const byName = new Map(envHosts.map((h) => [h.entry.name.toLowerCase(), h]));
  const merged = fileHosts.map((h) => {
    const override = byName.get(h.entry.name.toLowerCase());
    if (override === undefined) return h;
    byName.delete(h.entry.name.toLowerCase());
    return override;
  });
  return [...merged, ...byName.values()];
}

function prefixField(label: string, error: UriPartError, viaUri: boolean): ConfigProblem {
  if (!viaUri) return { path: `${label}.${error.field}`, reason: error.reason };
  return { path: error.field === 'uri' ? `${label}.uri` : `${label}.uri.${error.field}`, reason: error.reason };
}

async function resolveHost(
  { label, entry }: LabelledEntry,
  baseDir: string,
  problems: ConfigProblem[],
): Promise<HostConfig | undefined> {
  const before = problems.length;
  const given = URI_PART_KEYS.filter((key) => entry[key] !== undefined);
  let parts: ResolvedUriParts | undefined;
  if (entry.uri !== undefined) {
    for (const key of given) problems.push({ path: `${label}.${key}`, reason: 'cannot be combined with uri' });
    try {
      parts = resolveUriParts(parseHostUri(entry.uri));
    } catch (error) {
      if (!(error instanceof UriPartError)) throw error;
      problems.push(prefixField(label, error, true));
    }
  } else {
    const input: UriPartsInput = Object.fromEntries(given.map((key) => [key, entry[key]]));
    const uriProblems = checkUriParts(input);
    for (const error of uriProblems) problems.push(prefixField(label, error, false));
    if (uriProblems.length === 0) parts = resolveUriParts(input);
  }

  let password = entry.password;
  if (entry.passwordFile !== undefined) {
    if (entry.password !== undefined) {
      problems.push({ path: `${label}.passwordFile`, reason: 'cannot be combined with password' });
    } else {
      password = await readPasswordFile(resolve(baseDir, entry.passwordFile), `${label}.passwordFile`, problems);
    }
  }
  if (parts === undefined || problems.length > before) return undefined;
  return {
    name: entry.name,
    uri: parts.uri,
    parts,
    ...(password === undefined ? {} : { password }),
    ...(entry.passwordFile === undefined ? {} : { passwordFile: entry.passwordFile }),
    ...(entry.consoles?.graphicsAddress === undefined
      ? {}
      : { consoles: { graphicsAddress: entry.consoles.graphicsAddress } }),
  };
}

async function readPasswordFile(path: string, label: string, problems: ConfigProblem[]): Promise<string | undefined> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    problems.push({ path: label, reason: `cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? error}` });
    return undefined;
  }
  // Files written by `echo` or editors end in a newline that is not part of the secret.
  const password = text.replace(/\r?\n$/, '');
  if (password === '') {
    problems.push({ path: label, reason: `${path} is empty` });
    return undefined;
  }
  return password;
}
