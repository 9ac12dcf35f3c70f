import SchemaBuilder from '@pothos/core';
import DataloaderPlugin from '@pothos/plugin-dataloader';
import RelayPlugin, { decodeGlobalID, resolveNodes } from '@pothos/plugin-relay';
import ScopeAuthPlugin from '@pothos/plugin-scope-auth';
import ValidationPlugin from '@pothos/plugin-validation';
import type { GraphQLResolveInfo } from 'graphql';
import type { Identity } from '../../auth/identity.ts';
import { objectKindOf, type Privilege } from '../../auth/privileges.ts';
import type { GatewayContext } from './context.ts';
import { forbidden, gatewayError, invalidInput } from './errors.ts';

/**
 * A privilege needed on a host and, for privileges that act on one object, on the object of that
 * name: the domain for VM.*, the storage pool for Storage.*, the network for Network.* privileges.
 */
export interface PrivilegeScope {
  privilege: Privilege;
  host: string;
  domain?: string;
  pool?: string;
  network?: string;
}

/** The name Identity.can checks a scope's privilege against: the object of the privilege's kind. */
function objectOf(scope: PrivilegeScope): string | undefined {
  const kind = objectKindOf(scope.privilege);
  return kind === 'domains'
    ? scope.domain
    : kind === 'pools'
      ? scope.pool
      : kind === 'networks'
        ? scope.network
        : undefined;
}

/**
 * Whether the identity holds the scope: what every `privilege` authScope checks, and what `viewer`
 * answers, so a UI's buttons and the server agree.
 */
export function holdsScope(identity: Identity, scope: PrivilegeScope): boolean {
  return identity.can(scope.privilege, scope.host, objectOf(scope));
}

/** Set once the builder exists: whether the schema has a node type of that name. */
let isTypeName: (name: string) => boolean = () => true;

/**
 * The typename decodeGlobalID gives an ID it cannot read (its id is then the reason): `node` and
 * `nodes` answer INVALID_INPUT for that ID alone, so one bad ID in `nodes` costs only its slot.
 */
const MALFORMED_ID = '\0malformed';

interface DecodedID {
  typename: string;
  id: string;
}

export function decodeGlobalIdOrMark(globalID: string): DecodedID {
  try {
    const decoded = decodeGlobalID(globalID);
    // Every node but a Host is keyed within its host: "host<US>key". Without the separator the
    // host would be read as all but its last character (UNKNOWN_HOST of a truncated name).
    if (isTypeName(decoded.typename) && (decoded.typename === 'Host' || decoded.id.includes('\u001f'))) return decoded;
  } catch {
    // Not base64 of "Type:key": marked below like an unknown type.
  }
  return { typename: MALFORMED_ID, id: `Invalid global ID: ${globalID}` };
}

/** The host a global ID names: a Host's ID is its name, every other node's is "host<US>key". */
export function hostOfGlobalId(globalID: string): string | undefined {
  const decoded = decodeGlobalIdOrMark(globalID);
  if (decoded.typename === MALFORMED_ID) return undefined;
  return decoded.typename === 'Host' ? decoded.id : decoded.id.slice(0, decoded.id.indexOf('\u001f'));
}

/**
 * The key within its host of the object a global ID names, for a ref's `id` on `host`: an ID of
 * another kind, or of another host, is INVALID_INPUT naming `field`.
 */
export function keyOfGlobalId(id: string, typename: string, host: string, field: string): string {
  const decoded = decodeGlobalIdOrMark(id);
  if (decoded.typename !== typename) throw malformed(field, `is not the global ID of a ${typename}`);
  const i = decoded.id.indexOf('\u001f');
  const [named, key] = [decoded.id.slice(0, i), decoded.id.slice(i + 1)];
  if (named !== host) throw malformed(field, `names a ${typename} of host ${named}, not of host ${host}`);
  return key;
}

function malformed(field: string, reason: string) {
  return gatewayError('INVALID_INPUT', `${field}: ${reason}`, { field, reason });
}

/** `nodes(ids:)`: each ID resolved on its own, a malformed or missing one an error in its slot only. */
async function nodesBySlot(ids: DecodedID[], ctx: GatewayContext, info: GraphQLResolveInfo): Promise<unknown[]> {
  const wellFormed = ids.flatMap((id, i) => (id.typename === MALFORMED_ID ? [] : [{ id, i }]));
  const found = await resolveNodes(
    builder,
    ctx,
    info,
    wellFormed.map((w) => w.id),
  );
  const out: unknown[] = ids.map((id, i) => (id.typename === MALFORMED_ID ? malformed(`ids.${i}`, id.id) : null));
  wellFormed.forEach((w, j) => {
    out[w.i] = found[j];
  });
  return out;
}

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
    /** Input only (schema/secret/secret-value.ts): nothing ever returns one. */
    SecretValue: { Input: string; Output: never };
  };
}>({
  plugins: [ScopeAuthPlugin, RelayPlugin, DataloaderPlugin, ValidationPlugin],
  scopeAuth: {
    authorizeOnSubscribe: true,
    cacheKey: (value) => JSON.stringify(value),
    authScopes: (ctx) => ({
      privilege: (scope) => holdsScope(ctx.identity, scope),
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
      resolve: (_root, args, _ctx, _info, resolveNode) => {
        if (args.id.typename === MALFORMED_ID) throw malformed('id', args.id.id);
        return resolveNode(args.id);
      },
    },
    nodesQueryOptions: {
      description: 'Objects by their global IDs, in order; null where one is not found.',
      args: { ids: { description: 'Global IDs, as objects’ `id` fields give them.' } },
      resolve: (_root, args, ctx, info) => nodesBySlot(args.ids, ctx, info),
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
    // An ID that is not base64 of "Type:key", or names a type the schema lacks, is malformed input
    // (INVALID_INPUT), not a schema error; `for:` arguments refuse the marked typename themselves.
    decodeGlobalID: (globalID) => decodeGlobalIdOrMark(globalID),
  },
  validation: {
    // The first issue names the argument path and the reason; a mutation's fields are named by their
    // path inside its one `input` (memoryKiB, domain.name), as its resolver names them.
    validationError: (result) => {
      const [issue] = result.issues;
      const path = (issue?.path ?? []).map((p) => (typeof p === 'object' ? String(p.key) : String(p)));
      const field = (path[0] === 'input' && path.length > 1 ? path.slice(1) : path).join('.');
      return invalidInput(field || 'input', issue?.message ?? 'is invalid');
    },
  },
});

// A node type: an object type that can be loaded by its key (what `node` needs of a typename).
isTypeName = (name) => {
  if (!builder.configStore.hasImplementation(name)) return false;
  const config = builder.configStore.getTypeConfig(name);
  const options = config.pothosOptions as Record<string, unknown>;
  return (
    config.kind === 'Object' &&
    ['loadOne', 'loadMany', 'loadWithoutCache', 'loadManyWithoutCache'].some((k) => options[k] !== undefined)
  );
};

builder.queryType({ description: 'Reads of every configured libvirt host.' });
builder.mutationType({ description: 'Actions on libvirt hosts. Each returns the object as it is after the change.' });
