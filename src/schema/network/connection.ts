import { somewhereOnParentHost } from '../core/auth-scopes.ts';
import { builder } from '../core/builder.ts';
import type { GatewayContext } from '../core/context.ts';
import { Host } from '../core/hosts.ts';
import { keysetConnection, nameMatcher } from '../core/keyset-connection.ts';
import { NetworkNode, type NetworkShape, networks } from './network.ts';

const NetworkFilter = builder.inputType('NetworkFilter', {
  description: 'Which networks a connection returns: every condition given must hold.',
  fields: (t) => ({
    nameContains: t.string({ description: 'Only names containing this text, ignoring case.' }),
    nameGlob: t.string({
      description: 'Only names matching this glob (`*` any run, `?` one character; case-sensitive, as in grants).',
    }),
    active: t.boolean({ description: 'Only started networks when true, only stopped ones when false.' }),
    autostart: t.boolean({
      description: 'Only networks the host starts at boot when true, only the others when false.',
    }),
    persistent: t.boolean({
      description: 'Only networks with a persistent definition when true, only transient ones when false.',
    }),
  }),
});

type Filter = typeof NetworkFilter.$inferInput;

/** The networks matching the filter: the host's list, and one list call per flag asked about. */
async function filtered(ctx: GatewayContext, host: string, filter: Filter | null | undefined): Promise<NetworkShape[]> {
  const named = nameMatcher(filter);
  let list = (await networks.all(ctx, host)).filter((s) => named(s.object.name));
  for (const flag of ['active', 'autostart', 'persistent'] as const) {
    const wanted = filter?.[flag];
    if (wanted == null) continue;
    const has = await Promise.all(list.map((s) => networks.is(flag)(s, {}, ctx)));
    list = list.filter((_s, i) => has[i] === wanted);
  }
  return list;
}

builder.objectFields(Host, (t) => ({
  networks: t.field({
    authScopes: somewhereOnParentHost('Network.Audit'),
    type: [NetworkNode],
    description: 'Virtual networks of this host, every one or those the filter keeps.',
    args: { filter: t.arg({ type: NetworkFilter, description: 'Conditions the networks must meet.' }) },
    resolve: (h, args, ctx) => filtered(ctx, h.name, args.filter),
  }),
  networkConnection: t.connection(
    {
      authScopes: somewhereOnParentHost('Network.Audit'),
      type: NetworkNode,
      description:
        'Virtual networks of this host a page at a time (Relay cursor connection), ordered by name then UUID; filter to narrow them.',
      args: { filter: t.arg({ type: NetworkFilter, description: 'Conditions the networks must meet.' }) },
      resolve: async (h, args, ctx) =>
        keysetConnection('Network', args, await filtered(ctx, h.name, args.filter), (s) => [
          s.object.name,
          s.object.uuid,
        ]),
    },
    {
      name: 'NetworkConnection',
      description: 'A page of virtual networks.',
      fields: (c) => ({
        totalCount: c.int({
          nullable: false,
          description: 'How many networks match the filter, on every page.',
          resolve: (connection) => connection.totalCount,
        }),
      }),
    },
    { name: 'NetworkEdge', description: 'A network on a page, with the cursor of its place.' },
  ),
}));
