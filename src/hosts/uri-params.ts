import { isAbsolute } from 'node:path';

/**
 * How a URI reaches libvirt: one of the remote driver's transports, `local` for a
 * driver:///path URI served by a local daemon over its default unix socket, or
 * `in-process` for the test driver opened without a transport (no daemon, no remote driver).
 */
export type TransportKind = 'tls' | 'tcp' | 'ssh' | 'unix' | 'libssh2' | 'libssh' | 'ext' | 'local' | 'in-process';

/** Answers why a value is malformed, or undefined when it is fine. */
type ValueCheck = (value: string) => string | undefined;

interface ParamRule {
  /** The transports whose connection code reads the parameter (https://libvirt.org/uri.html#transport-configuration). */
  transports: readonly TransportKind[];
  check: ValueCheck;
  /** Set when the parameter runs a program or touches files on the gateway: why a client may not pass it. */
  unsafe?: string;
}

const SSH_FAMILY = ['ssh', 'libssh2', 'libssh'] as const;
const LIBSSH_FAMILY = ['libssh2', 'libssh'] as const;
/** Every kind that goes through libvirt's remote driver. */
const REMOTE_DRIVER = ['tls', 'tcp', 'ssh', 'unix', 'libssh2', 'libssh', 'ext', 'local'] as const;

const oneOf =
  (...allowed: string[]): ValueCheck =>
  (value) =>
    allowed.includes(value) ? undefined : `must be one of ${allowed.join(', ')}`;

const absolutePath: ValueCheck = (value) => (isAbsolute(value) ? undefined : 'must be an absolute path');

const nonEmpty: ValueCheck = (value) => (value === '' ? 'must not be empty' : undefined);

/** libvirt treats any non-zero number as true; only 0 and 1 are accepted so typos do not silently mean "true". */
const flag: ValueCheck = oneOf('0', '1');

/** The netcat name is put into a shell command on the remote side (`netcat -U socket`). */
const programName: ValueCheck = (value) =>
  /^[A-Za-z0-9_./+-]+$/.test(value)
    ? undefined
    : 'must be a program name or path (letters, digits, "_", ".", "/", "+", "-")';

const SSH_AUTH_METHODS = ['agent', 'privkey', 'password', 'keyboard-interactive'];

const sshAuthList: ValueCheck = (value) => {
  const methods = value.split(',');
  if (methods.some((m) => !SSH_AUTH_METHODS.includes(m))) {
    return `must be a comma-separated list of ${SSH_AUTH_METHODS.join(', ')}`;
  }
  return new Set(methods).size === methods.length ? undefined : 'names a method more than once';
};

/** GnuTLS priority strings: keywords joined by ':' with +, -, !, % and @ modifiers. */
const tlsPriority: ValueCheck = (value) =>
  /^[A-Za-z0-9:+\-!%._@=]+$/.test(value) ? undefined : 'must be a GnuTLS priority string, e.g. NORMAL:-VERS-SSL3.0';

/** Passed to the remote side's virConnectOpen. */
const libvirtUri: ValueCheck = (value) => {
  try {
    const url = new URL(value);
    return /^[a-z][a-z0-9+.-]*:$/.test(url.protocol) ? undefined : 'must be a libvirt URI, e.g. qemu:///system';
  } catch {
    return 'must be a libvirt URI, e.g. qemu:///system';
  }
};

const authType: ValueCheck = (value) =>
  /^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(value) ? undefined : 'must be an auth type such as sasl or sasl.gssapi';

/**
 * The extra parameters libvirt's remote driver reads (its doRemoteOpen), with the
 * transports that use each. libvirt passes any other name through to the remote
 * side, where it is ignored, so an unknown name here is almost always a typo.
 */
export const URI_PARAMS: Readonly<Record<string, ParamRule>> = {
  name: { transports: REMOTE_DRIVER, check: libvirtUri },
  auth: { transports: REMOTE_DRIVER, check: authType },
  authfile: { transports: REMOTE_DRIVER, check: absolutePath, unsafe: 'reads a credentials file on the gateway' },
  mode: { transports: ['unix', 'local', ...SSH_FAMILY], check: oneOf('auto', 'legacy', 'direct') },
  proxy: { transports: SSH_FAMILY, check: oneOf('auto', 'netcat', 'native') },
  command: { transports: ['ssh', 'ext'], check: nonEmpty, unsafe: 'runs a program on the gateway' },
  socket: {
    transports: ['unix', 'local', ...SSH_FAMILY],
    check: absolutePath,
    unsafe: 'names a unix socket to connect to (on the gateway for unix)',
  },
  netcat: { transports: SSH_FAMILY, check: programName, unsafe: 'names a program to run for the connection' },
  keyfile: { transports: SSH_FAMILY, check: absolutePath, unsafe: 'reads a private key file on the gateway' },
  no_verify: { transports: ['tls', 'ssh'], check: flag },
  no_tty: { transports: ['ssh'], check: flag },
  no_sanity: { transports: ['tls'], check: flag },
  known_hosts: {
    transports: LIBSSH_FAMILY,
    check: absolutePath,
    unsafe: 'reads and may rewrite a file on the gateway',
  },
  known_hosts_verify: { transports: LIBSSH_FAMILY, check: oneOf('normal', 'auto', 'ignore') },
  sshauth: { transports: LIBSSH_FAMILY, check: sshAuthList },
  tls_priority: { transports: ['tls'], check: tlsPriority },
  pkipath: { transports: ['tls'], check: absolutePath, unsafe: 'reads certificates and keys on the gateway' },
};

export function paramRule(name: string): ParamRule | undefined {
  return Object.hasOwn(URI_PARAMS, name) ? URI_PARAMS[name] : undefined;
}

/**
 * Encodes a parameter name or value for the query string. libvirt decodes %XX but
 * not '+' and splits on both '&' and ';', so everything else is percent-encoded;
 * '/', ':' and ',' stay readable (they are plain query characters).
 */
export function encodeParam(text: string): string {
  return encodeURIComponent(text).replace(/%2F/g, '/').replace(/%3A/g, ':').replace(/%2C/g, ',');
}
