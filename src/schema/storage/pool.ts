import type { Privilege } from '../../auth/privileges.ts';
import { LibvirtError, StoragePool, type StoragePoolInfo } from '../../libvirt/index.ts';
import { parseStoragePoolXml } from '../../libvirt/xml/storage-pool-xml.ts';
import { onObject, somewhereOnParentHost } from '../core/auth-scopes.ts';
import { builder } from '../core/builder.ts';
import type { GatewayContext } from '../core/context.ts';
import { knownAttribute, lowerCaseEnum } from '../core/enum-types.ts';
import { definitionFilterFields, filteredListFields, keepFlagged, nameFilterFields } from '../core/filtered-list.ts';
import { byNameFields, hostedObjectFields, uuidField } from '../core/hosted-object.ts';
import { Host } from '../core/hosts.ts';
import { nameMatcher } from '../core/keyset-connection.ts';
import { objectCache, type Shaped } from '../core/object-cache.ts';
import { bigIntFields } from '../core/read-fields.ts';
import { hostKey, perObject } from '../core/request-cache.ts';
import type { VolumeShape } from './volume.ts';

export type PoolShape = Shaped<StoragePool>;

export const pools = objectCache<StoragePool>({
  kind: 'storage pool',
  audit: 'Storage.Audit',
  list: (c, filter) => c.storagePools(filter),
  key: (p) => p.name,
  xmlMany: (list) => StoragePool.xmlMany(list),
});

/** authScopes: a Storage privilege on the pool the argument names (NOT_FOUND when the caller may not see it). */
export function onPoolArg(privilege: Privilege, field: 'name' | 'pool' = 'name') {
  return onObject(
    privilege,
    'pool',
    async (ctx, host, args: { host?: string | null; name?: string; pool?: string }) => {
      const name = args[field] as string;
      await pools.find(ctx, host, name);
      return name;
    },
  );
}

const poolKey = (s: PoolShape) => hostKey(s.host, s.object.name);

const poolInfo = perObject<PoolShape, StoragePoolInfo>(poolKey, (shapes: readonly PoolShape[]) =>
  StoragePool.infoMany(shapes.map((s) => s.object)),
);

/** Volumes of every pool asked for in a request: one batch call per host. */
export const volumesOf = perObject(poolKey, async (shapes: readonly PoolShape[]) => {
  const out: Array<VolumeShape[] | Error> = new Array(shapes.length);
  const hosts = new Set(shapes.map((s) => s.host));
  for (const host of hosts) {
    const indexes = shapes.flatMap((s, i) => (s.host === host ? [i] : []));
    const lists = await StoragePool.volumesMany(indexes.map((i) => (shapes[i] as PoolShape).object));
    indexes.forEach((shapeIndex, j) => {
      const pool = shapes[shapeIndex] as PoolShape;
      const list = lists[j] as (typeof lists)[number];
      out[shapeIndex] = list instanceof LibvirtError ? list : list.map((object) => ({ host, object, pool }));
    });
  }
  return out;
});

const definition = async (ctx: GatewayContext, s: PoolShape) => parseStoragePoolXml(await pools.xml(ctx, s));

const PoolState = builder.enumType('StoragePoolState', {
  description: 'libvirt’s storage pool state (virStoragePoolState).',
  values: {
    INACTIVE: { description: 'Not started.' },
    BUILDING: { description: 'Being built (initialized).' },
    RUNNING: { description: 'Started: its volumes can be used.' },
    DEGRADED: { description: 'Running, but degraded.' },
    INACCESSIBLE: { description: 'Running, but its storage cannot be reached.' },
  } as const,
});

export const StoragePoolNode = builder.loadableNodeRef('StoragePool', {
  id: { resolve: (s: PoolShape) => poolKey(s) },
  load: pools.load,
});

