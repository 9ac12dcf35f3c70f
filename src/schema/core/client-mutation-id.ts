import { defaultFieldResolver, type GraphQLSchema, getNamedType, isInputObjectType } from 'graphql';

/**
 * Relay's echo: a mutation whose input has `clientMutationId` answers a payload carrying the same
 * string. Done once here for every such mutation, so no resolver can forget it.
 */
export function echoClientMutationIds(schema: GraphQLSchema): GraphQLSchema {
  for (const field of Object.values(schema.getMutationType()?.getFields() ?? {})) {
    const input = getNamedType(field.args.find((a) => a.name === 'input')?.type);
    if (!isInputObjectType(input) || !('clientMutationId' in input.getFields())) continue;
    const resolve = field.resolve ?? defaultFieldResolver;
    field.resolve = async (source, args, ctx, info) => {
      const result = await resolve(source, args, ctx, info);
      const id = (args as { input?: { clientMutationId?: string | null } }).input?.clientMutationId;
      if (result == null || id == null) return result;
      // A copy with the echo, keeping the payload's prototype (its fields may read getters).
      return Object.assign(Object.create(Object.getPrototypeOf(result)), result, { clientMutationId: id });
    };
  }
  return schema;
}
