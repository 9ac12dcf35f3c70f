import {
  type GraphQLArgument,
  type GraphQLField,
  type GraphQLInputType,
  type GraphQLSchema,
  getNamedType,
  isEnumType,
  isInputObjectType,
  isLeafType,
  isListType,
  isNonNullType,
  isScalarType,
} from 'graphql';

/** A field that takes arguments, and how a document reaches it. */
export interface ArgumentField {
  /** `Mutation.attachDisk`, `Host.domain`. */
  name: string;
  operation: 'query' | 'mutation' | 'subscription';
  field: GraphQLField<unknown, unknown>;
  /** Wraps the field's selection in the document: `host { … }` for Host fields. */
  wrap: (inner: string) => string;
}

const direct = (inner: string) => inner;

/** Every root field with arguments, plus those of Host (under `host`) and Domain (under the domain `web`). */
export function fieldsWithArguments(schema: GraphQLSchema): ArgumentField[] {
  const roots: Array<[ArgumentField['operation'], string, (inner: string) => string]> = [
    ['query', 'Query', direct],
    ['mutation', 'Mutation', direct],
    ['subscription', 'Subscription', direct],
    ['query', 'Host', (inner) => `host { ${inner} }`],
    ['query', 'Domain', (inner) => `domain(ref: { name: "web" }) { ${inner} }`],
  ];
  return roots.flatMap(([operation, typeName, wrap]) => {
    const type = schema.getType(typeName);
    if (!type || !('getFields' in type)) return [];
    return Object.values(type.getFields())
      .filter((f): f is GraphQLField<unknown, unknown> => 'args' in f && f.args.length > 0)
      .map((field) => ({ name: `${typeName}.${field.name}`, operation, field, wrap }));
  });
}

/** A well-formed value of a type: required input fields filled, a oneOf input with its first key. */
export function sampleValue(type: GraphQLInputType): unknown {
  if (isNonNullType(type)) return sampleValue(type.ofType);
  if (isListType(type)) return [sampleValue(type.ofType)];
  if (isEnumType(type)) return type.getValues()[0]?.name;
  if (isInputObjectType(type)) {
    const fields = Object.values(type.getFields());
    if (type.isOneOf) return { [fields[0]?.name ?? '']: sampleValue(fields[0]?.type as GraphQLInputType) };
    return Object.fromEntries(fields.filter((f) => isNonNullType(f.type)).map((f) => [f.name, sampleValue(f.type)]));
  }
  switch (type.name) {
    case 'Int':
      return 1;
    case 'Float':
      return 1.5;
    case 'Boolean':
      return false;
    case 'BigInt':
      return '524288';
    case 'DateTime':
      return '2026-01-01T00:00:00.000Z';
    default:
      return 'web';
  }
}

/** Paths (`['input', 'sourcePath']`, `['ids', '0']`) to every String and ID in an argument's type. */
export function stringPaths(type: GraphQLInputType, path: string[] = []): string[][] {
  if (isNonNullType(type)) return stringPaths(type.ofType, path);
  if (isListType(type)) return stringPaths(type.ofType, [...path, '0']);
  if (isInputObjectType(type)) {
    return Object.values(type.getFields()).flatMap((f) => stringPaths(f.type, [...path, f.name]));
  }
  const named = getNamedType(type);
  return isScalarType(named) && (named.name === 'String' || named.name === 'ID') ? [path] : [];
}

/** A value of `type` that holds `leaf` at `path` and is otherwise well formed (a oneOf keeps only that key). */
export function valueWith(type: GraphQLInputType, path: readonly string[], leaf: unknown): unknown {
  if (path.length === 0) return leaf;
  if (isNonNullType(type)) return valueWith(type.ofType, path, leaf);
  const [key, ...rest] = path as [string, ...string[]];
  if (isListType(type)) return [valueWith(type.ofType, rest, leaf)];
  if (!isInputObjectType(type)) throw new Error(`no field ${key} in ${String(type)}`);
  const field = type.getFields()[key];
  if (!field) throw new Error(`no field ${key} in ${type.name}`);
  const base = type.isOneOf ? {} : (sampleValue(type) as Record<string, unknown>);
  return { ...base, [key]: valueWith(field.type, rest, leaf) };
}

/**
 * A value as a GraphQL literal, written as a client would: enum values bare, other strings quoted
 * with JSON's escapes (valid GraphQL), object keys unquoted. Values of the wrong type are written
 * as they are, so the document can carry them to validation.
 */
export function literalOf(value: unknown, type?: GraphQLInputType): string {
  const inner = type && isNonNullType(type) ? type.ofType : type;
  if (value === null || value === undefined) return 'null';
  if (Array.isArray(value)) {
    return `[${value.map((v) => literalOf(v, inner && isListType(inner) ? inner.ofType : undefined)).join(', ')}]`;
  }
  if (typeof value === 'object') {
    const fields = inner && isInputObjectType(inner) ? inner.getFields() : {};
    const entries = Object.entries(value).map(([k, v]) => `${k}: ${literalOf(v, fields[k]?.type)}`);
    return `{ ${entries.join(', ')} }`;
  }
  if (typeof value === 'string' && inner && isEnumType(inner) && /^[_A-Za-z]\w*$/.test(value)) return value;
  return typeof value === 'bigint' ? String(value) : JSON.stringify(value);
}

/** The selection a field needs: `{ __typename }` unless it returns a leaf. */
function selectionOf(field: GraphQLField<unknown, unknown>): string {
  return isLeafType(getNamedType(field.type)) ? '' : ' { __typename }';
}

export interface Operation {
  query: string;
  variables: Record<string, unknown>;
}

/** Required arguments filled with samples, then `values` on top. */
export function argumentValues(field: GraphQLField<unknown, unknown>, values: Record<string, unknown>) {
  const required = field.args.filter((a) => isNonNullType(a.type) && a.defaultValue === undefined);
  return { ...Object.fromEntries(required.map((a) => [a.name, sampleValue(a.type)])), ...values };
}

/** A document calling the field with `args`, passed as variables (`$a0`…) or written inline as literals. */
export function operationFor(target: ArgumentField, args: Record<string, unknown>, inline: boolean): Operation {
  const byName = new Map<string, GraphQLArgument>(target.field.args.map((a) => [a.name, a]));
  const variables: Record<string, unknown> = {};
  const definitions: string[] = [];
  const written = Object.entries(args).map(([name, value], i) => {
    const arg = byName.get(name);
    if (inline || !arg) {
      return `${name}: ${literalOf(value, arg?.type)}`;
    }
    definitions.push(`$a${i}: ${String(arg.type)}`);
    variables[`a${i}`] = value;
    return `${name}: $a${i}`;
  });
  const head = definitions.length > 0 ? `${target.operation} (${definitions.join(', ')})` : target.operation;
  const call = `${target.field.name}(${written.join(', ')})${selectionOf(target.field)}`;
  return { query: `${head} { ${target.wrap(call)} }`, variables };
}
