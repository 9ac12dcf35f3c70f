import type { InputObjectRef, ObjectRef } from '@pothos/core';
import type { GraphQLResolveInfo } from 'graphql';
import { builder } from './builder.ts';
import type { GatewayContext } from './context.ts';
import { keysetConnection, type SortKey } from './keyset-connection.ts';
import { selectedFields } from './selection.ts';

type Types = typeof builder extends PothosSchemaTypes.SchemaBuilder<infer T> ? T : never;

/** What a parent's list of one kind of object declares: the nouns, the docs, and how to read and sort it. */
export interface FilteredListOptions<Parent, Item, Filter> {
  /** The object's type name: it names `<kind>Connection`, `<kind>Edge` and the connection's cursors. */
  kind: string;
  node: ObjectRef<Types, Item | string, Item>;
  filter: InputObjectRef<Types, Filter>;
  filterDescription: string;
  /** The scope both fields require, if any (as `somewhereOnParentHost` gives it). */
  authScopes?: (parent: Parent, args: object, ctx: GatewayContext) => object;
  /** The plain list field, when the parent has none of its own (Domain.snapshots keeps its rootsOnly). */
  list?: { field: string; description: string };
  /**
   * The connection field; `one` and `many` name the objects in its page and edge descriptions
   * ("A page of <many>.", "A <one> on a page, with the cursor of its place.").
   */
  connection: { field: string; description: string; one: string; many: string; totalCount: string };
  /** The objects the filter keeps, in the plain list's order. */
  read: (parent: Parent, filter: Filter | null | undefined, ctx: GatewayContext) => Promise<Item[]>;
  sortKey: (item: Item) => SortKey;
  /**
   * Loads ahead, in one batch, what `fields` (the names asked of each item) will read of the
   * items a list or a page returns, so that those fields resolve at once.
   */
  prefetch?: (items: readonly Item[], fields: Set<string>, ctx: GatewayContext) => Promise<void>;
  /**
   * The connection's `orderBy` fields beyond NAME (the default): each reads the value objects are
   * ordered by (ties then go by name and identity).
   */
  orders?: Record<
    string,
    { description: string; value: (item: Item, ctx: GatewayContext) => Promise<string | number> }
  >;
}

export const OrderDirection = builder.enumType('OrderDirection', {
  description: 'Which way a connection’s orderBy runs.',
  values: {
    ASC: { description: 'Smallest first (A to Z, lowest state number, least memory).' },
    DESC: { description: 'Largest first.' },
  } as const,
});

interface OrderValue {
  field: string;
  direction?: 'ASC' | 'DESC' | null;
}

/** The `<kind>Order` input of a connection with `orders`: a field (NAME and the listed ones) and a direction. */
function orderInput(kind: string, orders: NonNullable<FilteredListOptions<unknown, unknown, unknown>['orders']>) {
  const field = builder.enumType(`${kind}OrderField`, {
    description: `What a ${kind} connection can be ordered by.`,
    values: {
      NAME: { description: 'The name (by code unit, as cursors compare).' },
      ...Object.fromEntries(Object.entries(orders).map(([name, o]) => [name, { description: o.description }])),
    },
  });
  return builder.inputRef<OrderValue>(`${kind}Order`).implement({
    description: `How a ${kind} connection is ordered; ties go by name, then identity (both reversed with DESC).`,
    fields: (t) => ({
      field: t.field({ type: field, required: true, description: 'What to order by.' }),
      direction: t.field({
        type: OrderDirection,
        defaultValue: 'ASC',
        description: 'Ascending (the default) or descending. @default ASC',
      }),
    }),
  });
}

/**
 * A plain list field and a Relay connection field over the same filtered objects, as every
 * listed kind (domains, networks, volumes) declares them: the connection pages the list the
 * plain field returns, ordered by name then identity.
 */
