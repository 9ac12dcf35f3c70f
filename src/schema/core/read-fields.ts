import type { SchemaTypes } from '@pothos/core';
import type { builder } from './builder.ts';
import type { GatewayContext } from './context.ts';

type Types = typeof builder extends PothosSchemaTypes.SchemaBuilder<infer T extends SchemaTypes> ? T : never;

/**
 * Nullable 64-bit fields that each read one member of the same record (a pool's or volume's info,
 * a domain's runtime state): `{ capacityBytes: 'Total size in bytes.' }` resolves `capacityBytes`
 * from `read(parent)`. The record is read once per request by the loader behind `read`.
 */
export function bigIntFields<S, R>(
  t: PothosSchemaTypes.ObjectFieldBuilder<Types, S>,
  read: (ctx: GatewayContext, s: S) => Promise<R>,
  fields: { [K in keyof R & string]?: string },
) {
  return Object.fromEntries(
    Object.entries(fields).map(([name, description]) => [
      name,
      t.field({
        type: 'BigInt',
        description: description as string,
        resolve: async (s, _a, ctx) => (await read(ctx, s))[name as keyof R] as bigint,
      }),
    ]),
  );
}
