import { isIPv4, isIPv6 } from 'node:net';
import { encodeParam, paramRule, type TransportKind, URI_PARAMS } from './uri-params.ts';

export type { TransportKind } from './uri-params.ts';

/** The drivers a host may name, each with its URI paths (the first is the default). */
const DRIVER_PATHS = {
  qemu: ['system', 'session'],
  test: ['default'],
  lxc: ['system'],
  xen: ['system'],
  ch: ['system', 'session'],
  bhyve: ['system'],
  vbox: ['session'],
  vz: ['system'],
  openvz: ['system'],
} as const satisfies Record<string, readonly string[]>;

export type Driver = keyof typeof DRIVER_PATHS;
export const DRIVERS = Object.keys(DRIVER_PATHS) as Driver[];

export const TRANSPORTS = ['tls', 'tcp', 'ssh', 'unix', 'libssh2', 'libssh', 'ext'] as const;
export type Transport = (typeof TRANSPORTS)[number];

/** The transports that reach a daemon over the network: they have a host, a port and may carry a username. */
const NETWORK_TRANSPORTS: readonly Transport[] = ['tls', 'tcp', 'ssh', 'libssh2', 'libssh'];

const DEFAULT_PORTS: Partial<Record<Transport, number>> = {
  tls: 16514,
  tcp: 16509,
  ssh: 22,
  libssh2: 22,
  libssh: 22,
};

/**
 * A libvirt connection URI by parts:
 * `driver[+transport]://[username@][host][:port]/path[?params]`.
 *
 * Defaults, applied by {@link resolveUriParts}:
 * - `driver`: `qemu`.
 * - `transport`: `tls` when a host is given; with neither transport nor host the URI is
 *   local (`qemu:///system`, `test:///default`), as libvirt reads it.
 * - `host`: `localhost` for the network transports (tls, tcp, ssh, libssh2, libssh);
 *   `unix` has no host, `ext` needs none.
 * - `port`: libvirt's own default for the transport (16514 tls, 16509 tcp, 22 for the ssh
 *   family), written into the URI only when given, so ssh_config keeps its say.
 * - `path`: the driver's first path: `system` for qemu, `default` for test. The test
 *   driver also takes an absolute path to a host definition file (`/srv/node.xml`).
 */
export interface UriParts {
  driver?: Driver;
  transport?: Transport;
  /** Hostname, IPv4 or IPv6 address (with or without brackets). */
  host?: string;
  port?: number;
  /** `system`, `/system`, `session`, `default`, or an absolute file path for the test driver. */
  path?: string;
  username?: string;
  /** libvirt's extra parameters (names case-insensitive, stored lowercase), e.g. `{ socket: '/run/x.sock' }`. */
  params?: Readonly<Record<string, string>>;
}

/** Parts as they arrive from a config file or a client: every field is checked at run time. */
export type UriPartsInput = { readonly [K in keyof UriParts]?: unknown };

/** Parts with every default applied, and the URI they make. */
export interface ResolvedUriParts {
  uri: string;
  driver: Driver;
  /** Undefined for a local URI (driver:///path). */
  transport: Transport | undefined;
  /** How libvirt reaches the driver: the transport, `local` or `in-process`. */
  kind: TransportKind;
  host: string | undefined;
  /** The port as given (and written into the URI). */
  port: number | undefined;
  /** The port libvirt connects to: the given one or the transport's default. */
  effectivePort: number | undefined;
  path: string;
  username: string | undefined;
  params: Readonly<Record<string, string>>;
}

/** One bad URI part: `field` names it (`transport`, `port`, `params.socket`…), `reason` says what is wrong. */
export class UriPartError extends Error {
  override readonly name = 'UriPartError';

  constructor(
    readonly field: string,
    readonly reason: string,
  ) {
    super(`${field}: ${reason}`);
  }
}

/** libvirt's default port for a transport; undefined for unix and ext, which have none. */
export function defaultPort(transport: Transport): number | undefined {
  return DEFAULT_PORTS[transport];
}

function isDriver(value: unknown): value is Driver {
  return typeof value === 'string' && Object.hasOwn(DRIVER_PATHS, value);
}

function isTransport(value: unknown): value is Transport {
  return typeof value === 'string' && (TRANSPORTS as readonly string[]).includes(value);
}

// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is this pattern's purpose
const CONTROL = /[\u0000-\u001f\u007f]/;

