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

builder.scalarType('BigInt', {
  description:
    'A 64-bit integer (sizes in bytes or KiB, times in ns), serialized as a string of decimal digits so no precision is lost. Input accepts such a string or a JSON integer up to 2^53.',
  serialize: (value) => String(value),
  parseValue: parseBigInt,
  parseLiteral: (ast) => {
    if (ast.kind === Kind.INT || ast.kind === Kind.STRING) return parseBigInt(ast.value);
    throw new GraphQLError('BigInt must be an integer literal or a string of digits', {
      extensions: { code: 'BAD_USER_INPUT' },
    });
  },
});
