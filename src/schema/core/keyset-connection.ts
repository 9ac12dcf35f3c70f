import { decodeBase64, encodeBase64 } from '@pothos/core';
import { type DefaultConnectionArguments, resolveCursorConnection } from '@pothos/plugin-relay';
import { invalidInput } from './errors.ts';

/** Where an object sits in a connection: its name, then an identity (UUID, volume key) for ties. */
export type SortKey = readonly [name: string, identity: string];

/** A sort key with the ordering value first (a state's number, a size): `orderBy` connections. */
type AnyKey = readonly (string | number)[];

/** An `orderBy` a connection was asked for: its tag (`MEMORY_DESC`) names it in the cursors. */
export interface KeyOrder {
  tag: string;
  descending: boolean;
}

/** The largest page a connection serves; the list-cost rule assumes it when `first`/`last` is a variable. */
export const MAX_PAGE_SIZE = 100;
/** The page size when neither `first` nor `last` is given. */
export const DEFAULT_PAGE_SIZE = 20;

/** Code-unit order (not locale order): the same on every replica and for every client. */
function compareKeys(a: AnyKey, b: AnyKey): number {
  for (let i = 0; i < a.length; i++) {
    const x = a[i] as string | number;
    const y = b[i] as string | number;
    if (x !== y) return x < y ? -1 : 1;
  }
  return 0;
}

/**
 * A cursor names the position by the sort key itself, never by an offset: objects defined or
 * removed between two page reads do not shift a client's place.
 */
function encodeCursor(kind: string, key: AnyKey): string {
  return encodeBase64(`${kind}:${JSON.stringify(key)}`);
}

/** A cursor's key, refused unless it is of this kind and order (`length` parts, strings and numbers). */
function decodeCursor(kind: string, cursor: string, field: string, length: number): AnyKey {
  const refuse = () => invalidInput(field, `is not a cursor of a ${kind} connection`);
  let text: string;
  try {
    text = decodeBase64(cursor);
  } catch {
    throw refuse();
  }
  if (!text.startsWith(`${kind}:`)) throw refuse();
  let key: unknown;
  try {
    key = JSON.parse(text.slice(kind.length + 1));
  } catch {
    throw refuse();
  }
  if (!Array.isArray(key) || key.length !== length || !key.every((k) => typeof k === 'string' || typeof k === 'number'))
    throw refuse();
  return key as AnyKey;
}

/** The index of the first key after `key` (or at it, with `inclusive`) in keys sorted ascending. */
function indexAfter(
  keys: readonly AnyKey[],
  key: AnyKey,
  inclusive: boolean,
  compare: (a: AnyKey, b: AnyKey) => number,
): number {
  let lo = 0;
  let hi = keys.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    const c = compare(keys[mid] as AnyKey, key);
    if (c < 0 || (c === 0 && !inclusive)) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Name filters every connection shares: a case-insensitive substring, and a glob as in grants. */
export interface NameFilter {
  nameContains?: string | null;
  nameGlob?: string | null;
}

/** The longest `nameContains` or `nameGlob` a filter takes. */
const MAX_NAME_FILTER = 256;

/**
 * Whether `name` matches `glob` (`*` any run, `?` one character, case-sensitive, by code point as
 * grants match). Client globs are matched in O(glob × name) steps by backtracking only to the last
 * `*`: as a regular expression, `*a*a*a…b` would take exponential time on a long name of `a`s.
 */
function matchesGlob(glob: readonly string[], name: readonly string[]): boolean {
  let g = 0;
  let n = 0;
  let star = -1;
  let resume = 0;
  while (n < name.length) {
    if (g < glob.length && (glob[g] === '?' || (glob[g] !== '*' && glob[g] === name[n]))) {
      g++;
      n++;
    } else if (g < glob.length && glob[g] === '*') {
      star = g++;
      resume = n;
    } else if (star !== -1) {
      g = star + 1;
      n = ++resume;
    } else {
      return false;
    }
  }
  while (g < glob.length && glob[g] === '*') g++;
  return g === glob.length;
}

export function nameMatcher(filter: NameFilter | null | undefined): (name: string) => boolean {
  for (const field of ['nameContains', 'nameGlob'] as const) {
    if ((filter?.[field]?.length ?? 0) > MAX_NAME_FILTER) {
      throw invalidInput(`filter.${field}`, `must be at most ${MAX_NAME_FILTER} characters`);
    }
  }
  const contains = filter?.nameContains?.toLowerCase();
  const glob = filter?.nameGlob == null ? undefined : [...filter.nameGlob];
  return (name) =>
    (contains === undefined || name.toLowerCase().includes(contains)) && (!glob || matchesGlob(glob, [...name]));
}

/**
 * A Relay connection over objects already listed (libvirt lists a host's objects in one call, so
 * the whole filtered list is in hand): sorted by name then identity, sliced by the keys the cursors
 * carry, with `totalCount` the size of the filtered list.
 */
export function keysetConnection<T>(
  kind: string,
  args: DefaultConnectionArguments,
  items: readonly T[],
  keyOf: (item: T) => AnyKey,
  order?: KeyOrder,
) {
  for (const field of ['first', 'last'] as const) {
    const size = args[field];
    if (size != null && size > MAX_PAGE_SIZE) throw invalidInput(field, `must be at most ${MAX_PAGE_SIZE}`);
    if (size != null && size < 0) throw invalidInput(field, 'must not be negative');
  }
  // An order's cursors name it (`Domain/MEMORY_DESC:`): a cursor of another order is refused.
  const tag = order ? `${kind}/${order.tag}` : kind;
  const compare = order?.descending ? (a: AnyKey, b: AnyKey) => compareKeys(b, a) : compareKeys;
  const sorted = items.map((item) => ({ item, key: keyOf(item) })).sort((a, b) => compare(a.key, b.key));
  const keys = sorted.map((s) => s.key);
  const length = keys[0]?.length ?? (order ? 3 : 2);
  const keyByItem = new Map(sorted.map((s) => [s.item, s.key]));
  const at = (cursor: string, field: string) => decodeCursor(tag, cursor, field, length);
  return resolveCursorConnection<T[]>(
    {
      args,
      defaultSize: DEFAULT_PAGE_SIZE,
      maxSize: MAX_PAGE_SIZE,
      toCursor: (item: T) => encodeCursor(tag, keyByItem.get(item) ?? keyOf(item)),
    },
    ({ before, after, limit, inverted }): T[] => {
      const start = after === undefined ? 0 : indexAfter(keys, at(after, 'after'), false, compare);
      const end = before === undefined ? keys.length : indexAfter(keys, at(before, 'before'), true, compare);
      const window = sorted.slice(start, Math.max(start, end)).map((s) => s.item);
      return inverted ? window.slice(Math.max(0, window.length - limit)).reverse() : window.slice(0, limit);
    },
  ).then((connection) => ({ ...connection, totalCount: items.length }));
}