export function filteredListFields<Parent, Item, Filter>(
  parent: ObjectRef<Types, unknown, Parent>,
  o: FilteredListOptions<Parent, Item, Filter>,
): void {
  const scopes = o.authScopes ? { authScopes: o.authScopes as never } : {};
  // Pothos cannot narrow its mapped argument type while `Filter` is still generic.
  const filterOf = (args: object) => (args as { filter?: Filter | null }).filter;
  const order = o.orders ? orderInput(o.kind, o.orders as never) : undefined;
  const prefetched = async <T>(items: readonly Item[], fields: Set<string>, ctx: GatewayContext, value: T) => {
    if (o.prefetch && items.length > 0) await o.prefetch(items, fields, ctx);
    return value;
  };
  /** The page of the filtered list, in the order asked (by name when none). */
  const page = async (p: Parent, args: object, ctx: GatewayContext, info: GraphQLResolveInfo) => {
    const connection = await ordered(p, args, ctx);
    const onPage = connection.edges.flatMap((e) => (e?.node == null ? [] : [e.node as Item]));
    return prefetched(onPage, selectedFields(info, ['nodes'], ['edges', 'node']), ctx, connection);
  };
  const ordered = async (p: Parent, args: object, ctx: GatewayContext) => {
    const items = await o.read(p, filterOf(args), ctx);
    const asked = (args as { orderBy?: OrderValue | null }).orderBy;
    const by = asked && asked.field !== 'NAME' ? o.orders?.[asked.field] : undefined;
    const descending = asked?.direction === 'DESC';
    if (!asked || (!by && !descending)) return keysetConnection(o.kind, args, items, o.sortKey);
    const values = new Map<Item, string | number>();
    if (by) await Promise.all(items.map(async (item) => values.set(item, await by.value(item, ctx))));
    const keyOf = (item: Item) => [by ? (values.get(item) as string | number) : '', ...o.sortKey(item)];
    return keysetConnection(o.kind, args, items, keyOf, {
      tag: `${asked.field}_${asked.direction ?? 'ASC'}`,
      descending,
    });
  };
  builder.objectFields(parent, (t) => ({
    ...(o.list
      ? {
          [o.list.field]: t.field({
            ...scopes,
            type: [o.node],
            description: o.list.description,
            args: { filter: t.arg({ type: o.filter, description: o.filterDescription }) },
            resolve: async (p, args, ctx, info) => {
              const items = await o.read(p, filterOf(args), ctx);
              return prefetched(items, selectedFields(info), ctx, items);
            },
          }),
        }
      : {}),
    [o.connection.field]: t.connection(
      {
        ...scopes,
        type: o.node,
        description: o.connection.description,
        args: {
          filter: t.arg({ type: o.filter, description: o.filterDescription }),
          ...(order
            ? { orderBy: t.arg({ type: order, description: 'The order of the pages; by name when omitted.' }) }
            : {}),
        },
        resolve: (p, args, ctx, info) => page(p, args, ctx, info),
      },
      {
        name: `${o.kind}Connection`,
        description: `A page of ${o.connection.many}.`,
        fields: (c) => ({
          nodes: c.field({
            type: [o.node],
            nullable: false,
            description: `The ${o.connection.many} of this page, in order: the edges' nodes without their cursors.`,
            resolve: (connection) => connection.edges.map((e) => e?.node).filter((n) => n != null) as never,
          }),
          totalCount: c.int({
            nullable: false,
            description: o.connection.totalCount,
            resolve: (connection) => connection.totalCount,
          }),
        }),
      },
      { name: `${o.kind}Edge`, description: `A ${o.connection.one} on a page, with the cursor of its place.` },
    ),
  }));
}

type InputFields = PothosSchemaTypes.InputFieldBuilder<Types, 'InputObject'>;

/** The name conditions every list filter starts with; `nameMatcher` applies them. */
export const nameFilterFields = (t: InputFields) => ({
  nameContains: t.string({ description: 'Only names containing this text, ignoring case.' }),
  nameGlob: t.string({
    description: 'Only names matching this glob (`*` any run, `?` one character; case-sensitive, as in grants).',
  }),
});

/** The conditions on libvirt's autostart and persistent flags, worded for `plural` (`domains`, `pools`). */
export const definitionFilterFields = (t: InputFields, plural: string) => ({
  autostart: t.boolean({
    description: `Only ${plural} the host starts at boot when true, only the others when false.`,
  }),
  persistent: t.boolean({
    description: `Only ${plural} with a persistent definition when true, only transient ones when false.`,
  }),
});

/**
 * The objects of `list` whose libvirt flags are what the filter asks (`active`, `autostart`,
 * `persistent`): one read of each flag asked about, through the object cache's `is`.
 */
export async function keepFlagged<S, F extends string>(
  ctx: GatewayContext,
  list: S[],
  filter: Partial<Record<F, boolean | null>> | null | undefined,
  flags: readonly F[],
  is: (flag: F) => (s: S, args: object, ctx: GatewayContext) => Promise<boolean>,
): Promise<S[]> {
  let kept = list;
  for (const flag of flags) {
    const wanted = filter?.[flag];
    if (wanted == null) continue;
    const has = await Promise.all(kept.map((s) => is(flag)(s, {}, ctx)));
    kept = kept.filter((_s, i) => has[i] === wanted);
  }
  return kept;
}
