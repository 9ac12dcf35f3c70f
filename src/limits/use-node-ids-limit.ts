import { BREAK, type DocumentNode, Kind, TypeInfo, type ValueNode, visit, visitWithTypeInfo } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import { limitExceeded } from './limit-errors.ts';

/** How many IDs an `ids` argument holds, written inline or passed as a variable. */
function idCount(value: ValueNode, variables: Readonly<Record<string, unknown>> | null | undefined): number {
  if (value.kind === Kind.LIST) return value.values.length;
  if (value.kind === Kind.VARIABLE) {
    const given = variables?.[value.name.value];
    return Array.isArray(given) ? given.length : given == null ? 0 : 1;
  }
  return 1;
}

/**
 * Refuses `Query.nodes(ids:)` with more than `maxNodeIds` IDs before any lookup. It runs at
 * execution, not validation, because only then are the variables known.
 */
export function useNodeIdsLimit({ maxNodeIds }: { maxNodeIds: number }): Plugin {
  // Whether a document names a `nodes` field at all, found once per document: most do not.
  const namesNodes = new WeakMap<DocumentNode, boolean>();
  const mayAskNodes = (document: DocumentNode): boolean => {
    let found = namesNodes.get(document);
    if (found === undefined) {
      found = false;
      visit(document, {
        Field(node) {
          if (node.name.value === 'nodes') found = true;
          return found ? BREAK : undefined;
        },
      });
      namesNodes.set(document, found);
    }
    return found;
  };
  return {
    onExecute({ args, setResultAndStopExecution }) {
      if (!mayAskNodes(args.document)) return;
      const query = args.schema.getQueryType();
      const typeInfo = new TypeInfo(args.schema);
      let found = 0;
      visit(
        args.document,
        visitWithTypeInfo(typeInfo, {
          Field(node) {
            if (node.name.value !== 'nodes' || typeInfo.getParentType() !== query) return;
            const ids = node.arguments?.find((a) => a.name.value === 'ids');
            if (ids) found = Math.max(found, idCount(ids.value, args.variableValues));
          },
        }),
      );
      if (found > maxNodeIds) {
        setResultAndStopExecution({
          errors: [
            limitExceeded('maxNodeIds', maxNodeIds, `ids: at most ${maxNodeIds} IDs per nodes query, got ${found}`, {
              field: 'ids',
              count: found,
            }),
          ],
        });
      }
    },
  };
}
