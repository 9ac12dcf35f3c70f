import type { AuthFailure } from '@pothos/plugin-scope-auth';
import {
  GraphQLError,
  type GraphQLFormattedError,
  type GraphQLResolveInfo,
  Kind,
  type VariableDefinitionNode,
} from 'graphql';
import { HostRegistryClosedError, HostTimeoutError, UnknownHostError } from '../../hosts/errors.ts';
import { type ErrorNumberName, LibvirtError, NulByteError } from '../../libvirt/index.ts';
import { XmlError } from '../../libvirt/xml/xml-codec.ts';

/** The typed failures clients see in `extensions.code`. */
export type ErrorCode =
  | 'NOT_FOUND'
  | 'INVALID_INPUT'
  | 'INVALID_STATE'
  | 'UNSUPPORTED'
  | 'CONNECTION_FAILED'
  | 'UNKNOWN_HOST'
  | 'LIBVIRT_ERROR'
  | 'UNAUTHENTICATED'
  | 'INVALID_TOKEN'
  | 'TOKEN_EXPIRED'
  | 'FORBIDDEN'
  | 'LIMIT_EXCEEDED'
  | 'RATE_LIMITED'
  | 'UNSAFE_INPUT'
  | 'CONFLICT'
  | 'PERSISTED_QUERY_ONLY'
  | 'PERSISTED_QUERY_NOT_FOUND';

const BY_LIBVIRT_CODE: Partial<Record<ErrorNumberName, ErrorCode>> = {
  NO_DOMAIN: 'NOT_FOUND',
  NO_NETWORK: 'NOT_FOUND',
  NO_STORAGE_POOL: 'NOT_FOUND',
  NO_STORAGE_VOL: 'NOT_FOUND',
  NO_INTERFACE: 'NOT_FOUND',
  NO_NODE_DEVICE: 'NOT_FOUND',
  NO_DOMAIN_SNAPSHOT: 'NOT_FOUND',
  NO_SECRET: 'NOT_FOUND',
  XML_ERROR: 'INVALID_INPUT',
  XML_DETAIL: 'INVALID_INPUT',
  XML_INVALID_SCHEMA: 'INVALID_INPUT',
  INVALID_ARG: 'INVALID_INPUT',
  INVALID_MAC: 'INVALID_INPUT',
  DOM_EXIST: 'INVALID_INPUT',
  NETWORK_EXIST: 'INVALID_INPUT',
  STORAGE_VOL_EXIST: 'INVALID_INPUT',
  STORAGE_POOL_BUILT: 'INVALID_STATE',
  OPERATION_INVALID: 'INVALID_STATE',
  OPERATION_DENIED: 'INVALID_STATE',
  NO_SUPPORT: 'UNSUPPORTED',
  ARGUMENT_UNSUPPORTED: 'UNSUPPORTED',
  CONFIG_UNSUPPORTED: 'UNSUPPORTED',
  OPERATION_UNSUPPORTED: 'UNSUPPORTED',
  NO_CONNECT: 'CONNECTION_FAILED',
  INVALID_CONN: 'CONNECTION_FAILED',
  RPC: 'CONNECTION_FAILED',
  AUTH_FAILED: 'CONNECTION_FAILED',
  AUTH_CANCELLED: 'CONNECTION_FAILED',
  AUTH_UNAVAILABLE: 'CONNECTION_FAILED',
};

/**
 * Conditions libvirt reports with a generic code (INTERNAL_ERROR, OPERATION_FAILED, RPC), told
 * apart by libvirt's message so that a request losing a race gets the code the gateway's own
 * pre-check gives (a concurrent suspend: INVALID_STATE; a concurrent define: INVALID_INPUT).
 * Checked before the table: RPC is CONNECTION_FAILED unless the message was merely too large.
 */
