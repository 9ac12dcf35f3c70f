import SchemaBuilder from '@pothos/core';
import DataloaderPlugin from '@pothos/plugin-dataloader';
import RelayPlugin from '@pothos/plugin-relay';
import type { GatewayContext } from './context.ts';

export const builder = new SchemaBuilder<{
  Context: GatewayContext;
  Scalars: {
    BigInt: { Input: bigint; Output: bigint };
  };
}>({
  plugins: [RelayPlugin, DataloaderPlugin],
  relay: {
    clientMutationId: 'omit',
    cursorType: 'String',
    nodeQueryOptions: { description: 'Any object by its global ID (host + kind + key).' },
    nodesQueryOptions: { description: 'Objects by their global IDs, in order; null where one is not found.' },
  },
});

builder.queryType({ description: 'Reads of every configured libvirt host.' });
