import SchemaBuilder, { PothosValidationError } from '@pothos/core';
import DataloaderPlugin from '@pothos/plugin-dataloader';
import RelayPlugin, { decodeGlobalID } from '@pothos/plugin-relay';
import ScopeAuthPlugin from '@pothos/plugin-scope-auth';
import ValidationPlugin from '@pothos/plugin-validation';
import type { Privilege } from '../auth/privileges.ts';
import type { GatewayContext } from './context.ts';
import { forbidden, invalidInput } from './errors.ts';

/** A privilege needed on a host and, for VM privileges, on the domain of that name. */
export interface PrivilegeScope {
  privilege: Privilege;
  host: string;
  domain?: string;
}

/** Set once the builder exists: whether the schema has a type of that name. */
let isTypeName: (name: string) => boolean = () => true;

export const builder = new SchemaBuilder<{
  Context: GatewayContext;
  AuthScopes: {
    /** The privilege on this host (and domain). */
    privilege: PrivilegeScope;
    /** The privilege on some object of the host: what follows filters per object. */
    somewhere: { privilege: Privilege; host?: string };
  };
  Scalars: {
    BigInt: { Input: bigint; Output: bigint };
    DateTime: { Input: Date; Output: Date };
  };
}>({
  plugins: [ScopeAuthPlugin, RelayPlugin, DataloaderPlugin, ValidationPlugin],
  scopeAuth: {
    authorizeOnSubscribe: true,
    cacheKey: (value) => JSON.stringify(value),
    authScopes: (ctx) => ({
      privilege: ({ privilege, host, domain }) => ctx.identity.can(privilege, host, domain),
      somewhere: ({ privilege, host }) =>
        host === undefined ? ctx.identity.canAnywhere(privilege) : ctx.identity.canSome(privilege, host),
    }),
    unauthorizedError: (_parent, ctx, info, result) => forbidden(ctx.identity.name, info, result.failure),
  },
  relay: {
    clientMutationId: 'omit',
    cursorType: 'String',
    nodeQueryOptions: {
      description: 'Any object by its global ID (host + kind + key).',
      args: { id: { description: 'A global ID, as an object’s `id` field gives it.' } },
    },
    nodesQueryOptions: {
      description: 'Objects by their global IDs, in order; null where one is not found.',
      args: { ids: { description: 'Global IDs, as objects’ `id` fields give them.' } },
    },
    nodeTypeOptions: { description: 'An object with a global ID, refetchable with `node(id:)`.' },
    idFieldOptions: { description: 'The global ID: host, kind and key, opaque to clients.' },
    pageInfoTypeOptions: { description: 'Where a page of a connection sits in the whole list.' },
    hasNextPageFieldOptions: { description: 'Whether objects follow this page (paging forwards).' },
    hasPreviousPageFieldOptions: { description: 'Whether objects precede this page (paging backwards).' },
    startCursorFieldOptions: {
      description: 'The cursor of the first object on the page: `before` for the page before.',
    },
    endCursorFieldOptions: { description: 'The cursor of the last object on the page: `after` for the page after.' },
    pageInfoFieldOptions: { description: 'Where this page sits, and the cursors to the pages around it.' },
    edgesFieldOptions: { description: 'The objects on this page, in order, each with its cursor.' },
    cursorFieldOptions: { description: 'The place of this object in the order, for `after` or `before`.' },
    nodeFieldOptions: { description: 'The object.' },
    firstArgOptions: { description: 'Return the first N objects (after `after`); at most 100.' },
    afterArgOptions: { description: 'Start after the object with this cursor.' },
    lastArgOptions: { description: 'Return the last N objects (before `before`); at most 100.' },
    beforeArgOptions: { description: 'End before the object with this cursor.' },
    // An ID naming a type the schema lacks is malformed input (INVALID_INPUT), not a schema error.
    decodeGlobalID: (globalID) => {
      const decoded = decodeGlobalID(globalID);
      if (!isTypeName(decoded.typename)) throw new PothosValidationError(`Invalid global ID: ${globalID}`);
      return decoded;
    },
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

isTypeName = (name) => builder.configStore.hasImplementation(name);

builder.queryType({ description: 'Reads of every configured libvirt host.' });
builder.mutationType({ description: 'Actions on libvirt hosts. Each returns the object as it is after the change.' });
