import type { SchemaTypes } from '@pothos/core';
import type { builder } from './builder.ts';
import type { GatewayContext } from './context.ts';

type Types = typeof builder extends PothosSchemaTypes.SchemaBuilder<infer T extends SchemaTypes> ? T : never;

/**
 * `read(value)` at once when the value is loaded already, after it otherwise: a resolver written
 * with it returns no promise when its data is in hand.
 */
export function whenLoaded<T, R>(value: T | Promise<T>, read: (loaded: T) => R): R | Promise<R> {
  return value instanceof Promise ? value.then(read) : read(value);
}

/**
 * Nullable 64-bit fields that each read one member of the same record (a pool's or volume's info,
 * a domain's runtime state): `{ capacityBytes: 'Total size in bytes.' }` resolves `capacityBytes`
 * from `read(parent)`. The record is read once per request by the loader behind `read`.
 */
export function bigIntFields<S, R>(
  t: PothosSchemaTypes.ObjectFieldBuilder<Types, S>,
  read: (ctx: GatewayContext, s: S) => R | Promise<R>,
  fields: { [K in keyof R & string]?: string },
) {
  return Object.fromEntries(
    Object.entries(fields).map(([name, description]) => [
      name,
      t.field({
        type: 'BigInt',
        description: description as string,
        resolve: (s, _a, ctx) => whenLoaded(read(ctx, s), (r) => r[name as keyof R] as bigint),
      }),
    ]),
  );
}
