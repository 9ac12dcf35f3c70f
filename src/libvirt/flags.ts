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

/** Which objects a list call returns. Host interfaces know only all, active and inactive. */
export type ListFilter = 'all' | 'active' | 'inactive' | 'persistent' | 'transient' | 'autostart' | 'noAutostart';

interface ListTable {
  ACTIVE: number;
  INACTIVE: number;
  PERSISTENT?: number;
  TRANSIENT?: number;
  AUTOSTART?: number;
  NO_AUTOSTART?: number;
}

/** The bits of one kind's list flags for a filter (their values differ between kinds). */
export function listFlags(table: ListTable, filter: ListFilter = 'all'): number {
  const bits: Record<ListFilter, number | undefined> = {
    all: 0,
    active: table.ACTIVE,
    inactive: table.INACTIVE,
    persistent: table.PERSISTENT,
    transient: table.TRANSIENT,
    autostart: table.AUTOSTART,
    noAutostart: table.NO_AUTOSTART,
  };
  const flags = bits[filter];
  if (flags === undefined) throw new RangeError(`this kind of object cannot be listed by ${filter}`);
  return flags;
}