hostedObjectFields(StoragePoolNode, 'Its name, unique on the host.');
/** libvirt's `<pool type>` values. */
const POOL_TYPES = {
  DIR: 'A directory of image files.',
  FS: 'A block device with a filesystem, mounted.',
  NETFS: 'A network filesystem (NFS, CIFS, GlusterFS), mounted.',
  LOGICAL: 'An LVM volume group.',
  DISK: 'A disk’s partitions.',
  ISCSI: 'An iSCSI target’s LUNs, through the host’s initiator.',
  ISCSI_DIRECT: 'An iSCSI target’s LUNs, through QEMU’s own initiator.',
  SCSI: 'A SCSI host adapter’s LUNs.',
  MPATH: 'Multipath devices.',
  RBD: 'A Ceph RBD pool.',
  SHEEPDOG: 'A Sheepdog cluster.',
  GLUSTER: 'A Gluster volume, through libgfapi.',
  ZFS: 'A ZFS pool.',
  VSTORAGE: 'A Virtuozzo storage cluster.',
} as const;
const StoragePoolType = lowerCaseEnum(
  'StoragePoolType',
  'What backs a storage pool (libvirt’s `<pool type>`).',
  POOL_TYPES,
);

uuidField(StoragePoolNode);
StoragePoolNode.implement({
  description: 'A libvirt storage pool. Sizes are in bytes.',
  fields: (t) => ({
    type: t.field({
      type: StoragePoolType,
      description: 'What backs it; null for a type the gateway does not know.',
      resolve: async (s, _a, ctx) => knownAttribute(POOL_TYPES, (await definition(ctx, s)).type),
    }),
    targetPath: t.string({
      description: 'Where its volumes appear on the host.',
      resolve: async (s, _a, ctx) => (await definition(ctx, s)).targetPath ?? null,
    }),
    state: t.field({
      type: PoolState,
      description: 'Whether it is running, and if not, why.',
      resolve: async (s, _a, ctx) => {
        const { state } = await poolInfo(ctx, s);
        return state === 'UNKNOWN' ? null : state;
      },
    }),
    ...bigIntFields(t, poolInfo, {
      capacityBytes: 'Total size in bytes.',
      allocationBytes: 'Bytes allocated to volumes.',
      availableBytes: 'Free bytes for new volumes.',
    }),
    active: t.boolean({ description: 'Whether it is started.', resolve: pools.is('active') }),
    persistent: t.boolean({ description: 'Whether it has a persistent definition.', resolve: pools.is('persistent') }),
    autostart: t.boolean({ description: 'Whether the host starts it at boot.', resolve: pools.is('autostart') }),
    xml: t.string({ description: 'The pool XML.', resolve: (s, _a, ctx) => pools.xml(ctx, s) }),
  }),
});

const StoragePoolFilter = builder.inputType('StoragePoolFilter', {
  description: 'Which storage pools a list returns: every condition given must hold.',
  fields: (t) => ({
    ...nameFilterFields(t),
    active: t.boolean({ description: 'Only started pools when true, only stopped ones when false.' }),
    ...definitionFilterFields(t, 'pools'),
  }),
});

filteredListFields(Host, {
  kind: 'StoragePool',
  node: StoragePoolNode,
  filter: StoragePoolFilter,
  filterDescription: 'Conditions the pools must meet.',
  authScopes: somewhereOnParentHost('Storage.Audit'),
  list: { field: 'storagePools', description: 'Storage pools of this host, every one or those the filter keeps.' },
  connection: {
    field: 'storagePoolConnection',
    description:
      'Storage pools of this host a page at a time (Relay cursor connection), ordered by name then UUID; filter to narrow them.',
    one: 'storage pool',
    many: 'storage pools',
    totalCount: 'How many pools match the filter, on every page.',
  },
  read: async (h, filter, ctx) => {
    const named = nameMatcher(filter);
    const list = (await pools.all(ctx, h.name)).filter((s) => named(s.object.name));
    return keepFlagged(ctx, list, filter, ['active', 'autostart', 'persistent'] as const, pools.is);
  },
  sortKey: (s) => [s.object.name, s.object.uuid],
  orders: {
    CAPACITY: {
      description: 'Its total size.',
      value: async (s, ctx) => Number((await poolInfo(ctx, s)).capacityBytes),
    },
    AVAILABLE: {
      description: 'Its free bytes for new volumes (an inactive pool’s as libvirt last knew them).',
      value: async (s, ctx) => Number((await poolInfo(ctx, s)).availableBytes),
    },
  },
});

byNameFields({
  field: 'storagePool',
  node: StoragePoolNode,
  privilege: 'Storage.Audit',
  onHost: 'One storage pool by name; a NOT_FOUND error when there is none.',
  onQuery: 'One storage pool of a host (the default host when omitted).',
  nameDescription: 'The pool name.',
  find: pools.find,
});
