/** Every privilege an operation can need (shared/operations.md, "Who may call what"). */
export const PRIVILEGES = [
  'Host.Audit',
  'VM.Audit',
  'Network.Audit',
  'Storage.Audit',
  'VM.PowerMgmt',
  'VM.Config',
  'VM.Allocate',
  'VM.Migrate',
  'VM.Console',
  'VM.Snapshot',
  'Network.Modify',
  'Network.Use',
  'Storage.Allocate',
  'Storage.Use',
  'Interface.Modify',
  'Sys.Audit',
  'Sys.Secrets',
  'Sys.Unsafe',
] as const;

export type Privilege = (typeof PRIVILEGES)[number];

export function isPrivilege(name: string): name is Privilege {
  return (PRIVILEGES as readonly string[]).includes(name);
}

/** The objects a grant can be narrowed to, by the `domains`, `pools` and `networks` globs of its config. */
export type ObjectKind = 'domains' | 'pools' | 'networks';

/**
 * What a privilege acts on: VM.* a domain, Storage.* a storage pool, Network.* a network; the
 * others (Host.*, Interface.*, Sys.*) a whole host, so no narrowed grant gives them.
 */
export function objectKindOf(p: Privilege): ObjectKind | undefined {
  if (p.startsWith('VM.')) return 'domains';
  if (p.startsWith('Storage.')) return 'pools';
  if (p.startsWith('Network.')) return 'networks';
  return undefined;
}

/** Privileges that act on one domain: a grant limited to domain-name globs gives only these, only on those domains. */
export function isDomainPrivilege(p: Privilege): boolean {
  return objectKindOf(p) === 'domains';
}

const AUDIT = PRIVILEGES.filter((p) => p.endsWith('.Audit') && p !== 'Sys.Audit');

export const BUILT_IN_ROLES: Readonly<Record<string, readonly Privilege[]>> = {
  viewer: AUDIT,
  // Storage.Use: a save writes into a pool volume and a restore reads one, both power management.
  operator: [...AUDIT, 'VM.PowerMgmt', 'VM.Console', 'VM.Snapshot', 'Storage.Use'],
  admin: PRIVILEGES,
};

/**
 * Every role's privileges: the built-in ones plus the operator's, whose entries are privileges
 * or names of other roles. Problems come back as `roles.NAME: reason`.
 */
export function resolveRoles(custom: Readonly<Record<string, readonly string[]>>): {
  roles: Map<string, ReadonlySet<Privilege>>;
  problems: Array<{ path: string; reason: string }>;
} {
  const problems: Array<{ path: string; reason: string }> = [];
  const roles = new Map<string, ReadonlySet<Privilege>>();
  for (const [name, privileges] of Object.entries(BUILT_IN_ROLES)) roles.set(name, new Set(privileges));
  const expand = (name: string, seen: string[]): Set<Privilege> => {
    const out = new Set<Privilege>();
    for (const entry of custom[name] ?? []) {
      if (isPrivilege(entry)) out.add(entry);
      else if (BUILT_IN_ROLES[entry]) for (const p of BUILT_IN_ROLES[entry]) out.add(p);
      else if (custom[entry] && !seen.includes(entry)) for (const p of expand(entry, [...seen, entry])) out.add(p);
      else if (seen.includes(entry))
        problems.push({ path: `roles.${name}`, reason: `includes itself through ${entry}` });
      else
        problems.push({ path: `roles.${name}`, reason: `${JSON.stringify(entry)} is neither a privilege nor a role` });
    }
    return out;
  };
  for (const name of Object.keys(custom)) {
    if (BUILT_IN_ROLES[name]) {
      problems.push({ path: `roles.${name}`, reason: 'is a built-in role' });
      continue;
    }
    roles.set(name, expand(name, [name]));
  }
  return { roles, problems };
}
