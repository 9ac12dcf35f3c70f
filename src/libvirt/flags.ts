import { DomainModificationImpact } from './enums.ts';

/** ORs the named flags of one libvirt flag table. */
export function flagsOf<T extends Readonly<Record<string, number>>>(
  table: T,
  names: readonly (keyof T)[] = [],
): number {
  let flags = 0;
  for (const name of names) flags |= table[name] ?? 0;
  return flags >>> 0;
}

/**
 * Where a device, memory or vCPU change applies: the running domain, its persistent
 * configuration, both, or libvirt's CURRENT (live when running, config when stopped).
 */
export type Scope = 'current' | 'live' | 'config' | 'both';

export function scopeFlags(scope: Scope = 'current'): number {
  switch (scope) {
    case 'live':
      return DomainModificationImpact.LIVE;
    case 'config':
      return DomainModificationImpact.CONFIG;
    case 'both':
      return DomainModificationImpact.LIVE | DomainModificationImpact.CONFIG;
    case 'current':
      return DomainModificationImpact.CURRENT;
  }
}

/** Which objects a list call returns. */
export type ListFilter = 'all' | 'active' | 'inactive';

/** The ACTIVE/INACTIVE bits of one kind's list flags (their values differ between kinds). */
export function listFlags(table: { ACTIVE: number; INACTIVE: number }, filter: ListFilter = 'all'): number {
  return filter === 'active' ? table.ACTIVE : filter === 'inactive' ? table.INACTIVE : 0;
}
