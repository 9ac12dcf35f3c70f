import { DomainState as DomainStateTable } from '../../libvirt/index.ts';
import { somewhereOnParentHost } from '../core/auth-scopes.ts';
import { builder } from '../core/builder.ts';
import type { GatewayContext } from '../core/context.ts';
import { definitionFilterFields, filteredListFields, nameFilterFields } from '../core/filtered-list.ts';
import { Host } from '../core/hosts.ts';
import { nameMatcher } from '../core/keyset-connection.ts';
import {
  autostartSet,
  DomainNode,
  type DomainShape,
  DomainStateEnum,
  domainList,
  persistentSet,
  prefetchDomains,
  runtimeOf,
} from './domain.ts';

const DomainFilter = builder.inputType('DomainFilter', {
  description: 'Which domains a connection returns: every condition given must hold.',
  fields: (t) => ({
    ...nameFilterFields(t),
    state: t.field({
      type: [DomainStateEnum],
      description: 'Only domains in one of these states.',
    }),
    active: t.boolean({ description: 'Only running (or paused) domains when true, only stopped ones when false.' }),
    ...definitionFilterFields(t, 'domains'),
  }),
});

type Filter = typeof DomainFilter.$inferInput;

/**
 * The visible domains matching the filter. Each condition reads what the plain list's fields read
 * (the list, the bulk stats, the persistent and autostart lists), once per request and host, and
 * only when it is asked for.
 */
async function filtered(ctx: GatewayContext, host: string, filter: Filter | null | undefined): Promise<DomainShape[]> {
  const named = nameMatcher(filter);
  let list = (await domainList(ctx, host)).filter((s) => named(s.domain.name));
  if (filter?.active != null) list = list.filter((s) => (s.domain.id !== -1) === filter.active);
  for (const [flag, set] of [
    ['persistent', persistentSet],
    ['autostart', autostartSet],
  ] as const) {
    const wanted = filter?.[flag];
    if (wanted == null) continue;
    const members = await set(ctx, host);
    list = list.filter((s) => members.has(s.domain.uuid) === wanted);
  }
  if (filter?.state != null) {
    const states = new Set<string>(filter.state);
    const runtimes = await Promise.all(list.map((s) => runtimeOf(ctx, s)));
    list = list.filter((_s, i) => states.has(runtimes[i]?.state ?? 'UNKNOWN'));
  }
  return list;
}

filteredListFields(Host, {
  kind: 'Domain',
  node: DomainNode,
  filter: DomainFilter,
  filterDescription: 'Conditions the domains must meet.',
  authScopes: somewhereOnParentHost('VM.Audit'),
  list: {
    field: 'domains',
    description: 'Domains of this host, every one or those the filter keeps, in libvirt’s order.',
  },
  connection: {
    field: 'domainConnection',
    description:
      'Domains of this host a page at a time (Relay cursor connection), ordered by name then UUID; filter to narrow them. A page costs libvirt the same calls as the whole `domains` list, and reads XML only for the domains on it.',
    one: 'domain',
    many: 'domains',
    totalCount: 'How many domains match the filter, on every page (only those the caller may see).',
  },
  read: (h, filter, ctx) => filtered(ctx, h.name, filter),
  prefetch: (list, fields, ctx) =>
    prefetchDomains(ctx, list, {
      runtime: RUNTIME_FIELDS.some((f) => fields.has(f)),
      definition: DEFINITION_FIELDS.some((f) => fields.has(f)),
    }),
  sortKey: (s) => [s.domain.name, s.domain.uuid],
  orders: {
    STATE: {
      description: 'The state, in libvirt’s order (virDomainState: RUNNING, BLOCKED, PAUSED, SHUTDOWN, SHUTOFF…).',
      value: async (s, ctx) => stateNumber((await runtimeOf(ctx, s)).state),
    },
    MEMORY: {
      description: 'The memory it has now (KiB; the maximum for a shut-off domain).',
      value: async (s, ctx) => Number((await runtimeOf(ctx, s)).memoryKiB),
    },
    MAX_MEMORY: {
      description: 'Its maximum memory (KiB).',
      value: async (s, ctx) => Number((await runtimeOf(ctx, s)).maxMemoryKiB),
    },
    VCPUS: { description: 'Its vCPU count.', value: async (s, ctx) => (await runtimeOf(ctx, s)).vcpus },
  },
});

/** Domain fields that read the runtime snapshot (runtimeOf). */
const RUNTIME_FIELDS = ['state', 'stateReason', 'cpuTimeNs', 'cpuTimeSeconds', 'vcpus', 'memoryKiB', 'maxMemoryKiB'];
/** Domain fields that read the live definition (domainDefinition). */
const DEFINITION_FIELDS = [
  'maxVcpus',
  'osType',
  'description',
  'title',
  'disks',
  'interfaces',
  'interface',
  'graphics',
];

/** libvirt's number of a state (virDomainState); a state it does not name sorts last. */
function stateNumber(state: string): number {
  return (DomainStateTable as Record<string, number>)[state] ?? Number.MAX_SAFE_INTEGER;
}
