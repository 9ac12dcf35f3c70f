import { matchesAny } from './glob.ts';
import { isDomainPrivilege, PRIVILEGES, type Privilege } from './privileges.ts';

export type IdentityKind = 'token' | 'jwt' | 'certificate' | 'anonymous';

/** A grant as checked: a role's privileges on host globs, optionally narrowed to domain-name globs. */
export interface CompiledGrant {
  role: string;
  privileges: ReadonlySet<Privilege>;
  hosts: readonly RegExp[];
  domains?: readonly RegExp[];
}

/**
 * Who is calling, and what they may do where. Resolved once per request or WebSocket
 * connection; resolvers ask it, never the headers.
 */
export class Identity {
  constructor(
    readonly name: string,
    readonly kind: IdentityKind,
    readonly groups: readonly string[],
    private readonly grants: readonly CompiledGrant[],
    /** Until when a JWT is valid (ms since the epoch). */
    readonly expiresAt?: number,
  ) {}

  /** The development mode's caller: no identities are configured, the gateway listens on loopback only. */
  static anonymous(): Identity {
    return new Identity('anonymous', 'anonymous', [], [ANYTHING]);
  }

  #scope: string | undefined;

  /**
   * What this identity may see and do, as a string: identities with the same grants share it,
   * so work done for one (an event executed for its subscribers) serves them all.
   */
  get scope(): string {
    this.#scope ??= JSON.stringify(
      this.grants.map((g) => [
        [...g.privileges].sort(),
        g.hosts.map((h) => h.source),
        g.domains?.map((d) => d.source) ?? null,
      ]),
    );
    return this.#scope;
  }

  /** A stable key for per-identity counters and revocation. */
  get key(): string {
    return `${this.kind}:${this.name}`;
  }

  /**
   * Whether the privilege is held on the host and, for VM privileges, on the domain of that
   * name. Without a domain, grants narrowed to domain globs do not count.
   */
  can(privilege: Privilege, host: string, domain?: string): boolean {
    return this.grants.some(
      (g) =>
        g.privileges.has(privilege) &&
        matchesAny(g.hosts, host) &&
        (g.domains === undefined ||
          (isDomainPrivilege(privilege) && domain !== undefined && matchesAny(g.domains, domain))),
    );
  }

  /** Whether the privilege is held on some object of the host: lists and event streams then filter per object. */
  canSome(privilege: Privilege, host: string): boolean {
    return this.grants.some(
      (g) =>
        g.privileges.has(privilege) &&
        matchesAny(g.hosts, host) &&
        (g.domains === undefined || isDomainPrivilege(privilege)),
    );
  }

  /** Whether the privilege is held on any host (Sys.Audit: the audit stream and /metrics). */
  canAnywhere(privilege: Privilege): boolean {
    return this.grants.some((g) => g.privileges.has(privilege));
  }

  /** Whether any grant names the host: otherwise it is as absent as an unconfigured one. */
  seesHost(host: string): boolean {
    return this.grants.some((g) => matchesAny(g.hosts, host));
  }
}

const ANYTHING: CompiledGrant = {
  role: 'admin',
  privileges: new Set(PRIVILEGES),
  hosts: [/^/],
};
