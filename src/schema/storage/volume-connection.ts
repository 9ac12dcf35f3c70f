import { builder } from '../core/builder.ts';
import { keysetConnection, nameMatcher } from '../core/keyset-connection.ts';
import { StoragePoolNode, volumesOf } from './pool.ts';
import { unhidden, VolumeNode } from './volume.ts';

const VolumeFilter = builder.inputType('VolumeFilter', {
  description: 'Which volumes a connection returns: every condition given must hold.',
  fields: (t) => ({
    nameContains: t.string({ description: 'Only names containing this text, ignoring case.' }),
    nameGlob: t.string({
      description: 'Only names matching this glob (`*` any run, `?` one character; case-sensitive, as in grants).',
    }),
  }),
});

builder.objectField(StoragePoolNode, 'volumes', (t) =>
  t.field({
    type: [VolumeNode],
    description: 'Volumes of the pool, every one or those the filter keeps (the pool must be active).',
    args: { filter: t.arg({ type: VolumeFilter, description: 'Conditions the volumes must meet.' }) },
    resolve: async (pool, args, ctx) => {
      const named = nameMatcher(args.filter);
      return unhidden(
        ctx,
        (await volumesOf(ctx, pool)).filter((s) => named(s.object.name)),
      );
    },
  }),
);

builder.objectField(StoragePoolNode, 'volumeConnection', (t) =>
  t.connection(
    {
      type: VolumeNode,
      description:
        'Volumes of the pool a page at a time (Relay cursor connection), ordered by name then key; the pool must be active.',
      args: { filter: t.arg({ type: VolumeFilter, description: 'Conditions the volumes must meet.' }) },
      resolve: async (pool, args, ctx) => {
        const named = nameMatcher(args.filter);
        const list = await unhidden(
          ctx,
          (await volumesOf(ctx, pool)).filter((s) => named(s.object.name)),
        );
        return keysetConnection('Volume', args, list, (s) => [s.object.name, s.object.key]);
      },
    },
    {
      name: 'VolumeConnection',
      description: 'A page of storage volumes.',
      fields: (c) => ({
        totalCount: c.int({
          nullable: false,
          description: 'How many volumes of the pool match the filter, on every page.',
          resolve: (connection) => connection.totalCount,
        }),
      }),
    },
    { name: 'VolumeEdge', description: 'A volume on a page, with the cursor of its place.' },
  ),
);
