import type { Privilege } from '../../auth/privileges.ts';
import { LibvirtError, type StorageVolTypeName, Volume, type VolumeInfo } from '../../libvirt/index.ts';
import { parseVolumeXml } from '../../libvirt/xml/volume-xml.ts';
import { onObject, somewhereOnHostNamed, somewhereOnParentHost } from '../core/auth-scopes.ts';
import { builder, keyOfGlobalId } from '../core/builder.ts';
import type { GatewayContext } from '../core/context.ts';
import { describedEnum, knownName } from '../core/enum-types.ts';
import { invalidInput, notFound } from '../core/errors.ts';
import { hostedObjectFields } from '../core/hosted-object.ts';
import { connectionOf, Host, hostName } from '../core/hosts.ts';
import { impliedHostOf } from '../core/mutation-support.ts';
import { bigIntFields } from '../core/read-fields.ts';
import { hostKey, hostLoader, loadByHost, perHost, perObject } from '../core/request-cache.ts';
import { volumeHiddenFrom } from '../core/storage-visibility.ts';
import { type PoolShape, pools, StoragePoolNode, volumesOf } from './pool.ts';

export interface VolumeShape {
  host: string;
  object: Volume;
  /** Known when the volume was found by listing its pool. */
  pool?: PoolShape;
}

const volumeKey = (s: VolumeShape) => hostKey(s.host, s.object.key);

/** Every volume of every active pool of a host: two calls (list pools, list their volumes). */
const allVolumes = perHost(async (ctx, host): Promise<VolumeShape[]> => {
  const active = await pools.list(ctx, host, false);
  const lists = await Promise.all(active.map((p) => volumesOf(ctx, p)));
  return lists.flat();
});

function isMissing(e: unknown): boolean {
  return e instanceof LibvirtError && e.codeName === 'NO_STORAGE_VOL';
}

/** Lookups by path or by key: one lookup for one key, the listing for several; null for what the caller may not see. */
function volumeLoader(field: 'path' | 'key') {
  return hostLoader<VolumeShape | null>(async (ctx, host, keys) => {
    if (!ctx.identity.canSome('Storage.Audit', host)) return keys.map(() => null);
    if (keys.length === 1) {
      const c = await connectionOf(ctx, host);
      const k = keys[0] as string;
      let found: VolumeShape;
      try {
        found = { host, object: await (field === 'path' ? c.volumeByPath(k) : c.volumeByKey(k)) };
      } catch (e) {
        return [isMissing(e) ? null : (e as Error)];
      }
      return [(await isVisible(ctx, found)) ? found : null];
    }
    // The listing holds the volumes of the pools the caller may audit only.
    const listed = await allVolumes(ctx, host);
    const hidden = await Promise.all(listed.map((s) => volumeHiddenFrom(ctx, host, s.object.path)));
    const found = new Map(listed.filter((_s, i) => !hidden[i]).map((s) => [s.object[field], s]));
    return keys.map((k) => found.get(k) ?? null);
  });
}

/**
 * Whether the caller may see a volume: Storage.Audit on its pool, and no domain it may not see
 * uses it as a disk (issue 18: the volume of a domain it cannot see is not there for it).
 */
async function isVisible(ctx: GatewayContext, s: VolumeShape): Promise<boolean> {
  if (!ctx.identity.canAll('Storage.Audit', s.host)) {
    const pool = await poolOf(ctx, s);
    if (!ctx.identity.can('Storage.Audit', s.host, pool.object.name)) return false;
  }
  return !(await volumeHiddenFrom(ctx, s.host, s.object.path));
}

/** The volume as the caller may see it, or null: for volumes found other than by path or key (a disk's `<source pool volume>`). */
export async function visibleVolume(ctx: GatewayContext, s: VolumeShape): Promise<VolumeShape | null> {
  return (await isVisible(ctx, s)) ? s : null;
}

/** The volumes the caller may see among those of pools it may audit: without those domains it cannot see use. */
export async function unhidden(ctx: GatewayContext, list: VolumeShape[]): Promise<VolumeShape[]> {
  const hidden = await Promise.all(list.map((s) => volumeHiddenFrom(ctx, s.host, s.object.path)));
  return list.filter((_s, i) => !hidden[i]);
}

const byPath = volumeLoader('path');
const byKey = volumeLoader('key');

/** The pool volume at a path, or null when no pool holds that path (a plain file or device). */
export function volumeAtPath(ctx: GatewayContext, host: string, path: string): Promise<VolumeShape | null> {
  return byPath(ctx).load(hostKey(host, path));
}

const info = perObject<VolumeShape, VolumeInfo>(volumeKey, (shapes: readonly VolumeShape[]) =>
  Volume.infoMany(shapes.map((s) => s.object)),
);
const xml = perObject<VolumeShape, string>(volumeKey, (shapes: readonly VolumeShape[]) =>
  Volume.xmlMany(shapes.map((s) => s.object)),
);

/** The pool that holds a volume (the one it was listed in, or libvirt's answer), batched per request. */
export const poolOf = perObject(volumeKey, (shapes: readonly VolumeShape[]) =>
  Promise.all(
    shapes.map(async (s) => {
      if (s.pool) return s.pool;
      const pool = await s.object.pool().catch((e: Error) => e);
      return pool instanceof Error ? pool : { host: s.host, object: pool };
    }),
  ),
);

export const VolumeNode = builder.loadableNodeRef('Volume', {
  id: { resolve: (s: VolumeShape) => volumeKey(s) },
  load: (keys: string[], ctx: GatewayContext) =>
    loadByHost(ctx, keys, async (ctx, host, volumeKeys) => {
      const found = await byKey(ctx).loadMany(volumeKeys.map((k) => hostKey(host, k)));
      return found.map((s, i) => s ?? notFound('volume', volumeKeys[i] as string, { host }));
    }),
});

