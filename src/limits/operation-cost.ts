import {
  type DocumentNode,
  type FieldNode,
  type FragmentDefinitionNode,
  type GraphQLCompositeType,
  type GraphQLField,
  type GraphQLOutputType,
  type GraphQLSchema,
  getNamedType,
  isCompositeType,
  isListType,
  isNonNullType,
  isObjectType,
  Kind,
  type OperationDefinitionNode,
  type SelectionSetNode,
} from 'graphql';
import { DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE } from '../schema/core/keyset-connection.ts';

/**
 * The page size of a Relay connection field (one with `first`/`last` returning a type with
 * `edges` and `pageInfo`): the literal `first` or `last`, the largest page when either is a
 * variable (validation runs before, and is cached apart from, variable values), the default page
 * when neither is given. Undefined for any other field.
 */
function pageSize(field: GraphQLField<unknown, unknown>, node: FieldNode): number | undefined {
  const type = getNamedType(field.type);
  const isConnection =
    field.args.some((a) => a.name === 'first') &&
    isObjectType(type) &&
    'edges' in type.getFields() &&
    'pageInfo' in type.getFields();
  if (!isConnection) return undefined;
  const sizes = (node.arguments ?? [])
    .filter((a) => a.name.value === 'first' || a.name.value === 'last')
    .map((a) => (a.value.kind === Kind.INT ? Number(a.value.value) : MAX_PAGE_SIZE));
  return sizes.length === 0 ? DEFAULT_PAGE_SIZE : Math.min(MAX_PAGE_SIZE, Math.max(...sizes));
}

/** How many list wrappers a field's type has: `[Domain!]!` is 1, `[[Int]]` is 2. */
function listDepth(type: GraphQLOutputType): number {
  if (isNonNullType(type)) return listDepth(type.ofType);
  if (isListType(type)) return 1 + listDepth(type.ofType);
  return 0;
}

/**
 * The estimated cost of one operation. Every field costs 1 per time it is resolved, and a field
 * returning a list resolves its sub-selection `assumedListSize` times, so
 * `host { domains { host { domains { name } } } }` costs 1 + 1·S + S + S·S + S²·1 … and each
 * cyclic level multiplies the total by S.
 *
 * graphql-armor's cost limit cannot express this: it weighs fields by their depth and by a
 * literal `first`/`last` argument, never by whether the schema says the field returns a list,
 * so a cyclic query nine lists deep costs it about as much as a flat one. List-ness here
 * comes from the schema's field types; fragments are costed once and scaled, since the cost
 * of a selection is linear in how many times it runs. Introspection (`__schema`, `__type`)
 * is bounded by the schema and checked by graphql-js' MaxIntrospectionDepthRule instead.
 * A Relay connection's `edges` and `nodes` count as many items as the page asks for (`first`
 * or `last`), not `assumedListSize`, so paging is how a client affords a deep selection.
 * Unknown fields, types and fragments cost nothing: validation reports them.
 */
export function operationCost(
  schema: GraphQLSchema,
  fragmentNamed: (name: string) => FragmentDefinitionNode | undefined | null,
  operation: OperationDefinitionNode,
  assumedListSize: number,
): number | undefined {
  const fragmentCosts = new Map<string, number>();
  const inProgress = new Set<string>();

  const fragmentCost = (fragment: FragmentDefinitionNode, listSize: number): number => {
    const name = fragment.name.value;
    const known = fragmentCosts.get(`${name}@${listSize}`);
    if (known !== undefined) return known;
    // A fragment cycle: NoFragmentCyclesRule reports it.
    if (inProgress.has(name)) return 0;
    inProgress.add(name);
    const type = schema.getType(fragment.typeCondition.name.value);
    const cost = type && isCompositeType(type) ? selectionCost(fragment.selectionSet, type, listSize) : 0;
    inProgress.delete(name);
    fragmentCosts.set(`${name}@${listSize}`, cost);
    return cost;
  };

  // `listSize` is how many items each list field of this selection returns: a connection's
  // page size for its `edges` and `nodes`, the assumed size everywhere else.
  const selectionCost = (
    selectionSet: SelectionSetNode,
    parent: GraphQLCompositeType,
    listSize = assumedListSize,
  ): number => {
    let cost = 0;
    for (const selection of selectionSet.selections) {
      if (selection.kind === Kind.FIELD) {
        const name = selection.name.value;
        if (name.startsWith('__') || !('getFields' in parent)) continue;
        const field = parent.getFields()[name];
        if (!field) continue;
        const child = getNamedType(field.type);
        const page = pageSize(field, selection);
        const inner =
          selection.selectionSet && isCompositeType(child)
            ? selectionCost(selection.selectionSet, child, page ?? assumedListSize)
            : 0;
        cost += 1 + listSize ** listDepth(field.type) * inner;
      } else if (selection.kind === Kind.INLINE_FRAGMENT) {
        const condition = selection.typeCondition ? schema.getType(selection.typeCondition.name.value) : parent;
        if (condition && isCompositeType(condition)) {
          cost += selectionCost(selection.selectionSet, condition, listSize);
        }
      } else {
        const fragment = fragmentNamed(selection.name.value);
        if (fragment) cost += fragmentCost(fragment, listSize);
      }
    }
    return cost;
  };

  const root = schema.getRootType(operation.operation);
  return root ? selectionCost(operation.selectionSet, root) : undefined;
}

/**
 * Costs computed, by operation (yoga's parse cache hands the same document to every request with
 * that text) and assumed list size.
 */
const computed = new WeakMap<OperationDefinitionNode, Map<number, number | undefined>>();

/** The operation's cost, computed once: by the validation rule, or here when it did not run (a cached validation). */
export function recordedCost(
  operation: OperationDefinitionNode,
  assumedListSize: number,
  compute: () => number | undefined,
): number | undefined {
  let costs = computed.get(operation);
  if (!costs) {
    costs = new Map();
    computed.set(operation, costs);
  }
  if (!costs.has(assumedListSize)) costs.set(assumedListSize, compute());
  return costs.get(assumedListSize);
}

/** The cost of the operation a request runs (`operationName`, or the document's only one); undefined when there is none such. */
export function costOf(
  schema: GraphQLSchema,
  document: DocumentNode,
  operationName: string | null | undefined,
  assumedListSize: number,
): number | undefined {
  const operations = document.definitions.filter((d) => d.kind === Kind.OPERATION_DEFINITION);
  const operation = operationName
    ? operations.find((o) => o.name?.value === operationName)
    : operations.length === 1
      ? operations[0]
      : undefined;
  if (!operation) return undefined;
  const fragments = new Map(
    document.definitions.flatMap((d) => (d.kind === Kind.FRAGMENT_DEFINITION ? [[d.name.value, d] as const] : [])),
  );
  return recordedCost(operation, assumedListSize, () =>
    operationCost(schema, (name) => fragments.get(name), operation, assumedListSize),
  );
}
