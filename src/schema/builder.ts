import SchemaBuilder from '@pothos/core';
import DataloaderPlugin from '@pothos/plugin-dataloader';
import RelayPlugin from '@pothos/plugin-relay';
import ValidationPlugin from '@pothos/plugin-validation';
import type { GatewayContext } from './context.ts';
import { invalidInput } from './errors.ts';

export const builder = new SchemaBuilder<{
  Context: GatewayContext;
  Scalars: {
    BigInt: { Input: bigint; Output: bigint };
    DateTime: { Input: Date; Output: Date };
  };
}>({
  plugins: [RelayPlugin, DataloaderPlugin, ValidationPlugin],
  relay: {
    clientMutationId: 'omit',
    cursorType: 'String',
    nodeQueryOptions: { description: 'Any object by its global ID (host + kind + key).' },
    nodesQueryOptions: { description: 'Objects by their global IDs, in order; null where one is not found.' },
  },
  validation: {
    // The first issue names the argument path (e.g. input.memoryKiB) and the reason.
    validationError: (result) => {
      const [issue] = result.issues;
      const field = (issue?.path ?? []).map((p) => (typeof p === 'object' ? String(p.key) : String(p))).join('.');
      return invalidInput(field || 'input', issue?.message ?? 'is invalid');
    },
  },
});

builder.queryType({ description: 'Reads of every configured libvirt host.' });
builder.mutationType({ description: 'Actions on libvirt hosts. Each returns the object as it is after the change.' });
