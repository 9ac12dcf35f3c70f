import { createHash, createPublicKey, randomBytes } from 'node:crypto';
import { createRemoteJWKSet, type JWTPayload, errors as joseErrors, jwtVerify } from 'jose';
import type { AuthConfig } from '../config/security-schema.ts';
import { globPattern } from './glob.ts';
import { type CompiledGrant, Identity, type IdentityKind } from './identity.ts';
import { resolveRoles } from './privileges.ts';

/** Why a credential was refused; each is its own `extensions.code`. */
export type AuthErrorCode = 'UNAUTHENTICATED' | 'INVALID_TOKEN' | 'TOKEN_EXPIRED';

export class AuthError extends Error {
  override readonly name = 'AuthError';
  constructor(
    readonly code: AuthErrorCode,
    message: string,
  ) {
    super(message);
  }
}

/** What a request or WebSocket presents: an Authorization value and/or a verified client certificate. */
export interface Credentials {
  authorization?: string | null;
  /** SHA-256 fingerprint (hex, no colons) of a client certificate the TLS layer verified against clientCa. */
  certificate?: string;
  /** Why the TLS layer did not verify the client certificate presented (OpenSSL's reason, e.g. CERT_HAS_EXPIRED). */
  rejectedCertificate?: string;
}

const TOKEN_PREFIX = 'vq_';
const TOKEN_SHAPE = /^vq_[A-Za-z0-9_-]{43}$/;
const JWT_SHAPE = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;

/** A new API token: the secret (shown once) and the digest the config keeps. */
export function createApiToken(): { secret: string; sha256: string } {
  const secret = `${TOKEN_PREFIX}${randomBytes(32).toString('base64url')}`;
  return { secret, sha256: digestOf(secret) };
}

export function digestOf(secret: string): string {
  return createHash('sha256').update(secret).digest('hex');
}

type KeySource = Parameters<typeof jwtVerify>[1];

/**
 * Whether a grant's `identity` names this caller. A plain name is one the operator configured (a
 * token or certificate); a JWT subject comes from an outside issuer, so it is named `jwt:SUBJECT`
 * and can never take a token's or certificate's grants by choosing its subject. `token:` and
 * `certificate:` prefixes are accepted too.
 */
function namesIdentity(granted: string, kind: IdentityKind, name: string): boolean {
  const colon = granted.indexOf(':');
  const prefix = colon > 0 ? granted.slice(0, colon) : undefined;
  if (prefix === 'jwt' || prefix === 'token' || prefix === 'certificate') {
    return prefix === kind && granted.slice(colon + 1) === name;
  }
  return kind !== 'jwt' && granted === name;
}

/** JWTs verified under one configuration, kept so a client reusing its token is not verified again on every request. */
const VERIFIED_JWTS = 1_000;

type JwtVerifier = NonNullable<AuthConfig['jwt']> & { keys: KeySource };

interface VerifiedJwt {
  name: string;
  groups: string[];
  expiresAt?: number;
}

/**
 * Turns credentials into an {@link Identity} under one configuration. A reload builds a new
 * Authenticator; sessions opened under the old one are checked again against it.
 */
export class Authenticator {
  readonly #tokens = new Map<string, { name: string; groups: string[] }>();
  readonly #certificates = new Map<string, { name: string; groups: string[] }>();
  readonly #grants: Array<CompiledGrant & { identity?: string; group?: string }>;
  readonly #jwt: JwtVerifier | undefined;
  /** Verifying a signature costs hundreds of µs; a token seen before only needs its expiry checked. */
  readonly #verifiedJwts = new Map<string, VerifiedJwt>();