const BY_LIBVIRT_MESSAGE: Array<{ codes: ErrorNumberName[]; rpc?: true; message: RegExp; code: ErrorCode }> = [
  // virNetMessageEncodePayload: the request exceeded libvirt's RPC message size.
  {
    codes: ['RPC', 'INTERNAL_ERROR'],
    rpc: true,
    message: /unable to encode message payload|too large|exceeds maximum/i,
    code: 'INVALID_INPUT',
  },
  // The test driver: "domain 'x' not paused", "domain 'x' not running", "… is already running".
  {
    codes: ['INTERNAL_ERROR', 'OPERATION_FAILED'],
    message: /\bnot (?:paused|running|active)\b|\bis already (?:running|active)\b/i,
    code: 'INVALID_STATE',
  },
  // The storage driver on a volume name with "/" (its pre-check in createVolume says INVALID_INPUT too).
  { codes: ['OPERATION_INVALID', 'OPERATION_FAILED'], message: /cannot contain '\/'/, code: 'INVALID_INPUT' },
  // virDomainObjListAdd and friends: "domain 'x' already exists with uuid …", "is already defined".
  { codes: ['OPERATION_FAILED', 'INTERNAL_ERROR'], message: /\balready (?:exists|defined)\b/i, code: 'INVALID_INPUT' },
];

/** The gateway's code for a libvirt failure (libvirt's own code stays in extensions.libvirt). */
export function codeOf(e: LibvirtError): ErrorCode {
  if (e.codeName === 'UNKNOWN') return 'LIBVIRT_ERROR';
  const byMessage = BY_LIBVIRT_MESSAGE.find(
    (rule) =>
      rule.codes.includes(e.codeName as ErrorNumberName) &&
      (!rule.rpc || e.domainName === 'RPC') &&
      rule.message.test(e.message),
  );
  if (byMessage) return byMessage.code;
  // A transport failure: the daemon went away, never answered, or its socket closed under a call.
  if (e.domainName === 'RPC' && (e.codeName === 'SYSTEM_ERROR' || e.codeName === 'INTERNAL_ERROR')) {
    return 'CONNECTION_FAILED';
  }
  return BY_LIBVIRT_CODE[e.codeName] ?? 'LIBVIRT_ERROR';
}

/** An expected failure, shown to the client as it is (never masked). */
export function gatewayError(code: ErrorCode, message: string, extensions: Record<string, unknown> = {}): GraphQLError {
  return new GraphQLError(message, { extensions: { code, ...extensions } });
}

export function libvirtExtensions(e: LibvirtError): Record<string, unknown> {
  return {
    code: codeOf(e),
    libvirt: { code: e.code, codeName: e.codeName, domain: e.domainName, level: e.levelName, message: e.message },
  };
}

/**
 * Runs a libvirt call whose one client value is `field`: libvirt refusing it (INVALID_INPUT, or
 * another of `codes`, such as UNSUPPORTED for a format the host lacks) is that code naming the field.
 */
export async function refusedAs<T>(
  field: string,
  call: Promise<T>,
  codes: readonly ErrorCode[] = ['INVALID_INPUT'],
): Promise<T> {
  try {
    return await call;
  } catch (e) {
    if (!(e instanceof LibvirtError) || !codes.includes(codeOf(e))) throw e;
    throw gatewayError(codeOf(e), `${field}: ${e.message}`, {
      ...libvirtExtensions(e),
      field,
      reason: e.message,
    });
  }
}

/** NOT_FOUND; with libvirt's own error when libvirt said so (a lookup), without when a listing lacked it. */
export function notFound(
  kind: string,
  what: string,
  extensions: Record<string, unknown> = {},
  cause?: LibvirtError,
): GraphQLError {
  const fromLibvirt = cause ? libvirtExtensions(cause) : {};
  return gatewayError('NOT_FOUND', `${kind} ${what} not found`, { ...extensions, ...fromLibvirt, code: 'NOT_FOUND' });
}

export function invalidInput(field: string, reason: string): GraphQLError {
  return gatewayError('INVALID_INPUT', `${field}: ${reason}`, { field, reason });
}

/** The privilege scopes a failed check asked for (plugin-scope-auth's failure tree, flattened). */
type MissingScope = { privilege?: string; host?: string; domain?: string; pool?: string; network?: string };

