import { builder } from '../core/builder.ts';
import { filteredListFields, nameFilterFields } from '../core/filtered-list.ts';
import { nameMatcher } from '../core/keyset-connection.ts';
import { StoragePoolNode, volumesOf } from './pool.ts';
import { unhidden, VolumeNode, volumeInfo } from './volume.ts';

const VolumeFilter = builder.inputType('VolumeFilter', {
  description: 'Which volumes a connection returns: every condition given must hold.',
  fields: (t) => ({
    ...nameFilterFields(t),
  }),
});

filteredListFields(StoragePoolNode, {
  kind: 'Volume',
  node: VolumeNode,
  filter: VolumeFilter,
  filterDescription: 'Conditions the volumes must meet.',
  list: {
    field: 'volumes',
    description: 'Volumes of the pool, every one or those the filter keeps (the pool must be active).',
  },
  connection: {
    field: 'volumeConnection',
    description:
      'Volumes of the pool a page at a time (Relay cursor connection), ordered by name then key; the pool must be active.',
    one: 'volume',
    many: 'storage volumes',
    totalCount: 'How many volumes of the pool match the filter, on every page.',
  },
  read: async (pool, filter, ctx) => {
    const named = nameMatcher(filter);
    return unhidden(
      ctx,
      (await volumesOf(ctx, pool)).filter((s) => named(s.object.name)),
    );
  },
  sortKey: (s) => [s.object.name, s.object.key],
  orders: {
    CAPACITY: {
      description: 'Its capacity: the size the guest sees.',
      value: async (s, ctx) => Number((await volumeInfo(ctx, s)).capacityBytes),
    },
    ALLOCATION: {
      description: 'The bytes it takes on the host.',
      value: async (s, ctx) => Number((await volumeInfo(ctx, s)).allocationBytes),
    },
  },
});
