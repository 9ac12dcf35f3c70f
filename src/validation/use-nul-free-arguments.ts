import { BREAK, type DocumentNode, Kind, type ValueNode, visit } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import { invalidInput } from '../schema/errors.ts';

type Variables = Readonly<Record<string, unknown>> | null | undefined;

/** The path (`input.name`, `ids.2`) of the first string in a variable's value holding a NUL byte. */
function nulInValue(value: unknown, path: string): string | undefined {
  if (typeof value === 'string') return value.includes('\0') ? path : undefined;
  if (Array.isArray(value)) {
    for (const [i, item] of value.entries()) {
      const found = nulInValue(item, `${path}.${i}`);
      if (found) return found;
    }
    return undefined;
  }
  if (typeof value === 'object' && value !== null) {
    for (const [key, item] of Object.entries(value)) {
      const found = nulInValue(item, `${path}.${key}`);
      if (found) return found;
    }
  }
  return undefined;
}

function nulInNode(node: ValueNode, path: string, variables: Variables): string | undefined {
  switch (node.kind) {
    case Kind.STRING:
      return node.value.includes('\0') ? path : undefined;
    case Kind.VARIABLE:
      return nulInValue(variables?.[node.name.value], path);
    case Kind.LIST:
      for (const [i, item] of node.values.entries()) {
        const found = nulInNode(item, `${path}.${i}`, variables);
        if (found) return found;
      }
      return undefined;
    case Kind.OBJECT:
      for (const field of node.fields) {
        const found = nulInNode(field.value, `${path}.${field.name.value}`, variables);
        if (found) return found;
      }
      return undefined;
    default:
      return undefined;
  }
}

/** The argument path (inside a mutation's `input`) of the first string argument holding a NUL byte. */
export function nulArgument(document: DocumentNode, variables: Variables): string | undefined {
  let found: string | undefined;
  visit(document, {
    Argument(node) {
      const path = nulInNode(node.value, node.name.value, variables);
      // A mutation's fields are named by their path inside its one `input`, as its resolver names them.
      found = path?.startsWith('input.') ? path.slice('input.'.length) : path;
      // Its value is walked above; a found NUL ends the whole walk.
      return found ? BREAK : false;
    },
  });
  return found;
}

/**
 * Refuses, before anything runs, an operation whose arguments hold a NUL byte in any string,
 * however it arrives (a literal or a variable, however deep in an input object). libvirt takes C
 * strings, so `{ name: "victim\u0000../x" }` would reach it as `victim`; the binding refuses such
 * strings too, but here the error names the GraphQL argument (`domain.name`).
 */
export function useNulFreeArguments(): Plugin {
  // A document's literals are the same on every request: walked once. Variables are walked only
  // when some string in them holds a NUL at all, which the JSON text shows at a glance.
  const literals = new WeakMap<DocumentNode, string | undefined>();
  const check = (args: { document: DocumentNode; variableValues?: Variables }) => {
    let field: string | undefined;
    if (args.variableValues && JSON.stringify(args.variableValues).includes('\\u0000')) {
      field = nulArgument(args.document, args.variableValues);
    } else {
      if (!literals.has(args.document)) literals.set(args.document, nulArgument(args.document, undefined));
      field = literals.get(args.document);
    }
    return field ? { errors: [invalidInput(field, 'must not contain a NUL byte')] } : undefined;
  };
  return {
    onExecute({ args, setResultAndStopExecution }) {
      const refused = check(args);
      if (refused) setResultAndStopExecution(refused);
    },
    onSubscribe({ args, setResultAndStopExecution }) {
      const refused = check(args);
      if (refused) setResultAndStopExecution(refused);
    },
  };
}
