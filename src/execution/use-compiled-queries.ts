import { type DocumentNode, type ExecutionArgs, type GraphQLSchema, getOperationAST, getVariableValues } from 'graphql';
import { type CompiledQuery, compileQuery, isCompiledQuery } from 'graphql-jit';
import type { Plugin } from 'graphql-yoga';

/**
 * Whether a request may run compiled: a query (never a mutation or subscription, whose ordering,
 * partial-success and event semantics stay graphql-js's) whose variables graphql-js itself accepts.
 * graphql-jit coerces variables on its own and knows no `@oneOf`: a request graphql-js would refuse
 * runs on graphql-js, which refuses it exactly as before.
 */
export function runsCompiled(args: ExecutionArgs): boolean {
  const operation = getOperationAST(args.document, args.operationName);
  if (operation?.operation !== 'query') return false;
  const definitions = operation.variableDefinitions ?? [];
  if (definitions.length === 0) return true;
  const coerced = getVariableValues(args.schema, definitions, args.variableValues ?? {}, { maxErrors: 1 });
  return coerced.errors === undefined;
}

/** null: graphql-jit could not compile it, and graphql-js runs it. */
type Compiled = CompiledQuery | null;

/**
 * Queries run as code compiled once per document and operation (graphql-jit) instead of
 * graphql-js walking the document for every object: on a 1,000-domain inventory graphql-js
 * allocates a resolve-info object, a path and an argument map per field, and collecting them was
 * most of the gateway's own time. The compiled form is kept beside the parsed document (yoga
 * caches one per source text) and goes with it. The resolvers, their authorization and their errors
 * are the same. First among the plugins: those after it wrap the executor it sets.
 */
export function useCompiledQueries(): Plugin {
  const bySchema = new WeakMap<GraphQLSchema, WeakMap<DocumentNode, Map<string, Compiled>>>();
  const compiledFor = (args: ExecutionArgs): Compiled => {
    let byDocument = bySchema.get(args.schema);
    if (byDocument === undefined) {
      byDocument = new WeakMap();
      bySchema.set(args.schema, byDocument);
    }
    let byOperation = byDocument.get(args.document);
    if (byOperation === undefined) {
      byOperation = new Map();
      byDocument.set(args.document, byOperation);
    }
    const key = args.operationName ?? '';
    let compiled = byOperation.get(key);
    if (compiled === undefined) {
      const result = compileQuery(args.schema, args.document, args.operationName ?? undefined);
      compiled = isCompiledQuery(result) ? result : null;
      byOperation.set(key, compiled);
    }
    return compiled;
  };
  return {
    onExecute({ args, setExecuteFn }) {
      if (!runsCompiled(args)) return;
      const compiled = compiledFor(args);
      if (compiled === null) return;
      setExecuteFn((run) => compiled.query(run.rootValue, run.contextValue, run.variableValues));
    },
  };
}
