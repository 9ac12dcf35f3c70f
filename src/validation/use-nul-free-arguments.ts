import { BREAK, type DocumentNode, Kind, type ValueNode, visit } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import { invalidInput } from '../schema/core/errors.ts';

type Variables = Readonly<Record<string, unknown>> | null | undefined;

/** Deeper than any input type of the schema nests, far below where a recursive walk overflows. */
export const MAX_VARIABLE_DEPTH = 100;

const NUL_REASON = 'must not contain a NUL byte';

interface Step {
  value: unknown;
  key: string;
  parent: Step | undefined;
  depth: number;
}

const pathOf = (step: Step): string => (step.parent ? `${pathOf(step.parent)}.${step.key}` : step.key);

/**
 * The first problem in a value a client sent as JSON: a string holding a NUL byte, or nesting
 * deeper than MAX_VARIABLE_DEPTH. Walked with a stack of its own, so no depth overflows it; the
 * path (`input.name`, `ids.2`) is put together only for the value found.
 */
export function problemInValue(value: unknown, path: string): { path: string; reason: string } | undefined {
  const stack: Step[] = [{ value, key: path, parent: undefined, depth: 0 }];
  // Too deep wins over a NUL: what the NUL check does next walks the value again.
  let nul: Step | undefined;
  for (let step = stack.pop(); step !== undefined; step = stack.pop()) {
    const { value: v, depth } = step;
    if (typeof v === 'string') {
      if (nul === undefined && v.includes('\0')) nul = step;
      continue;
    }
    if (typeof v !== 'object' || v === null) continue;
    if (depth >= MAX_VARIABLE_DEPTH) {
      return { path: pathOf(step), reason: `is nested more than ${MAX_VARIABLE_DEPTH} levels deep` };
    }
    const entries = Array.isArray(v) ? v.map((item, i) => [String(i), item] as const) : Object.entries(v);
    for (let i = entries.length - 1; i >= 0; i--) {
      const [key, item] = entries[i] as readonly [string, unknown];
      stack.push({ value: item, key, parent: step, depth: depth + 1 });
    }
  }
  return nul && { path: pathOf(nul), reason: NUL_REASON };
}

// Literals nest at most as deep as the document (MAX_NESTING, checked before parsing).
function nulInNode(node: ValueNode, path: string, variables: Variables): string | undefined {
  switch (node.kind) {
    case Kind.STRING:
      return node.value.includes('\0') ? path : undefined;
    case Kind.VARIABLE:
      return problemInValue(variables?.[node.name.value], path)?.path;
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

/**
 * The argument path (inside a mutation's `input`) of the first string argument holding a NUL
 * byte, or `$name` for a variable whose default value holds one (used whenever the variable is
 * not sent).
 */
export function nulArgument(document: DocumentNode, variables: Variables): string | undefined {
  let found: string | undefined;
  visit(document, {
    VariableDefinition(node) {
      if (node.defaultValue && nulInNode(node.defaultValue, '', undefined) !== undefined) {
        found = `$${node.variable.name.value}`;
        return BREAK;
      }
      return false;
    },
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
 * however it arrives (a literal, a variable however deep in an input object, or a variable's
 * default value). libvirt takes C strings, so `{ name: "victim\u0000../x" }` would reach it as
 * `victim`; the binding refuses such strings too, but here the error names the GraphQL argument
 * (`domain.name`). Variables nested deeper than MAX_VARIABLE_DEPTH are refused too (INVALID_INPUT
 * naming the variable), before any other plugin walks them.
 */
export function useNulFreeArguments(): Plugin {
  // A document's literals are the same on every request: walked once. Variables are matched
  // with the arguments only when some string in them holds a NUL at all.
  const literals = new WeakMap<DocumentNode, string | undefined>();
  const check = (args: { document: DocumentNode; variableValues?: Variables }) => {
    let nul = false;
    for (const [name, value] of Object.entries(args.variableValues ?? {})) {
      const problem = problemInValue(value, `$${name}`);
      if (problem && problem.reason !== NUL_REASON) return { errors: [invalidInput(problem.path, problem.reason)] };
      nul ||= problem !== undefined;
    }
    let field: string | undefined;
    if (nul) {
      field = nulArgument(args.document, args.variableValues);
    } else {
      if (!literals.has(args.document)) literals.set(args.document, nulArgument(args.document, undefined));
      field = literals.get(args.document);
    }
    return field ? { errors: [invalidInput(field, NUL_REASON)] } : undefined;
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
