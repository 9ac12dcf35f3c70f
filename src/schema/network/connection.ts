import { somewhereOnParentHost } from '../core/auth-scopes.ts';
import { builder } from '../core/builder.ts';
import type { GatewayContext } from '../core/context.ts';
import { definitionFilterFields, filteredListFields, keepFlagged, nameFilterFields } from '../core/filtered-list.ts';
import { Host } from '../core/hosts.ts';
import { nameMatcher } from '../core/keyset-connection.ts';
import { NetworkNode, type NetworkShape, networks } from './network.ts';

const NetworkFilter = builder.inputType('NetworkFilter', {
  description: 'Which networks a connection returns: every condition given must hold.',
  fields: (t) => ({
    ...nameFilterFields(t),
    active: t.boolean({ description: 'Only started networks when true, only stopped ones when false.' }),
    ...definitionFilterFields(t, 'networks'),
  }),
});

type Filter = typeof NetworkFilter.$inferInput;

/** The networks matching the filter: the host's list, and one list call per flag asked about. */
async function filtered(ctx: GatewayContext, host: string, filter: Filter | null | undefined): Promise<NetworkShape[]> {
  const named = nameMatcher(filter);
  const list = (await networks.all(ctx, host)).filter((s) => named(s.object.name));
  return keepFlagged(ctx, list, filter, ['active', 'autostart', 'persistent'] as const, networks.is);
}

filteredListFields(Host, {
  kind: 'Network',
  node: NetworkNode,
  filter: NetworkFilter,
  filterDescription: 'Conditions the networks must meet.',
  authScopes: somewhereOnParentHost('Network.Audit'),
  list: { field: 'networks', description: 'Virtual networks of this host, every one or those the filter keeps.' },
  connection: {
    field: 'networkConnection',
    description:
      'Virtual networks of this host a page at a time (Relay cursor connection), ordered by name then UUID; filter to narrow them.',
    one: 'network',
    many: 'virtual networks',
    totalCount: 'How many networks match the filter, on every page.',
  },
  read: (h, filter, ctx) => filtered(ctx, h.name, filter),
  sortKey: (s) => [s.object.name, s.object.uuid],
  // By name only, either way: what else libvirt knows of a network is not an order.
  orders: {},
});