function missingScopes(failure: AuthFailure): MissingScope[] {
  if ('failures' in failure) return failure.failures.flatMap(missingScopes);
  if ('parameter' in failure && typeof failure.parameter === 'object' && failure.parameter !== null) {
    return [failure.parameter as MissingScope];
  }
  return [];
}

/** FORBIDDEN naming the privilege (and host and domain) the caller lacks for this field. */
export function forbidden(identity: string, info: GraphQLResolveInfo, failure: AuthFailure): GraphQLError {
  const [missing] = missingScopes(failure);
  const field = `${info.parentType.name}.${info.fieldName}`;
  if (!missing?.privilege) return gatewayError('FORBIDDEN', `${identity} may not use ${field}`, { field });
  const where = [
    missing.host && `host ${missing.host}`,
    missing.domain && `domain ${missing.domain}`,
    missing.pool && `storage pool ${missing.pool}`,
    missing.network && `network ${missing.network}`,
  ]
    .filter(Boolean)
    .join(', ');
  return gatewayError(
    'FORBIDDEN',
    `${identity} lacks ${missing.privilege}${where ? ` on ${where}` : ''} for ${field}`,
    {
      field,
      privilege: missing.privilege,
      ...(missing.host ? { host: missing.host } : {}),
      ...(missing.domain ? { domain: missing.domain } : {}),
      ...(missing.pool ? { pool: missing.pool } : {}),
      ...(missing.network ? { network: missing.network } : {}),
    },
  );
}

/** By name, not instanceof: graphql ships CommonJS and ESM builds, and both may be loaded. */
function isGraphQLError(e: unknown): e is GraphQLError {
  return e instanceof Error && e.name === 'GraphQLError';
}

/** The longest message (and reason) a response carries, in UTF-8 bytes. */
export const MAX_ERROR_BYTES = 2048;

function truncated(text: string, limit: number): string {
  const bytes = Buffer.from(text);
  if (bytes.length <= limit) return text;
  const note = ` … (${bytes.length} bytes, cut)`;
  // A cut inside a multi-byte character decodes to U+FFFD, which is then dropped.
  return `${bytes
    .subarray(0, limit - Buffer.byteLength(note) - 3)
    .toString()
    .replace(/\uFFFD$/, '')}${note}`;
}

/** The longest value of a client's an error echoes (a host name, a field path). */
const MAX_ECHO_BYTES = 256;

/** A client's value as an error may repeat it: at most MAX_ECHO_BYTES. */
export function echoed(value: string): string {
  return truncated(value, MAX_ECHO_BYTES);
}

/**
 * The same error with its message cut to MAX_ERROR_BYTES, `reason` and libvirt's message to half
 * that, and every other string extension (`host`, `field`…) to MAX_ECHO_BYTES.
 */
function bounded(error: GraphQLError): GraphQLError {
  const { extensions } = error;
  const libvirt = extensions.libvirt as Record<string, unknown> | undefined;
  const limitOf = (key: string) => (key === 'reason' ? MAX_ERROR_BYTES / 2 : MAX_ECHO_BYTES);
  const long = (key: string, v: unknown) => typeof v === 'string' && Buffer.byteLength(v) > limitOf(key);
  const tooLong =
    Buffer.byteLength(error.message) > MAX_ERROR_BYTES ||
    Object.entries(extensions).some(([k, v]) => long(k, v)) ||
    long('reason', libvirt?.message);
  if (!tooLong) return error;
  const cut = Object.fromEntries(
    Object.entries(extensions).map(([k, v]) => [k, long(k, v) ? truncated(v as string, limitOf(k)) : v]),
  );
  const half = (v: unknown) => (typeof v === 'string' ? truncated(v, MAX_ERROR_BYTES / 2) : v);
  return withFields(error, truncated(error.message, MAX_ERROR_BYTES), {
    ...cut,
    ...(libvirt ? { libvirt: { ...libvirt, message: half(libvirt.message) } } : {}),
  });
}

/**
 * An error as graphql-ws sends it: coded like yoga's, and without yoga's `extensions.http` (an
 * HTTP status and headers meant for the HTTP layer, which yoga strips from HTTP responses itself).
 */
