import { GraphQLError, Kind } from 'graphql';
import { builder } from './builder.ts';

const DIGITS = /^-?\d+$/;

function parseBigInt(value: unknown): bigint {
  if (typeof value === 'bigint') return value;
  if (typeof value === 'number' && Number.isSafeInteger(value)) return BigInt(value);
  if (typeof value === 'string' && DIGITS.test(value)) return BigInt(value);
  throw new GraphQLError(`BigInt must be an integer (as a string of digits or a safe integer), got ${String(value)}`, {
    extensions: { code: 'BAD_USER_INPUT' },
  });
}

// Neither scalars.graphql.org's Long specs nor graphql-scalars' BigInt serialize as a string, so
// BigInt points at the definition of the exact text it writes: ECMAScript's BigInt::toString, radix 10.
builder.scalarType('BigInt', {
  description:
    'A 64-bit integer (sizes in bytes or KiB, times in ns), serialized as a string of decimal digits so no precision is lost. Input accepts such a string or a JSON integer up to 2^53.',
  specifiedByURL: 'https://tc39.es/ecma262/#sec-numeric-types-bigint-tostring',
  serialize: (value) => String(value),
  parseValue: parseBigInt,
  parseLiteral: (ast) => {
    if (ast.kind === Kind.INT || ast.kind === Kind.STRING) return parseBigInt(ast.value);
    throw new GraphQLError('BigInt must be an integer literal or a string of digits', {
      extensions: { code: 'BAD_USER_INPUT' },
    });
  },
});

function parseDateTime(value: unknown): Date {
  const date = typeof value === 'string' ? new Date(value) : undefined;
  if (date === undefined || Number.isNaN(date.getTime())) {
    throw new GraphQLError(`DateTime must be an ISO 8601 date and time string, got ${String(value)}`, {
      extensions: { code: 'BAD_USER_INPUT' },
    });
  }
  return date;
}

builder.scalarType('DateTime', {
  description: 'A point in time: an ISO 8601 string in UTC with milliseconds, e.g. 2026-01-31T09:30:00.000Z.',
  specifiedByURL: 'https://scalars.graphql.org/andimarek/date-time',
  serialize: (value) => value.toISOString(),
  parseValue: parseDateTime,
  parseLiteral: (ast) => parseDateTime(ast.kind === Kind.STRING ? ast.value : undefined),
});
