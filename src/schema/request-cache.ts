import { type ContextCache, createContextCache } from '@pothos/core';
import { clearAllDataLoaders } from '@pothos/plugin-dataloader';
import DataLoader from 'dataloader';
import type { GatewayContext } from './context.ts';

const caches: Array<ContextCache<unknown, GatewayContext, []>> = [];

/**
 * Something created once per request (a loader, a memo), keyed by the request's context.
 * forgetReads drops it unless `keep`: for what a change does not touch, such as the connection.
 */
export function perRequest<T>(
  create: (ctx: GatewayContext) => T,
  options: { keep?: boolean } = {},
): (ctx: GatewayContext) => T {
  const cache = createContextCache((ctx: GatewayContext) => create(ctx));
  if (!options.keep) caches.push(cache);
  return cache;
}

/** Forgets everything this request has read, so what a mutation returns is read afresh. */
export function forgetReads(ctx: GatewayContext): void {
  for (const cache of caches) cache.delete(ctx);
  clearAllDataLoaders(ctx);
}

const SEP = '\u001f';

/** Loader keys are "host␟key": one loader serves every host, batches split by host. */
export function hostKey(host: string, key: string): string {
  return `${host}${SEP}${key}`;
}

export function splitHostKey(k: string): [host: string, key: string] {
  const i = k.indexOf(SEP);
  return [k.slice(0, i), k.slice(i + 1)];
}

/** Runs `load` once per host over that host's keys; results come back in the keys' order. */
export async function loadByHost<V>(
  ctx: GatewayContext,
  hostKeys: readonly string[],
  load: (ctx: GatewayContext, host: string, keys: string[]) => Promise<Array<V | Error>>,
): Promise<Array<V | Error>> {
  const groups = new Map<string, number[]>();
  hostKeys.forEach((k, i) => {
    const [host] = splitHostKey(k);
    groups.set(host, [...(groups.get(host) ?? []), i]);
  });
  const out: Array<V | Error> = new Array(hostKeys.length);
  await Promise.all(
    [...groups].map(async ([host, indexes]) => {
      const keys = indexes.map((i) => splitHostKey(hostKeys[i] as string)[1]);
      let values: Array<V | Error>;
      try {
        values = await load(ctx, host, keys);
      } catch (e) {
        values = keys.map(() => (e instanceof Error ? e : new Error(String(e))));
      }
      indexes.forEach((i, j) => {
        out[i] = values[j] as V | Error;
      });
    }),
  );
  return out;
}

/**
 * A per-request DataLoader keyed by hostKey(). The batch function sees one host's keys at a
 * time and returns a value or an Error per key, in order; a host that fails fails its keys only.
 */
export function hostLoader<V>(
  load: (ctx: GatewayContext, host: string, keys: string[]) => Promise<Array<V | Error>>,
): (ctx: GatewayContext) => DataLoader<string, V> {
  return perRequest((ctx) => new DataLoader<string, V>((hostKeys) => loadByHost(ctx, hostKeys, load)));
}

/** A per-request memo of one value per host (a list, a stats snapshot...). */
export function perHost<V>(
  load: (ctx: GatewayContext, host: string) => Promise<V>,
  options: { keep?: boolean } = {},
): (ctx: GatewayContext, host: string) => Promise<V> {
  const memo = perRequest(() => new Map<string, Promise<V>>(), options);
  return (ctx, host) => {
    const m = memo(ctx);
    let p = m.get(host);
    if (!p) {
      p = load(ctx, host);
      m.set(host, p);
    }
    return p;
  };
}

/**
 * A per-request loader over objects already in hand (shapes from a list): one batch call for
 * every object a request touches, cached by `cacheKey`.
 */
export function perObject<S, V>(
  cacheKey: (s: S) => string,
  batch: (shapes: readonly S[]) => Promise<Array<V | Error>>,
): (ctx: GatewayContext, s: S) => Promise<V> {
  const loader = perRequest(() => new DataLoader<S, V, string>(batch, { cacheKeyFn: cacheKey }));
  return (ctx, s) => loader(ctx).load(s);
}
