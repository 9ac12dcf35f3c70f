import { buildSchema, execute, type GraphQLResolveInfo, parse } from 'graphql';
import { describe, expect, it } from 'vitest';
import { selectedFields } from '../../src/schema/core/selection.ts';

const schema = buildSchema(`
  type Item { a: Int b: Int c: Int }
  type Edge { node: Item }
  type Page { nodes: [Item] edges: [Edge] }
  type Query { list: [Item] page: Page }
`);

/** The field names selectedFields reads from the resolver of `field` in `source`. */
function seen(source: string, field: 'list' | 'page', ...paths: string[][]): string[] {
  let names: Set<string> | undefined;
  const capture = (_a: unknown, _c: unknown, info: GraphQLResolveInfo) => {
    names = selectedFields(info, ...paths);
    return null;
  };
  execute({ schema, document: parse(source), rootValue: { [field]: capture } });
  return [...(names ?? [])].sort();
}

describe('selectedFields: what a list’s items are asked for, to load it ahead', () => {
  it('reads plain fields, aliases by field name, inline fragments and named fragments', () => {
    expect(seen('{ list { a x: b } }', 'list')).toEqual(['a', 'b']);
    expect(seen('{ list { ... on Item { c } ...F } } fragment F on Item { a }', 'list')).toEqual(['a', 'c']);
  });

  it('reads a connection’s nodes and edges’ nodes', () => {
    const q = '{ page { nodes { a } edges { node { b ...F } } } } fragment F on Item { c }';
    expect(seen(q, 'page', ['nodes'], ['edges', 'node'])).toEqual(['a', 'b', 'c']);
    expect(seen('{ page { edges { cursor: node { a } } } }', 'page', ['edges', 'node'])).toEqual(['a']);
  });

  it('stops on a fragment cycle instead of looping (validation refuses one, but this never hangs)', () => {
    // execute() without validate: the cycle reaches the resolver.
    expect(seen('{ list { ...F } } fragment F on Item { a ...G } fragment G on Item { b ...F }', 'list')).toEqual([
      'a',
      'b',
    ]);
  });
});
