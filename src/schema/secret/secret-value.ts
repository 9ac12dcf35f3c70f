import { GraphQLError, Kind } from 'graphql';
import { builder } from '../core/builder.ts';
import { holdsSecret, invalidInput } from '../core/errors.ts';

// A secret's value as a client sends it: input only (nothing serializes one), and no error about
// it repeats it — neither this scalar's, nor graphql-js's coercion errors (core/errors.ts,
// holdsSecret), nor the resolver's checks below. The audit hook records it as redacted (its
// scalar's `secret` extension).

/** The largest value libvirt's remote protocol carries (REMOTE_SECRET_VALUE_MAX). */
export const MAX_SECRET_BYTES = 65_536;

function notAString(): GraphQLError {
  return new GraphQLError('SecretValue must be a string (its value is not repeated here)', {
    extensions: { code: 'BAD_USER_INPUT' },
  });
}

export const SecretValueScalar = builder.scalarType('SecretValue', {
  description:
    'A secret’s value, input only: UTF-8 text, or base64 of the bytes (see SecretValueEncoding). Never returned, logged, audited or repeated in an error.',
  // On the wire it is a GraphQL String; what makes it a scalar of its own is that it is never repeated.
  specifiedByURL: 'https://spec.graphql.org/October2021/#sec-String',
  extensions: { secret: true },
  serialize: () => {
    throw new GraphQLError('a SecretValue is never returned');
  },
  parseValue: (value) => {
    if (typeof value !== 'string') throw notAString();
    return value;
  },
  parseLiteral: (ast) => {
    if (ast.kind !== Kind.STRING) throw notAString();
    return ast.value;
  },
});
holdsSecret('SecretValue');

export const SecretValueEncoding = builder.enumType('SecretValueEncoding', {
  description: 'How a SecretValue is written.',
  values: {
    TEXT: { description: 'The value is the text itself, stored as its UTF-8 bytes.' },
    BASE64: { description: 'The value is base64 (RFC 4648, with padding) of the bytes to store.' },
  } as const,
});

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** The bytes a value stands for: INVALID_INPUT naming `field` (never showing the value) when it is not valid or too large. */
export function secretBytes(value: string, encoding: 'TEXT' | 'BASE64', field: string): Buffer {
  // Checked on the text first, so no large buffer is made for a value that would be refused anyway.
  const limit = encoding === 'BASE64' ? Math.ceil(MAX_SECRET_BYTES / 3) * 4 : MAX_SECRET_BYTES;
  if (value.length > limit) throw invalidInput(field, `must be at most ${MAX_SECRET_BYTES} bytes`);
  if (encoding === 'BASE64' && !BASE64.test(value)) throw invalidInput(field, 'is not valid base64');
  const bytes = Buffer.from(value, encoding === 'BASE64' ? 'base64' : 'utf8');
  if (bytes.length > MAX_SECRET_BYTES) {
    bytes.fill(0);
    throw invalidInput(field, `must be at most ${MAX_SECRET_BYTES} bytes`);
  }
  if (bytes.length === 0) throw invalidInput(field, 'must not be empty');
  return bytes;
}
