import { type GraphQLResolveInfo, Kind, type SelectionSetNode } from 'graphql';

/** Deeper than any document the nesting limit lets through: a cycle of fragments stops here. */
const MAX_DEPTH = 32;

function collect(
  info: GraphQLResolveInfo,
  set: SelectionSetNode | undefined,
  path: readonly string[],
  out: Set<string>,
  depth: number,
): void {
  if (set === undefined || depth > MAX_DEPTH) return;
  for (const selection of set.selections) {
    if (selection.kind === Kind.FIELD) {
      const [step, ...rest] = path;
      if (step === undefined) out.add(selection.name.value);
      else if (selection.name.value === step) collect(info, selection.selectionSet, rest, out, depth + 1);
    } else if (selection.kind === Kind.INLINE_FRAGMENT) {
      collect(info, selection.selectionSet, path, out, depth + 1);
    } else {
      collect(info, info.fragments[selection.name.value]?.selectionSet, path, out, depth + 1);
    }
  }
}

/**
 * The names of the fields a resolver's result is asked for, through `path` (a connection's
 * `['nodes']` or `['edges', 'node']`), fragments included whatever their type condition: an
 * over-approximation, for loading ahead what the fields will read, never for deciding what to answer.
 */
export function selectedFields(info: GraphQLResolveInfo, ...paths: ReadonlyArray<readonly string[]>): Set<string> {
  const out = new Set<string>();
  for (const path of paths.length === 0 ? [[]] : paths) {
    for (const node of info.fieldNodes) collect(info, node.selectionSet, path, out, 0);
  }
  return out;
}