export function formattedForWire(error: GraphQLError | GraphQLFormattedError): GraphQLFormattedError {
  // graphql-ws's own refusals ("Unable to identify operation") have no code: INVALID_INPUT like yoga's.
  const formatted = isGraphQLError(error) ? withGatewayCode(error).toJSON() : error;
  if (formatted.extensions?.http === undefined) return formatted;
  const { http: _http, ...extensions } = formatted.extensions;
  return { ...formatted, extensions };
}

/**
 * Codes graphql-js and yoga give malformed requests (or none at all, for variable coercion):
 * all of them are INVALID_INPUT here, so one condition has one code whoever detects it.
 */
const FOREIGN_INPUT_CODES = new Set<unknown>([
  undefined,
  'GRAPHQL_PARSE_FAILED',
  'GRAPHQL_VALIDATION_FAILED',
  'BAD_USER_INPUT',
  'BAD_REQUEST',
  // yoga: a document of several operations without operationName, or naming none of them.
  'OPERATION_RESOLUTION_FAILURE',
]);

/**
 * The variable a coercion error is about, with graphql-js's path inside it (`$d`, `$d.name`,
 * `$ids.0`); `query` for parse and validation errors of the document itself.
 */
function inputFieldOf(message: string): string {
  const variable = /^Variable "\$(\w+)" /.exec(message)?.[1];
  if (!variable) return 'query';
  // The quoted value before " at " is JSON-escaped, so an unescaped `at "$name` is graphql-js's path.
  const at = message.indexOf(` at "${variable}`);
  if (at < 0) return `$${variable}`;
  const path = message.slice(at + 5, message.indexOf('"', at + 5));
  return `$${path.replace(/\[(\d+)\]/g, '.$1')}`;
}

function reasonOf(message: string): string {
  const cut = message.lastIndexOf('; ');
  return message.startsWith('Variable "$') && cut > 0 ? message.slice(cut + 2) : message;
}

function relocated(located: GraphQLError | undefined, message: string, extensions: Record<string, unknown>) {
  return new GraphQLError(message, { nodes: located?.nodes, path: located?.path, extensions });
}

/** The code for gateway failures that are not GraphQLErrors: libvirt's, the binding's, the host registry's. */
function typedFailure(original: unknown, located: GraphQLError | undefined): GraphQLError | undefined {
  if (original instanceof LibvirtError) {
    return new GraphQLError(original.message, {
      nodes: located?.nodes,
      path: located?.path,
      originalError: original,
      extensions: libvirtExtensions(original),
    });
  }
  if (original instanceof NulByteError) {
    const reason = 'must not contain a NUL byte';
    return relocated(located, original.message, { code: 'INVALID_INPUT', field: original.argument, reason });
  }
  if (original instanceof HostTimeoutError || original instanceof HostRegistryClosedError) {
    return relocated(located, original.message, { code: 'CONNECTION_FAILED', host: original.host });
  }
  if (original instanceof UnknownHostError) {
    // The client's host name, however long, is echoed cut (the message goes on with the configured names).
    const named = `unknown host ${JSON.stringify(original.host)}`;
    const rest = original.message.startsWith(named) ? original.message.slice(named.length) : '';
    const host = echoed(original.host);
    return relocated(located, `unknown host ${JSON.stringify(host)}${rest}`, { code: 'UNKNOWN_HOST', host });
  }
  // plugin-relay's malformed global IDs (and any other Pothos input check).
  if (original instanceof Error && original.name === 'PothosValidationError') {
    const last = located?.path?.at(-1);
    const field = last === 'nodes' ? 'ids' : last === 'node' ? 'id' : 'input';
    return relocated(located, `${field}: ${original.message}`, {
      code: 'INVALID_INPUT',
      field,
      reason: original.message,
    });
  }
  return undefined;
}

/**
 * yoga's maskError: libvirt failures become typed errors carrying libvirt's code and message;
 * errors raised as GraphQLError pass through, request errors from graphql-js and yoga become
 * INVALID_INPUT; anything else is masked. No message is longer than MAX_ERROR_BYTES.
 */
