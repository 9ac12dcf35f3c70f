import { matchesAny } from './glob.ts';
import { type ObjectKind, objectKindOf, PRIVILEGES, type Privilege } from './privileges.ts';

export type IdentityKind = 'token' | 'jwt' | 'certificate' | 'anonymous';

/**
 * A grant as checked: a role's privileges on host globs, optionally narrowed to name globs of
 * domains, storage pools and networks. A narrowed grant (any of the three set) gives only the
 * privileges of the kinds it names, only on objects matching that kind's globs.
 */
export interface CompiledGrant {
  role: string;
  privileges: ReadonlySet<Privilege>;
  hosts: readonly RegExp[];
  domains?: readonly RegExp[];
  pools?: readonly RegExp[];
  networks?: readonly RegExp[];
}

const OBJECT_KINDS: readonly ObjectKind[] = ['domains', 'pools', 'networks'];

function isNarrowed(g: CompiledGrant): boolean {
  return OBJECT_KINDS.some((k) => g[k] !== undefined);
}

/** The globs a narrowed grant has for the objects the privilege acts on; undefined when it gives none of that kind. */
function globsFor(g: CompiledGrant, privilege: Privilege): readonly RegExp[] | undefined {
  const kind = objectKindOf(privilege);
  return kind === undefined ? undefined : g[kind];
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
        ...OBJECT_KINDS.map((k) => g[k]?.map((d) => d.source) ?? null),
      ]),
    );
    return this.#scope;
  }

  /** A stable key for per-identity counters and revocation. */
  get key(): string {
    return `${this.kind}:${this.name}`;
  }

  /**
   * Whether the privilege is held on the host and, for privileges that act on one object, on
   * that object: `object` names a domain for VM.*, a storage pool for Storage.*, a network for
   * Network.* privileges. An unnarrowed grant holds its privileges on every object of its hosts
   * (`object` is ignored); a narrowed one only with an object given that matches its globs.
   */
  can(privilege: Privilege, host: string, object?: string): boolean {
    return this.grants.some((g) => {
      if (!g.privileges.has(privilege) || !matchesAny(g.hosts, host)) return false;
      if (!isNarrowed(g)) return true;
      const globs = globsFor(g, privilege);
      return globs !== undefined && object !== undefined && matchesAny(globs, object);
    });
  }

  /** Whether the privilege is held on some object of the host: lists and event streams then filter per object. */
  canSome(privilege: Privilege, host: string): boolean {
    return this.grants.some(
      (g) =>
        g.privileges.has(privilege) &&
        matchesAny(g.hosts, host) &&
        (!isNarrowed(g) || globsFor(g, privilege) !== undefined),
    );
  }

  /**
   * Whether the privilege is held on every object of the host (an unnarrowed grant gives it):
   * then nothing of that kind on the host is hidden from this identity, and per-object checks
   * that cost libvirt reads can be skipped.
   */
  canAll(privilege: Privilege, host: string): boolean {
    return this.grants.some((g) => g.privileges.has(privilege) && matchesAny(g.hosts, host) && !isNarrowed(g));
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
