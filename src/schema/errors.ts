import type { AuthFailure } from '@pothos/plugin-scope-auth';
import { GraphQLError, type GraphQLResolveInfo } from 'graphql';
import { type ErrorNumberName, LibvirtError } from '../libvirt/index.ts';
import { XmlError } from '../libvirt/xml/xml-codec.ts';

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
  | 'RATE_LIMITED';

const BY_LIBVIRT_CODE: Partial<Record<ErrorNumberName, ErrorCode>> = {
  NO_DOMAIN: 'NOT_FOUND',
  NO_NETWORK: 'NOT_FOUND',
  NO_STORAGE_POOL: 'NOT_FOUND',
  NO_STORAGE_VOL: 'NOT_FOUND',
  NO_INTERFACE: 'NOT_FOUND',
  NO_NODE_DEVICE: 'NOT_FOUND',
  NO_DOMAIN_SNAPSHOT: 'NOT_FOUND',
  XML_ERROR: 'INVALID_INPUT',
  XML_DETAIL: 'INVALID_INPUT',
  XML_INVALID_SCHEMA: 'INVALID_INPUT',
  INVALID_ARG: 'INVALID_INPUT',
  INVALID_MAC: 'INVALID_INPUT',
  DOM_EXIST: 'INVALID_INPUT',
  NETWORK_EXIST: 'INVALID_INPUT',
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

/** The gateway's code for a libvirt failure (libvirt's own code stays in extensions.libvirt). */
export function codeOf(e: LibvirtError): ErrorCode {
  const mapped = e.codeName === 'UNKNOWN' ? undefined : BY_LIBVIRT_CODE[e.codeName];
  if (mapped) return mapped;
  // A transport failure: the daemon went away or never answered.
  if (e.codeName === 'SYSTEM_ERROR' && e.domainName === 'RPC') return 'CONNECTION_FAILED';
  return 'LIBVIRT_ERROR';
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
function missingScopes(failure: AuthFailure): Array<{ privilege?: string; host?: string; domain?: string }> {
  if ('failures' in failure) return failure.failures.flatMap(missingScopes);
  if ('parameter' in failure && typeof failure.parameter === 'object' && failure.parameter !== null) {
    return [failure.parameter as { privilege?: string; host?: string; domain?: string }];
  }
  return [];
}

/** FORBIDDEN naming the privilege (and host and domain) the caller lacks for this field. */
export function forbidden(identity: string, info: GraphQLResolveInfo, failure: AuthFailure): GraphQLError {
  const [missing] = missingScopes(failure);
  const field = `${info.parentType.name}.${info.fieldName}`;
  if (!missing?.privilege) return gatewayError('FORBIDDEN', `${identity} may not use ${field}`, { field });
  const where = [missing.host && `host ${missing.host}`, missing.domain && `domain ${missing.domain}`]
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
    },
  );
}

/** By name, not instanceof: graphql ships CommonJS and ESM builds, and both may be loaded. */
function isGraphQLError(e: unknown): e is GraphQLError {
  return e instanceof Error && e.name === 'GraphQLError';
}

/**
 * yoga's maskError: libvirt failures become typed errors carrying libvirt's code and message;
 * errors raised as GraphQLError pass through; anything else is masked.
 */
export function maskError(error: unknown, message: string): Error {
  const located = isGraphQLError(error) ? error : undefined;
  const original = located?.originalError ?? error;
  if (original instanceof LibvirtError) {
    return new GraphQLError(original.message, {
      nodes: located?.nodes,
      path: located?.path,
      originalError: original,
      extensions: libvirtExtensions(original),
    });
  }
  if (isGraphQLError(original)) return located ?? original;
  if (located && !located.originalError) return located;
  return new GraphQLError(message, { nodes: located?.nodes, path: located?.path, extensions: { code: 'INTERNAL' } });
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