export function maskError(error: unknown, message: string): Error {
  const located = isGraphQLError(error) ? error : undefined;
  const original = located?.originalError ?? error;
  const typed = typedFailure(original, located);
  if (typed) return bounded(typed);
  const graphql = isGraphQLError(original)
    ? (located ?? original)
    : located && !located.originalError
      ? located
      : undefined;
  if (!graphql) {
    return new GraphQLError(message, { nodes: located?.nodes, path: located?.path, extensions: { code: 'INTERNAL' } });
  }
  return withGatewayCode(graphql);
}

/** The code a client sees for `error`: its extensions.code once masked. */
export function clientErrorCode(error: unknown): string {
  const masked = maskError(error, 'Unexpected error.');
  const code = masked instanceof GraphQLError ? masked.extensions.code : undefined;
  return typeof code === 'string' ? code : 'INTERNAL';
}

/** The message a client sees for `error` once masked (what logs repeat of a client's error: never a secret it sent). */
export function clientErrorMessage(error: unknown): string {
  return maskError(error, 'Unexpected error.').message;
}

/** Input types (and scalars) whose values may hold a secret: a coercion error never repeats their variable's value. */
const SECRET_INPUT_TYPES = new Set<string>();

/** Marks an input type or scalar as carrying a secret (a secret's value): see {@link withGatewayCode}. */
export function holdsSecret(typeName: string): void {
  SECRET_INPUT_TYPES.add(typeName);
}

/** Whether an input type or scalar was marked as carrying a secret. */
export function isSecretHolding(typeName: string): boolean {
  return SECRET_INPUT_TYPES.has(typeName);
}

/** The named type of a variable definition (`$input: SetSecretValueInput!` → SetSecretValueInput). */
function variableTypeName(node: unknown): string | undefined {
  if ((node as { kind?: unknown } | undefined)?.kind !== Kind.VARIABLE_DEFINITION) return undefined;
  let type = (node as VariableDefinitionNode).type;
  while (type.kind !== Kind.NAMED_TYPE) type = type.type;
  return type.name.value;
}

/**
 * graphql-js writes a variable's value into its coercion errors (`got invalid value {…}`): for a
 * variable that may hold a secret, the message keeps the variable, the path and the reason only.
 */
function withoutSecretValue(error: GraphQLError, field: string, reason: string): string {
  const typeName = variableTypeName(error.nodes?.[0]);
  if (typeName === undefined || !SECRET_INPUT_TYPES.has(typeName)) return error.message;
  const variable = /^Variable "\$(\w+)" got invalid value/.exec(error.message)?.[1];
  if (variable === undefined) return error.message;
  return `Variable "$${variable}" got an invalid value (not repeated: it may hold a secret) at "${field.slice(1)}"; ${reason}`;
}

/**
 * A GraphQLError as clients see it: request errors from graphql-js and yoga (parse, validation,
 * variable coercion) become INVALID_INPUT naming the variable or `query`; every message is bounded.
 */
export function withGatewayCode(error: GraphQLError): GraphQLError {
  const code = error.extensions?.code;
  if (!FOREIGN_INPUT_CODES.has(code)) return bounded(error);
  const field = code === 'OPERATION_RESOLUTION_FAILURE' ? 'operationName' : inputFieldOf(error.message);
  const reason = reasonOf(error.message);
  return bounded(
    withFields(error, withoutSecretValue(error, field, reason), {
      ...error.extensions,
      code: 'INVALID_INPUT',
      field,
      reason,
    }),
  );
}

/** The same error (location, path, cause) with another message and extensions. */
function withFields(error: GraphQLError, message: string, extensions: Record<string, unknown>): GraphQLError {
  return new GraphQLError(message, {
    nodes: error.nodes,
    source: error.source,
    positions: error.positions,
    path: error.path,
    originalError: error.originalError,
    extensions,
  });
}

/** Parses a client's XML argument; malformed XML is INVALID_INPUT naming the argument. */
export function parsedArgument<T>(field: string, parse: () => T): T {
  try {
    return parse();
  } catch (e) {
    if (e instanceof XmlError) throw invalidInput(field, e.message);
    throw e;
  }
}
