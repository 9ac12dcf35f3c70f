import {
  type FragmentDefinitionNode,
  type GraphQLCompositeType,
  type GraphQLOutputType,
  getNamedType,
  isCompositeType,
  isListType,
  isNonNullType,
  Kind,
  type SelectionSetNode,
  type ValidationContext,
  type ValidationRule,
} from 'graphql';
import type { Plugin } from 'graphql-yoga';
import { limitExceeded } from './limit-errors.ts';

export interface ListCostOptions {
  /** Largest cost an operation may have. */
  maxCost: number;
  /** How many items the model assumes each list field returns. */
  assumedListSize: number;
}

/** How many list wrappers a field's type has: `[Domain!]!` is 1, `[[Int]]` is 2. */
function listDepth(type: GraphQLOutputType): number {
  if (isNonNullType(type)) return listDepth(type.ofType);
  if (isListType(type)) return 1 + listDepth(type.ofType);
  return 0;
}

/**
 * A validation rule refusing operations whose estimated cost exceeds `maxCost`. Every field
 * costs 1 per time it is resolved, and a field returning a list resolves its sub-selection
 * `assumedListSize` times, so `host { domains { host { domains { name } } } }` costs
 * 1 + 1·S + S + S·S + S²·1 … and each cyclic level multiplies the total by S.
 *
 * graphql-armor's cost limit cannot express this: it weighs fields by their depth and by a
 * literal `first`/`last` argument, never by whether the schema says the field returns a list,
 * so a cyclic query nine lists deep costs it about as much as a flat one. List-ness here
 * comes from the schema's field types; fragments are costed once and scaled, since the cost
 * of a selection is linear in how many times it runs. Introspection (`__schema`, `__type`)
 * is bounded by the schema and checked by graphql-js' MaxIntrospectionDepthRule instead.
 */
export function createListCostRule({ maxCost, assumedListSize }: ListCostOptions): ValidationRule {
  return (context: ValidationContext) => {
    const fragmentCosts = new Map<string, number>();
    const inProgress = new Set<string>();

    const fragmentCost = (fragment: FragmentDefinitionNode): number => {
      const name = fragment.name.value;
      const known = fragmentCosts.get(name);
      if (known !== undefined) return known;
      // A fragment cycle: NoFragmentCyclesRule reports it.
      if (inProgress.has(name)) return 0;
      inProgress.add(name);
      const type = context.getSchema().getType(fragment.typeCondition.name.value);
      const cost = type && isCompositeType(type) ? selectionCost(fragment.selectionSet, type) : 0;
      inProgress.delete(name);
      fragmentCosts.set(name, cost);
      return cost;
    };

    const selectionCost = (selectionSet: SelectionSetNode, parent: GraphQLCompositeType): number => {
      let cost = 0;
      for (const selection of selectionSet.selections) {
        if (selection.kind === Kind.FIELD) {
          const name = selection.name.value;
          if (name.startsWith('__') || !('getFields' in parent)) continue;
          const field = parent.getFields()[name];
          // Unknown fields: FieldsOnCorrectTypeRule reports them.
          if (!field) continue;
          const child = getNamedType(field.type);
          const inner =
            selection.selectionSet && isCompositeType(child) ? selectionCost(selection.selectionSet, child) : 0;
          cost += 1 + assumedListSize ** listDepth(field.type) * inner;
        } else if (selection.kind === Kind.INLINE_FRAGMENT) {
          const condition = selection.typeCondition
            ? context.getSchema().getType(selection.typeCondition.name.value)
            : parent;
          if (condition && isCompositeType(condition)) cost += selectionCost(selection.selectionSet, condition);
        } else {
          const fragment = context.getFragment(selection.name.value);
          if (fragment) cost += fragmentCost(fragment);
        }
      }
      return cost;
    };

    return {
      OperationDefinition(operation) {
        const root = context.getSchema().getRootType(operation.operation);
        if (!root) return;
        const cost = selectionCost(operation.selectionSet, root);
        if (cost > maxCost) {
          context.reportError(
            limitExceeded(
              'maxCost',
              maxCost,
              `query cost ${cost.toPrecision(3)} exceeds the limit of ${maxCost} (each list field counts as ${assumedListSize} items)`,
              { cost },
            ),
          );
        }
      },
    };
  };
}

/** Refuses, before execution, operations whose list-aware cost exceeds the limit. */
export function useListCost(options: ListCostOptions): Plugin {
  const rule = createListCostRule(options);
  return {
    onValidate({ addValidationRule }) {
      addValidationRule(rule);
    },
  };
}
