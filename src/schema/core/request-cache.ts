import { fileURLToPath } from 'node:url';
import { type ContextCache, createContextCache } from '@pothos/core';
import { clearAllDataLoaders } from '@pothos/plugin-dataloader';
import DataLoader from 'dataloader';
import { isTracing, withSpan } from '../../tracing/tracing.ts';
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

/**
 * Where a loader is defined (`schema/domain/domain.ts:80`), from a stack taken there: its name in trace
 * spans. Read only while tracing; `frame` counts from the function that made the Error.
 */
function siteOf(made: Error, frame: number): string {
  const line = made.stack?.split('\n')[frame + 1] ?? '';
  for (const root of CODE_ROOTS) {
    const start = line.indexOf(root);
    if (start === -1) continue;
    const at = /^(.+?):(\d+):\d+\)?\s*$/.exec(line.slice(start + root.length));
    if (at) return `${at[1]}:${at[2]}`;
  }
  return 'unknown';
}

/**
 * The directory the running code sits in (src/ under tsx, dist/ when built, wherever it is installed), as
 * stacks spell it: a path, or a file URL for ES modules. Two levels above this file.
 */
const CODE_ROOTS = (() => {
  const url = new URL('../../', import.meta.url);
  return [url.href, fileURLToPath(url)];
})();

/** The definition site of the loader whose factory calls this, as a lazy label (see siteOf). */
function loaderSite(): () => string {
  const made = new Error();
  let name: string | undefined;
  return () => {
    name ??= siteOf(made, 2);
    return name;
  };
}

/** A span for one batch of a loader on one host: how many keys, from which loader. */
function batchSpan<T>(loader: () => string, host: string | undefined, size: number, run: () => Promise<T>) {
  return withSpan(
    `loader ${loader()}`,
    () => ({
      'virtql.loader': loader(),
      'virtql.batch.size': size,
      ...(host === undefined ? {} : { 'virtql.host': host }),
    }),
    run,
  );
}

/**
 * Runs `load` once per host over that host's keys; results come back in the keys' order.
 * `name` labels its trace spans (the caller's file and line when omitted).
 */
export async function loadByHost<V>(
  ctx: GatewayContext,
  hostKeys: readonly string[],
  load: (ctx: GatewayContext, host: string, keys: string[]) => Promise<Array<V | Error>>,
  name?: string,
): Promise<Array<V | Error>> {
  const site = isTracing() && name === undefined ? siteOf(new Error(), 1) : undefined;
  const label = () => name ?? site ?? 'unknown';
  const groups = new Map<string, number[]>();
  hostKeys.forEach((k, i) => {
    const [host] = splitHostKey(k);
    const indexes = groups.get(host);
    if (indexes === undefined) groups.set(host, [i]);
    else indexes.push(i);
  });
  const out: Array<V | Error> = new Array(hostKeys.length);
  await Promise.all(
    [...groups].map(async ([host, indexes]) => {
      const keys = indexes.map((i) => splitHostKey(hostKeys[i] as string)[1]);
      let values: Array<V | Error>;
      try {
        values = await batchSpan(label, host, keys.length, () => load(ctx, host, keys));
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
  const label = loaderSite();
  return perRequest(
    (ctx) =>
      new DataLoader<string, V>((hostKeys) => loadByHost(ctx, hostKeys, load, isTracing() ? label() : undefined)),
  );
}

/** A per-request memo of one value per host (a list, a stats snapshot...). */
export function perHost<V>(
  load: (ctx: GatewayContext, host: string) => Promise<V>,
  options: { keep?: boolean } = {},
): (ctx: GatewayContext, host: string) => Promise<V> {
  const memo = perRequest(() => new Map<string, Promise<V>>(), options);
  const label = loaderSite();
  return (ctx, host) => {
    const m = memo(ctx);
    let p = m.get(host);
    if (!p) {
      p = batchSpan(label, host, 1, () => load(ctx, host));
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
  const label = loaderSite();
  const traced = (shapes: readonly S[]) => batchSpan(label, undefined, shapes.length, () => batch(shapes));
  const loader = perRequest(() => new DataLoader<S, V, string>(traced, { cacheKeyFn: cacheKey }));
  return (ctx, s) => loader(ctx).load(s);
}
