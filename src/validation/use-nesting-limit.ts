import type { Plugin } from 'graphql-yoga';
import { invalidInput } from '../schema/core/errors.ts';

/** Deeper than any real query, far below where graphql-js's recursive parser overflows (~2,000). */
export const MAX_NESTING = 100;

/** How deeply `{`, `(` and `[` nest in a GraphQL document, outside strings and comments. */
export function nestingOf(source: string, stopAbove = Number.POSITIVE_INFINITY): number {
  let depth = 0;
  let deepest = 0;
  for (let i = 0; i < source.length; i++) {
    const c = source[i];
    if (c === '#') {
      while (i < source.length && source[i] !== '\n' && source[i] !== '\r') i++;
    } else if (c === '"') {
      if (source.startsWith('"""', i)) {
        i += 3;
        while (i < source.length && !source.startsWith('"""', i)) i += source.startsWith('\\"""', i) ? 4 : 1;
        i += 2;
      } else {
        i++;
        while (i < source.length && source[i] !== '"' && source[i] !== '\n') i += source[i] === '\\' ? 2 : 1;
      }
    } else if (c === '{' || c === '(' || c === '[') {
      depth++;
      if (depth > deepest) deepest = depth;
      if (deepest > stopAbove) return deepest;
    } else if (c === '}' || c === ')' || c === ']') {
      depth--;
    }
  }
  return deepest;
}

/**
 * Refuses documents nested more than MAX_NESTING levels before they are parsed: graphql-js
 * parses recursively, and a document 10,000 levels deep exhausts the stack (a RangeError the
 * client would otherwise see as INTERNAL) before any token or depth limit is reached.
 */
export function useNestingLimit(max = MAX_NESTING): Plugin {
  return {
    onParse({ params }) {
      const source = typeof params.source === 'string' ? params.source : params.source.body;
      if (nestingOf(source, max) > max) throw invalidInput('query', `is nested more than ${max} levels deep`);
    },
  };
}