const HOST_LABEL = /^(?!-)[A-Za-z0-9-]{1,63}(?<!-)$/;

/** RFC 1123 hostname (the last label not all digits, so 256.1.1.1 is no hostname either) or an IP address. */
function isHost(host: string): boolean {
  if (isIPv4(host) || (isIPv6(host) && !host.includes('%'))) return true;
  const name = host.endsWith('.') ? host.slice(0, -1) : host;
  if (name.length === 0 || name.length > 253) return false;
  const labels = name.split('.');
  return labels.every((label) => HOST_LABEL.test(label)) && !/^\d+$/.test(labels.at(-1) ?? '');
}

function kindLabel(kind: TransportKind): string {
  switch (kind) {
    case 'local':
      return 'a local URI (no transport, no host)';
    case 'in-process':
      return 'the test driver without a transport (it runs in-process)';
    default:
      return `the ${kind} transport`;
  }
}

function paramValue(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  // YAML writes `no_verify: 1` and `no_tty: true`; libvirt reads them as 1.
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  if (typeof value === 'boolean') return value ? '1' : '0';
  return undefined;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

interface Analysis {
  problems: UriPartError[];
  resolved: ResolvedUriParts | undefined;
}

function analyse(input: UriPartsInput): Analysis {
  const problems: UriPartError[] = [];
  const fail = (field: string, reason: string) => {
    problems.push(new UriPartError(field, reason));
  };

  let driver: Driver = 'qemu';
  let driverKnown = true;
  if (input.driver !== undefined) {
    if (isDriver(input.driver)) driver = input.driver;
    else {
      driverKnown = false;
      fail('driver', `unknown driver ${JSON.stringify(input.driver)}; expected one of ${DRIVERS.join(', ')}`);
    }
  }

  let transport: Transport | undefined;
  let transportKnown = true;
  if (input.transport !== undefined) {
    if (isTransport(input.transport)) transport = input.transport;
    else {
      transportKnown = false;
      fail(
        'transport',
        `unknown transport ${JSON.stringify(input.transport)}; expected one of ${TRANSPORTS.join(', ')}`,
      );
    }
  }

  let host: string | undefined;
  if (input.host !== undefined) {
    if (typeof input.host !== 'string' || input.host === '') fail('host', 'must be a non-empty string');
    else {
      const bare = input.host.startsWith('[') && input.host.endsWith(']') ? input.host.slice(1, -1) : input.host;
      if (isHost(bare)) host = bare;
      else fail('host', `${JSON.stringify(input.host)} is not a hostname or IP address`);
    }
  }
  const hostGiven = input.host !== undefined;

  if (transport === undefined && transportKnown && hostGiven) transport = 'tls';
  if (transport !== undefined && NETWORK_TRANSPORTS.includes(transport) && !hostGiven) host = 'localhost';
  const kind: TransportKind = transport ?? (driver === 'test' ? 'in-process' : 'local');

  if (transport === 'unix' && hostGiven)
    fail('host', 'the unix transport connects to a local socket and takes no host');

  let port: number | undefined;
  if (input.port !== undefined) {
    const p = input.port;
    if (typeof p !== 'number' || !Number.isInteger(p)) fail('port', 'must be an integer between 1 and 65535');
    else if (p < 1 || p > 65535) fail('port', 'must be between 1 and 65535');
    else if (transportKnown && (transport === undefined || !NETWORK_TRANSPORTS.includes(transport))) {
      fail('port', `${kindLabel(kind)} takes no port`);
    } else port = p;
  }

  const paths: readonly string[] = DRIVER_PATHS[driver];
  let path = paths[0] ?? '';
  if (input.path !== undefined && driverKnown) {
    const p = input.path;
    if (typeof p !== 'string' || p === '') fail('path', 'must be a non-empty string');
    else if (CONTROL.test(p)) fail('path', 'must not contain control characters');
    else {
      const name = p.startsWith('/') ? p.slice(1) : p;
      if (paths.includes(name)) path = name;
      else if (driver === 'test' && p.startsWith('/') && name !== '') path = p;
      else {
        const expected =
          paths.join(' or ') + (driver === 'test' ? ', or an absolute path to a host definition file' : '');
        fail('path', `${JSON.stringify(p)} is not a ${driver} driver path; expected ${expected}`);
      }
    }
  }

  let username: string | undefined;
  if (input.username !== undefined) {
    const u = input.username;
    if (typeof u !== 'string' || u === '') fail('username', 'must be a non-empty string');
    else if (CONTROL.test(u)) fail('username', 'must not contain control characters');
    else if (transportKnown && (transport === undefined || !NETWORK_TRANSPORTS.includes(transport))) {
      fail('username', `${kindLabel(kind)} takes no username; only ${NETWORK_TRANSPORTS.join(', ')} do`);
    } else username = u;
  }

  const params: Record<string, string> = {};
  if (input.params !== undefined) {
    if (!isRecord(input.params)) fail('params', 'must be a map of parameter names to values');
    else {
      for (const [given, raw] of Object.entries(input.params)) {
        const name = given.toLowerCase();
        const field = `params.${given}`;
        const rule = paramRule(name);
        const value = paramValue(raw);
        if (given === '') fail('params', 'a parameter has an empty name');
        else if (Object.hasOwn(params, name)) fail(field, 'given more than once (names are case-insensitive)');
        else if (rule === undefined) {
          fail(field, `unknown parameter; libvirt's are ${Object.keys(URI_PARAMS).join(', ')}`);
        } else if (value === undefined) fail(field, 'must be a string');
        else if (CONTROL.test(value)) fail(field, 'must not contain control characters');
        else {
          const reason = rule.check(value);
          if (reason !== undefined) fail(field, reason);
          else if (transportKnown && driverKnown && !rule.transports.includes(kind)) {
            fail(field, `not used by ${kindLabel(kind)}; it applies to ${rule.transports.join(', ')}`);
          } else params[name] = value;
        }
      }
    }
  }
  if (transport === 'ext' && params.command === undefined && !problems.some((p) => p.field.startsWith('params'))) {
    fail('params.command', 'the ext transport needs the command to run');
  }

  if (problems.length > 0) return { problems, resolved: undefined };
  const effectivePort = port ?? (transport === undefined ? undefined : defaultPort(transport));
  const resolved: Omit<ResolvedUriParts, 'uri'> = {
    driver,
    transport,
    kind,
    host,
    port,
    effectivePort,
    path,
    username,
    params,
  };
  return { problems, resolved: { uri: formatUri(resolved), ...resolved } };
}

function formatUri(parts: Omit<ResolvedUriParts, 'uri'>): string {
  const url = new URL(`${parts.transport ? `${parts.driver}+${parts.transport}` : parts.driver}://`);
  if (parts.host !== undefined) {
    url.hostname = isIPv6(parts.host) ? `[${parts.host}]` : parts.host;
    if (parts.port !== undefined) url.port = String(parts.port);
    // The setter leaves '%' alone; libvirt would decode it.
    if (parts.username !== undefined) url.username = parts.username.replaceAll('%', '%25');
  }
  url.pathname = `/${(parts.path.startsWith('/') ? parts.path.slice(1) : parts.path).replaceAll('%', '%25')}`;
  const query = Object.entries(parts.params).map(([name, value]) => `${encodeParam(name)}=${encodeParam(value)}`);
  url.search = query.length > 0 ? `?${query.join('&')}` : '';
  return url.href;
}

/** Every problem with the parts, each naming its field; empty when they make a valid URI. */
export function checkUriParts(parts: UriPartsInput): UriPartError[] {
  return analyse(parts).problems;
}

/** Applies the defaults and validates; throws the first {@link UriPartError}. */
export function resolveUriParts(parts: UriPartsInput): ResolvedUriParts {
  const { problems, resolved } = analyse(parts);
  if (resolved === undefined) throw problems[0] ?? new UriPartError('uri', 'invalid');
  return resolved;
}

/** The libvirt URI for these parts, e.g. `{ transport: 'ssh', host: 'h', username: 'root' }` → `qemu+ssh://root@h/system`. */
export function buildUri(parts: UriPartsInput): string {
  return resolveUriParts(parts).uri;
}

function decode(field: string, text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    throw new UriPartError(field, 'has a malformed %-escape');
  }
}

