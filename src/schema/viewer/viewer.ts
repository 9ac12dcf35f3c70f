import type { Identity } from '../../auth/identity.ts';
import { PRIVILEGES } from '../../auth/privileges.ts';
import { builder, holdsScope, type PrivilegeScope } from '../core/builder.ts';
import type { GatewayContext } from '../core/context.ts';
import { hostName } from '../core/hosts.ts';
import { findDomain } from '../domain/domain.ts';
import { networks } from '../network/network.ts';
import { pools } from '../storage/pool.ts';
import { IdentityKindEnum } from './identity-kind.ts';
import { PrivilegeEnum } from './privilege-enum.ts';

// `viewer`: who is calling and what they may do where, answered by the check every resolver's
// authScopes make (holdsScope), so a UI shows the buttons the server then honours.

interface WhereArgs {
  host?: string | null;
  domain?: string | null;
  pool?: string | null;
  network?: string | null;
}

function isNotFound(e: unknown): boolean {
  return (e as { extensions?: { code?: unknown } })?.extensions?.code === 'NOT_FOUND';
}

/** Whether the lookup finds the object: one the caller may not audit is NOT_FOUND, as a missing one is. */
async function found(lookup: () => Promise<unknown>): Promise<boolean> {
  try {
    await lookup();
    return true;
  } catch (e) {
    if (isNotFound(e)) return false;
    throw e;
  }
}

/**
 * The scope the arguments name, without its privilege; undefined when a named object is not
 * there for the caller (missing, or not auditable), so both answer alike and nothing confirms
 * what the caller may not see. An unknown or unseen host is UNKNOWN_HOST, as everywhere.
 */
async function scopeOf(ctx: GatewayContext, args: WhereArgs): Promise<Omit<PrivilegeScope, 'privilege'> | undefined> {
  const host = hostName(ctx, args.host);
  const { domain, pool, network } = args;
  const lookups = [
    domain == null ? undefined : () => findDomain(ctx, host, { name: domain }),
    pool == null ? undefined : () => pools.find(ctx, host, pool),
    network == null ? undefined : () => networks.find(ctx, host, network),
  ].filter((l) => l !== undefined);
  const there = await Promise.all(lookups.map(found));
  if (there.includes(false)) return undefined;
  return {
    host,
    ...(domain == null ? {} : { domain }),
    ...(pool == null ? {} : { pool }),
    ...(network == null ? {} : { network }),
  };
}

const ViewerIdentity = builder.objectRef<Identity>('ViewerIdentity').implement({
  description: 'Who the caller is, as the gateway authenticated them.',
  fields: (t) => ({
    name: t.exposeString('name', { nullable: false, description: 'The identity’s name, as grants name it.' }),
    kind: t.field({
      type: IdentityKindEnum,
      nullable: false,
      description: 'How the caller authenticated.',
      resolve: (i) => i.kind,
    }),
    groups: t.exposeStringList('groups', {
      nullable: false,
      description: 'The groups it belongs to (grants can name a group).',
    }),
  }),
});

const Viewer = builder.objectRef<Identity>('Viewer').implement({
  description:
    'The caller and what it may do, from the same check the server makes before each field. A domain, pool or network the caller may not see answers as a missing one: false, or no privileges.',
  fields: (t) => {
    const where = () => ({
      host: t.arg.string({ description: 'Registry name of the host; the default host when omitted.' }),
      domain: t.arg.string({ description: 'A domain’s name: VM privileges are asked of that domain.' }),
      pool: t.arg.string({ description: 'A storage pool’s name: Storage privileges are asked of that pool.' }),
      network: t.arg.string({ description: 'A network’s name: Network privileges are asked of that network.' }),
    });
    return {
      identity: t.field({
        type: ViewerIdentity,
        nullable: false,
        description: 'Who is calling.',
        resolve: (i) => i,
      }),
      privileges: t.field({
        type: [PrivilegeEnum],
        nullable: { list: false, items: false },
        description:
          'Every privilege the caller holds on the host and, for privileges acting on one object, on the object named. Without an object, those held on every object of its kind there (a grant narrowed to names counts only with a name given).',
        args: where(),
        resolve: async (_i, args, ctx) => {
          const scope = await scopeOf(ctx, args);
          return scope ? PRIVILEGES.filter((privilege) => holdsScope(ctx.identity, { ...scope, privilege })) : [];
        },
      }),
      can: t.boolean({
        nullable: false,
        description:
          'Whether the caller holds the privilege there: whether a field needing it would be refused FORBIDDEN.',
        args: {
          privilege: t.arg({ type: PrivilegeEnum, required: true, description: 'The privilege asked about.' }),
          ...where(),
        },
        resolve: async (_i, args, ctx) => {
          const scope = await scopeOf(ctx, args);
          return scope !== undefined && holdsScope(ctx.identity, { ...scope, privilege: args.privilege });
        },
      }),
    };
  },
});

builder.queryField('viewer', (t) =>
  t.field({
    type: Viewer,
    nullable: false,
    description: 'The caller and what it may do. Any caller may ask: it tells only of itself.',
    resolve: (_r, _a, ctx) => ctx.identity,
  }),
);