hostedObjectFields(VolumeNode, 'Its name, unique within its pool.');
/** virStorageVolType, described. */
const VOLUME_TYPES = {
  FILE: 'A regular file.',
  BLOCK: 'A block device.',
  DIR: 'A directory.',
  NETWORK: 'A network volume (RBD, Gluster, Sheepdog…).',
  NETDIR: 'A network-accessible directory.',
  PLOOP: 'A Virtuozzo ploop image.',
} as const satisfies Record<StorageVolTypeName, string>;
const VolumeType = describedEnum('VolumeType', 'What a volume is on the host (virStorageVolType).', VOLUME_TYPES);

VolumeNode.implement({
  description: 'A storage volume. Identity is its key; sizes are in bytes.',
  fields: (t) => ({
    key: t.string({
      nullable: false,
      description: 'libvirt’s unique key for the volume.',
      resolve: (s) => s.object.key,
    }),
    path: t.string({ nullable: false, description: 'Where the volume is on the host.', resolve: (s) => s.object.path }),
    type: t.field({
      type: VolumeType,
      description: 'What it is on the host (virStorageVolType); null for a type the gateway does not know.',
      resolve: async (s, _a, ctx) => knownName(VOLUME_TYPES, (await info(ctx, s)).type),
    }),
    ...bigIntFields(t, info, {
      capacityBytes: 'Size the guest sees, in bytes.',
      allocationBytes: 'Bytes allocated on the host.',
    }),
    format: t.string({
      description: 'Image format: raw, qcow2…',
      resolve: async (s, _a, ctx) => parseVolumeXml(await xml(ctx, s)).format ?? null,
    }),
    xml: t.string({ description: 'The volume XML.', resolve: (s, _a, ctx) => xml(ctx, s) }),
    pool: t.field({
      type: StoragePoolNode,
      description: 'The pool that holds it.',
      resolve: (s, _a, ctx) => poolOf(ctx, s),
    }),
  }),
});

export const VolumeRef = builder.inputType('VolumeRef', {
  description:
    'One volume by exactly one of its global ID, path or key. A global ID names its host: a mutation’s host is then implied, and a different host is INVALID_INPUT.',
  isOneOf: true,
  fields: (t) => ({
    id: t.id({ description: 'The global ID, as `Volume.id` gives it.' }),
    path: t.string({ description: 'The path on the host, e.g. /var/lib/libvirt/images/disk.qcow2.' }),
    key: t.string({ description: 'libvirt’s volume key.' }),
  }),
});

/** A VolumeRef by path or key: its global ID (checked against `host`) becomes the key it names. */
export function plainVolumeRef(
  host: string,
  ref: { id?: string | null; path?: string | null; key?: string | null },
): { path?: string | null; key?: string | null } {
  return ref.id != null ? { key: keyOfGlobalId(String(ref.id), 'Volume', host, 'ref.id') } : ref;
}

/** A volume by ref (global ID, path or key); NOT_FOUND when the host has none the caller may see. */
export async function findVolume(
  ctx: GatewayContext,
  host: string,
  given: { id?: string | null; path?: string | null; key?: string | null },
) {
  const ref = plainVolumeRef(host, given);
  const found =
    ref.path != null
      ? await byPath(ctx).load(hostKey(host, ref.path))
      : ref.key != null
        ? await byKey(ctx).load(hostKey(host, ref.key))
        : Promise.reject(invalidInput('ref', 'give exactly one of id, path or key'));
  if (!found) throw notFound('volume', String(ref.path ?? ref.key), { host });
  return found;
}

builder.objectField(Host, 'volume', (t) =>
  t.field({
    authScopes: somewhereOnParentHost('Storage.Audit'),
    type: VolumeNode,
    description: 'One volume by path or key; a NOT_FOUND error when there is none.',
    args: { ref: t.arg({ type: VolumeRef, required: true, description: 'The volume: by path or key.' }) },
    resolve: (h, args, ctx) => findVolume(ctx, h.name, args.ref),
  }),
);

builder.queryFields((t) => ({
  volume: t.field({
    // Storage.Audit somewhere on the host the ref implies; the pool's own check follows in findVolume.
    authScopes: (parent, args, ctx) =>
      somewhereOnHostNamed('Storage.Audit')(parent, { host: impliedHostOf(args.host, args.ref) }, ctx),
    type: VolumeNode,
    description: 'One volume of a host (the default host when omitted).',
    args: {
      host: t.arg.string({ description: 'Registry name of the host; the default host when omitted.' }),
      ref: t.arg({ type: VolumeRef, required: true, description: 'The volume: by path or key.' }),
    },
    resolve: (_root, args, ctx) => findVolume(ctx, hostName(ctx, impliedHostOf(args.host, args.ref)), args.ref),
  }),
}));

type VolumeRefValue = { id?: string | null; path?: string | null; key?: string | null };

/** authScopes: a Storage privilege on the pool of the volume `ref` names (NOT_FOUND when the caller may not see it). */
export function onVolumeRef(privilege: Privilege) {
  return onObject(privilege, 'pool', async (ctx, host, args: { host?: string | null; ref: VolumeRefValue }) => {
    const s = await findVolume(ctx, host, args.ref);
    return (await poolOf(ctx, s)).object.name;
  });
}

/** Size and type of a volume, batched with every other volume the request reads. */
export function volumeInfo(ctx: GatewayContext, s: VolumeShape): Promise<VolumeInfo> {
  return info(ctx, s);
}