/**
 * Reads libvirt's extra parameters with libvirt's rules: '+' is a plus (not a space)
 * and names are case-insensitive. libvirt also splits on ';', which URLSearchParams does
 * not: such a query is refused rather than read two ways.
 */
function parseQuery(search: string): Record<string, string> {
  const raw = search.startsWith('?') ? search.slice(1) : search;
  if (raw.includes(';')) throw new UriPartError('params', "';' is not accepted between parameters; use '&'");
  const params: Record<string, string> = {};
  for (const [name, value] of new URLSearchParams(raw.replaceAll('+', '%2B'))) {
    if (name === '') throw new UriPartError('params', 'a parameter has an empty name');
    const key = name.toLowerCase();
    if (Object.hasOwn(params, key)) throw new UriPartError(`params.${name}`, 'given more than once');
    params[key] = value;
  }
  return params;
}

/**
 * Parses and validates a libvirt URI (`driver[+transport]://[user@][host][:port]/path[?params]`)
 * into its parts. {@link buildUri} of the result is the canonical form of the URI: open that,
 * never the string as given. Throws a {@link UriPartError} naming the first bad part.
 */
export function parseHostUri(uri: string): UriParts {
  if (typeof uri !== 'string' || uri.trim() === '') throw new UriPartError('uri', 'must not be empty');
  if (CONTROL.test(uri) || /\s/.test(uri))
    throw new UriPartError('uri', 'must not contain spaces or control characters');
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    throw new UriPartError('uri', `${JSON.stringify(uri)} is not a URI (check the host and port)`);
  }
  if (!url.href.startsWith(`${url.protocol}//`)) {
    throw new UriPartError('uri', 'must have the form driver[+transport]://[user@][host][:port]/path[?params]');
  }
  if (url.hash !== '') throw new UriPartError('uri', 'must not have a #fragment');
  if (url.password !== '') {
    throw new UriPartError('password', 'must not be written in the URI; configure password or passwordFile');
  }
  const scheme = url.protocol.slice(0, -1);
  const plus = scheme.indexOf('+');
  const driver = plus < 0 ? scheme : scheme.slice(0, plus);
  const transport = plus < 0 ? undefined : scheme.slice(plus + 1);
  const pathname = decode('path', url.pathname);
  const input: UriPartsInput = {
    driver,
    transport,
    host: url.hostname === '' ? undefined : url.hostname,
    port: url.port === '' ? undefined : Number(url.port),
    path: pathname === '' || pathname === '/' ? undefined : pathname,
    username: url.username === '' ? undefined : decode('username', url.username),
    params: parseQuery(url.search),
  };
  return toUriParts(resolveUriParts(input));
}

