import type { ObjectRef } from '@pothos/core';
import type { Privilege } from '../../auth/privileges.ts';
import { somewhereOnHostNamed, somewhereOnParentHost } from './auth-scopes.ts';
import { builder } from './builder.ts';
import type { GatewayContext } from './context.ts';
import { Host, hostName } from './hosts.ts';

// The fields of a libvirt object that lives on a host (a network, a pool, a volume, a host
// interface): its host and name, its UUID, and its lookups by name from a host and from Query.

type Types = typeof builder extends PothosSchemaTypes.SchemaBuilder<infer T> ? T : never;

/**
 * The lookups by name a listed kind declares: `Host.<field>(name)` on a host, and
 * `Query.<field>(host, name)` on a host named (the default host when omitted).
 */
export function byNameFields<Item>(o: {
  field: string;
  node: ObjectRef<Types, Item | string, Item>;
  privilege: Privilege;
  onHost: string;
  onQuery: string;
  nameDescription: string;
  find: (ctx: GatewayContext, host: string, name: string) => Promise<Item>;
}): void {
  // Pothos cannot resolve its result type while `Item` is still generic; `node` ties them.
  const find = (ctx: GatewayContext, host: string, name: string) => o.find(ctx, host, name) as never;
  builder.objectFields(Host, (t) => ({
    [o.field]: t.field({
      authScopes: somewhereOnParentHost(o.privilege),
      type: o.node,
      description: o.onHost,
      args: { name: t.arg.string({ required: true, description: o.nameDescription }) },
      resolve: (h, args, ctx) => find(ctx, h.name, args.name),
    }),
  }));
  builder.queryFields((t) => ({
    [o.field]: t.field({
      authScopes: somewhereOnHostNamed(o.privilege),
      type: o.node,
      description: o.onQuery,
      args: {
        host: t.arg.string({ description: 'Registry name of the host; the default host when omitted.' }),
        name: t.arg.string({ required: true, description: o.nameDescription }),
      },
      resolve: (_root, args, ctx) => find(ctx, hostName(ctx, args.host), args.name),
    }),
  }));
}

/**
 * The fields every listed libvirt object starts with: the host it is on and its name
 * (`nameDescription` says where the name is unique).
 */
export function hostedObjectFields<S extends { host: string; object: { name: string } }>(
  node: ObjectRef<Types, S | string, S>,
  nameDescription: string,
): void {
  builder.objectFields(node, (t) => ({
    host: t.field({
      type: Host,
      nullable: false,
      description: 'The host it is on.',
      resolve: (s) => ({ name: s.host }),
    }),
    name: t.string({ nullable: false, description: nameDescription, resolve: (s) => s.object.name }),
  }));
}

/** The UUID field of the objects libvirt identifies by UUID (networks, pools). */
export function uuidField<S extends { object: { uuid: string } }>(node: ObjectRef<Types, S | string, S>): void {
  builder.objectField(node, 'uuid', (t) =>
    t.string({ nullable: false, description: 'Its UUID: its identity on the host.', resolve: (s) => s.object.uuid }),
  );
}