  constructor(config: AuthConfig) {
    for (const t of config.tokens) this.#tokens.set(t.sha256, { name: t.name, groups: t.groups });
    for (const c of config.certificates) this.#certificates.set(c.fingerprint256, { name: c.name, groups: c.groups });
    const { roles, problems } = resolveRoles(config.roles);
    if (problems.length > 0) throw new Error(problems.map((p) => `${p.path}: ${p.reason}`).join('; '));
    this.#grants = config.grants.map((g, i) => {
      const privileges = roles.get(g.role);
      if (!privileges) throw new Error(`grants[${i}].role: no role named ${JSON.stringify(g.role)}`);
      return {
        role: g.role,
        privileges,
        hosts: g.hosts.map(globPattern),
        ...(g.domains ? { domains: g.domains.map(globPattern) } : {}),
        ...(g.pools ? { pools: g.pools.map(globPattern) } : {}),
        ...(g.networks ? { networks: g.networks.map(globPattern) } : {}),
        ...(g.identity === undefined ? {} : { identity: g.identity }),
        ...(g.group === undefined ? {} : { group: g.group }),
      };
    });
    if (config.jwt) {
      const keys: KeySource = config.jwt.jwksUrl
        ? createRemoteJWKSet(new URL(config.jwt.jwksUrl))
        : createPublicKey(config.jwt.publicKey as string);
      this.#jwt = { ...config.jwt, keys };
    }
  }

  /** Whether any identity is configured; without one the gateway runs in development mode (loopback, anonymous admin). */
  get enabled(): boolean {
    return this.#tokens.size > 0 || this.#certificates.size > 0 || this.#jwt !== undefined;
  }

  /** The caller, or an AuthError saying why not. A bearer credential takes precedence over a client certificate. */
  async authenticate(credentials: Credentials): Promise<Identity> {
    if (!this.enabled) return Identity.anonymous();
    if (credentials.authorization != null && typeof credentials.authorization !== 'string') {
      // graphql-ws connectionParams are whatever the client sent.
      throw new AuthError('INVALID_TOKEN', 'authorization: expected "Bearer <token>"');
    }
    const header = credentials.authorization?.trim();
    if (header) {
      const match = /^Bearer\s+(\S+)$/i.exec(header);
      if (!match) throw new AuthError('INVALID_TOKEN', 'authorization: expected "Bearer <token>"');
      return this.#bearer(match[1] as string);
    }
    if (credentials.certificate) {
      const cert = this.#certificates.get(credentials.certificate);
      if (cert) return this.#identity(cert.name, 'certificate', cert.groups);
      throw new AuthError('INVALID_TOKEN', 'client certificate: not mapped to any identity');
    }
    if (credentials.rejectedCertificate) {
      throw new AuthError(
        'INVALID_TOKEN',
        `client certificate: not verified against tls.clientCa (${credentials.rejectedCertificate})`,
      );
    }
    throw new AuthError('UNAUTHENTICATED', 'authentication required: send Authorization: Bearer <token>');
  }

  async #bearer(token: string): Promise<Identity> {
    if (token.startsWith(TOKEN_PREFIX)) {
      if (!TOKEN_SHAPE.test(token)) throw new AuthError('INVALID_TOKEN', 'token: malformed API token');
      const known = this.#tokens.get(digestOf(token));
      if (!known) throw new AuthError('INVALID_TOKEN', 'token: unknown or revoked API token');
      return this.#identity(known.name, 'token', known.groups);
    }
    if (!this.#jwt || !JWT_SHAPE.test(token)) throw new AuthError('INVALID_TOKEN', 'token: malformed');
    const verified = this.#verifiedJwts.get(token) ?? (await this.#verifyJwt(this.#jwt, token));
    if (verified.expiresAt !== undefined && verified.expiresAt <= Date.now()) {
      this.#verifiedJwts.delete(token);
      throw new AuthError('TOKEN_EXPIRED', 'token: the JWT has expired');
    }
    return this.#identity(verified.name, 'jwt', verified.groups, verified.expiresAt);
  }

  async #verifyJwt(jwt: JwtVerifier, token: string): Promise<VerifiedJwt> {
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, jwt.keys as never, {
        issuer: jwt.issuer,
        audience: jwt.audience,
        algorithms: jwt.algorithms,
        // A token that never expires cannot be revoked short of removing the whole issuer.
        requiredClaims: ['exp'],
      }));
    } catch (e) {
      if (e instanceof joseErrors.JWTExpired) throw new AuthError('TOKEN_EXPIRED', 'token: the JWT has expired');
      const reason = e instanceof joseErrors.JOSEError ? e.code : 'cannot be verified';
      throw new AuthError('INVALID_TOKEN', `token: the JWT is not valid (${reason})`);
    }
    const name = payload[jwt.identityClaim];
    if (typeof name !== 'string' || name === '') {
      throw new AuthError('INVALID_TOKEN', `token: the JWT has no ${jwt.identityClaim} claim`);
    }
    const claim = payload[jwt.groupsClaim];
    const groups = typeof claim === 'string' ? [claim] : Array.isArray(claim) ? claim.map(String) : [];
    const verified = { name, groups, ...(payload.exp === undefined ? {} : { expiresAt: payload.exp * 1000 }) };
    if (this.#verifiedJwts.size >= VERIFIED_JWTS) {
      this.#verifiedJwts.delete(this.#verifiedJwts.keys().next().value as string);
    }
    this.#verifiedJwts.set(token, verified);
    return verified;
  }

  #identity(name: string, kind: IdentityKind, groups: string[], expiresAt?: number): Identity {
    const grants = this.#grants.filter(
      (g) =>
        (g.identity !== undefined && namesIdentity(g.identity, kind, name)) ||
        (g.group !== undefined && groups.includes(g.group)),
    );
    return new Identity(name, kind, groups, grants, expiresAt);
  }
}
