import type { Privilege } from '../../auth/privileges.ts';
import type { Connection, LibvirtError, ListFilter } from '../../libvirt/index.ts';
import type { GatewayContext } from './context.ts';
import { notFound } from './errors.ts';
import { connectionOf } from './hosts.ts';
import { hostKey, hostLoader, perHost, splitHostKey } from './request-cache.ts';

export interface Shaped<O> {
  host: string;
  object: O;
}

/**
 * The per-request reads every listable libvirt object shares: one list per host (which
 * also answers lookups by key), membership in filtered lists (active, persistent,
 * autostart: one list call each), and XML batched into one call per host.
 */
export function objectCache<O>(options: {
  kind: string;
  /** What reading one of these objects needs, checked on its key (its name): without it the object is not there for the caller. */
  audit: Privilege;
  list: (c: Connection, filter?: ListFilter) => Promise<O[]>;
  key: (o: O) => string;
  xmlMany: (objects: O[]) => Promise<Array<string | LibvirtError>>;
}) {
  const { kind, audit, list, key, xmlMany } = options;
  const all_ = perHost(async (ctx, host): Promise<Array<Shaped<O>>> => {
    const connection = await connectionOf(ctx, host);
    if (!ctx.identity.canSome(audit, host)) return [];
    // What the caller may not audit is not there for it: absent from lists, NOT_FOUND by key.
    return (await list(connection))
      .filter((object) => ctx.identity.can(audit, host, key(object)))
      .map((object) => ({ host, object }));
  });
  const filtered = (filter: ListFilter) =>
    perHost(async (ctx, host) => new Set((await list(await connectionOf(ctx, host), filter)).map(key)));
  const sets = { active: filtered('active'), persistent: filtered('persistent'), autostart: filtered('autostart') };
  const byKey = hostLoader<Shaped<O>>(async (ctx, host, keys) => {
    const found = new Map((await all_(ctx, host)).map((s) => [key(s.object), s]));
    return keys.map((k) => found.get(k) ?? notFound(kind, k, { host }));
  });
  const xml = hostLoader<string>(async (ctx, host, keys) => {
    const shapes = await byKey(ctx).loadMany(keys.map((k) => hostKey(host, k)));
    const present = shapes.filter((s): s is Shaped<O> => !(s instanceof Error));
    const xmls = await xmlMany(present.map((s) => s.object));
    const byObject = new Map(present.map((s, i) => [key(s.object), xmls[i]]));
    return shapes.map((s) => (s instanceof Error ? s : (byObject.get(key(s.object)) as string | Error)));
  });
  const find = (ctx: GatewayContext, host: string, k: string) => byKey(ctx).load(hostKey(host, k));
  const is = (flag: keyof typeof sets) => async (s: Shaped<O>, _args: unknown, ctx: GatewayContext) =>
    (await sets[flag](ctx, s.host)).has(key(s.object));
  return {
    /** Every object of the host, listed once per request. */
    all: all_,
    /** The host's objects, or only its active ones. */
    list: async (ctx: GatewayContext, host: string, all: boolean) => {
      const list = await all_(ctx, host);
      if (all) return list;
      const active = await sets.active(ctx, host);
      return list.filter((s) => active.has(key(s.object)));
    },
    /** The listed object with this key, or NOT_FOUND. */
    find,
    /** A node ref's `load`: the object of each host key, or its error in its slot. */
    load: (keys: string[], ctx: GatewayContext) =>
      Promise.all(keys.map((k) => find(ctx, ...splitHostKey(k)).catch((e: Error) => e))),
    is,
    xml: (ctx: GatewayContext, s: Shaped<O>) => xml(ctx).load(hostKey(s.host, key(s.object))),
  };
}
