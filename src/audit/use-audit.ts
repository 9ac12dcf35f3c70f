import type { IncomingMessage } from 'node:http';
import {
  defaultFieldResolver,
  type GraphQLArgument,
  type GraphQLField,
  type GraphQLInputField,
  type GraphQLSchema,
  getNamedType,
  isInputObjectType,
} from 'graphql';
import type { Plugin } from 'graphql-yoga';
import type { Logger } from 'pino';
import type { Identity } from '../auth/identity.ts';
import { hostOfGlobalId } from '../schema/core/builder.ts';
import type { HostSource } from '../schema/core/context.ts';
import { clientErrorCode } from '../schema/core/errors.ts';
import type { AuditLog } from './audit-log.ts';
import { redactArguments } from './redact-arguments.ts';

/** What the audit hook reads from the GraphQL context; `audit` is what useAudit adds to it. */

/** What a mutation was asked: the fields of its one `input` (Relay style), or its own arguments. */
function argumentsOf(args: Record<string, unknown>): Record<string, unknown> {
  const { input } = args;
  return Object.keys(args).length === 1 && input !== null && typeof input === 'object'
    ? (input as Record<string, unknown>)
    : args;
}
export interface AuditContext {
  audit?: AuditLog;
  identity?: Identity;
  hosts?: HostSource;
  /** Tracked operations: cancelOperation acts on its operation's host. */
  operations?: { get(id: string): Promise<{ host?: string } | undefined> };
  /** The Node request: yoga's server context over HTTP, the upgrade request over graphql-ws. */
  req?: IncomingMessage;
  /** The request's logger (its lines carry the request id). */
  log?: Logger;
}

/**
 * The host a call acts on: its `host` argument; else the host of the object it names by global ID
 * (a DomainRef, VolumeRef or InterfaceRef `id`, which the mutation itself follows); else, for an
 * operation id (cancelOperation, switchMigrationToPostCopy), the host that operation runs on; else the default host.
 */
export async function actedOnHost(asked: Record<string, unknown>, context: AuditContext): Promise<string> {
  if (typeof asked.host === 'string') return asked.host;
  for (const value of [asked, ...Object.values(asked)]) {
    if (typeof value !== 'object' || value === null) continue;
    const { id } = value as { id?: unknown };
    const host = typeof id === 'string' ? hostOfGlobalId(id) : undefined;
    if (host !== undefined) return host;
  }
  // switchMigrationToPostCopy names its operation `operation`.
  const operationId = typeof asked.operation === 'string' ? asked.operation : asked.id;
  if (typeof operationId === 'string') {
    const host = hostOfGlobalId(operationId);
    if (host !== undefined) return host;
  }
  if (typeof operationId === 'string' && context.operations) {
    const operation = await context.operations.get(operationId).catch(() => undefined);
    if (operation?.host) return operation.host;
  }
  return context.hosts?.defaultName ?? '';
}

/** Whether an argument's or input field's type is marked with the extension `key` (see secretArguments). */
function marked(f: GraphQLArgument | GraphQLInputField, key: 'secret' | 'auditPlain'): boolean {
  return getNamedType(f.type).extensions?.[key] === true;
}

/**
 * The arguments of a mutation (the fields of its one `input`, as argumentsOf reads them) by what the
 * audit record does with them: `secret`, those whose type is a scalar marked `secret` (a secret's
 * value: named, never its value, digest or size); `plain`, those whose type is marked `auditPlain`
 * (a ref to a secret: its id or UUID, kept readable although its name says "secret").
 */
function markedArguments(field: GraphQLField<unknown, AuditContext>) {
  const secret = new Set<string>();
  const plain = new Set<string>();
  const sort = (f: GraphQLArgument | GraphQLInputField) => {
    if (marked(f, 'secret')) secret.add(f.name);
    else if (marked(f, 'auditPlain')) plain.add(f.name);
  };
  for (const arg of field.args) {
    sort(arg);
    const type = getNamedType(arg.type);
    if (arg.name === 'input' && isInputObjectType(type)) for (const f of Object.values(type.getFields())) sort(f);
  }
  return { secret, plain };
}

// The schema object is shared by every app of the process: its mutation fields are wrapped once,
// and each call finds its own app's log in the context.
const wrapped = new WeakSet<GraphQLField<unknown, AuditContext>>();

function audit(field: GraphQLField<unknown, AuditContext>): void {
  if (wrapped.has(field)) return;
  wrapped.add(field);
  const resolve = field.resolve ?? defaultFieldResolver;
  const marks = markedArguments(field);
  field.resolve = (source, args: Record<string, unknown>, context, info) => {
    const log = context.audit;
    if (log === undefined) return resolve(source, args, context, info);
    const time = new Date().toISOString();
    const asked = argumentsOf(args);
    const started = performance.now();
    // Before the call: cancelOperation's operation is then still known.
    const host = actedOnHost(asked, context);
    const finish = async (result: string) =>
      log.write(
        {
          time,
          identity: { name: context.identity?.name ?? 'unknown', kind: context.identity?.kind ?? 'anonymous' },
          source: context.req?.socket?.remoteAddress ?? null,
          host: await host,
          operation: field.name,
          arguments: redactArguments(asked, marks),
          result,
          durationMs: Math.round((performance.now() - started) * 1000) / 1000,
        },
        context.log,
      );
    const failed = (error: unknown) =>
      finish(clientErrorCode(error)).then(() => {
        throw error;
      });
    try {
      return Promise.resolve(resolve(source, args, context, info)).then(
        (value) => finish('ok').then(() => value),
        failed,
      );
    } catch (error) {
      return failed(error);
    }
  };
}

/**
 * Writes one audit record per root mutation field, whichever transport carried it, once the
 * field has resolved (or failed) and before its result is sent. Wraps the Mutation type's
 * resolvers, outside the scope checks, so a refused call is recorded too.
 */
export function useAudit(log: AuditLog): Plugin<AuditContext> {
  return {
    onSchemaChange({ schema }: { schema: GraphQLSchema }) {
      const fields = schema.getMutationType()?.getFields() ?? {};
      for (const field of Object.values(fields)) audit(field as GraphQLField<unknown, AuditContext>);
    },
    onContextBuilding({ extendContext }) {
      extendContext({ audit: log });
    },
  };
}