/** The parts of a resolved URI, defaults included, without the fields that are unset. */
export function toUriParts(resolved: ResolvedUriParts): UriParts {
  const { driver, transport, host, port, path, username, params } = resolved;
  return {
    driver,
    ...(transport === undefined ? {} : { transport }),
    ...(host === undefined ? {} : { host }),
    ...(port === undefined ? {} : { port }),
    path,
    ...(username === undefined ? {} : { username }),
    ...(Object.keys(params).length === 0 ? {} : { params: { ...params } }),
  };
}

export interface ClientUriPolicy {
  /** The operator's `allowUnsafeClientUris`: lets clients use ext and the file and program parameters. */
  allowUnsafeParams: boolean;
}

/**
 * Validates a URI that came from an API client (a migration destination) and refuses
 * what would run programs or read files on the gateway: the `ext` transport, the
 * `command`, `netcat`, `socket`, `keyfile`, `pkipath`, `known_hosts` and `authfile`
 * parameters, and an in-process test driver reading a host file — unless the operator
 * allowed them. Returns the resolved parts; throws a {@link UriPartError} naming the field.
 */
export function assertSafeClientUri(parts: UriPartsInput, policy: ClientUriPolicy): ResolvedUriParts {
  const resolved = resolveUriParts(parts);
  if (policy.allowUnsafeParams) return resolved;
  const refusal = 'not allowed in client URIs unless the operator sets allowUnsafeClientUris';
  if (resolved.transport === 'ext') {
    throw new UriPartError('transport', `the ext transport runs a program on the gateway; ${refusal}`);
  }
  for (const name of Object.keys(resolved.params)) {
    const unsafe = paramRule(name)?.unsafe;
    if (unsafe !== undefined) throw new UriPartError(`params.${name}`, `${unsafe}; ${refusal}`);
  }
  if (resolved.kind === 'in-process' && resolved.path.startsWith('/')) {
    throw new UriPartError('path', `a test driver file path is read on the gateway; ${refusal}`);
  }
  return resolved;
}
