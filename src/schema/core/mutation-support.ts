import { type ArgumentRef, InputFieldRef, type SchemaTypes } from '@pothos/core';
import { encodeGlobalID } from '@pothos/plugin-relay';
import { z } from 'zod';
import type { Scope } from '../../libvirt/index.ts';
import { builder, decodeGlobalIdOrMark } from './builder.ts';
import type { GatewayContext } from './context.ts';
import { gatewayError } from './errors.ts';
import { Host } from './hosts.ts';
import { forgetReads, hostKey, splitHostKey } from './request-cache.ts';

export const DeviceScope = builder.enumType('DeviceScope', {
  description:
    'Where a device, memory or vCPU change applies. Omitted: the running domain when it runs, its persistent configuration when it is stopped.',
  values: {
    LIVE: { description: 'The running domain only (lost at shutdown).' },
    CONFIG: { description: 'The persistent configuration only (from the next start).' },
    BOTH: { description: 'The running domain and its persistent configuration.' },
  } as const,
});

export type DeviceScopeValue = 'LIVE' | 'CONFIG' | 'BOTH';

/** The libvirt scope for a requested one; no request means live when running, config when stopped. */
export function scopeFor(scope: DeviceScopeValue | null | undefined, active: boolean): Scope {
  if (scope === 'LIVE') return 'live';
  if (scope === 'CONFIG') return 'config';
  if (scope === 'BOTH') return 'both';
  return active ? 'live' : 'config';
}

export interface RemovedShape {
  host: string;
  name: string;
  /** The global ID the object had: what a client cache evicts. */
  deletedId: string;
  uuid?: string;
  /** Paths of the storage volumes removed with it (undefineDomain with removeStorage). */
  removedVolumes?: string[];
  /** For a deleted snapshot: the domain it belonged to (host key of the domain's UUID). */
  domainKey?: string;
}

/** The global ID of an object of node type `type` keyed `key` on `host`, as its `id` field gives it. */
export function globalIdOf(type: string, host: string, key: string): string {
  return encodeGlobalID(type, hostKey(host, key));
}

/** The payload's `clientMutationId` (`t.string(clientMutationId)`): Relay's echo of the input's string. */
export const clientMutationId = {
  description: 'The input’s clientMutationId, unchanged (Relay); null when none was sent.',
  resolve: (payload: unknown) => (payload as { clientMutationId?: string | null }).clientMutationId ?? null,
};

export const RemovedObject = builder.objectRef<RemovedShape>('RemovedObject').implement({
  description: 'What an undefine or delete removed: its global ID, for a client cache to evict.',
  fields: (t) => ({
    deletedId: t.exposeID('deletedId', {
      nullable: false,
      description: 'The global ID the object had (its `id`): evict it from a client cache.',
    }),
    host: t.field({
      type: Host,
      nullable: false,
      description: 'The host it was on.',
      resolve: (r) => ({ name: r.host }),
    }),
    name: t.exposeString('name', { nullable: false, description: 'Its name (or path, for a volume).' }),
    uuid: t.string({ description: 'Its UUID, where it had one.', resolve: (r) => r.uuid ?? null }),
    removedVolumes: t.stringList({
      description: 'For undefineDomain with removeStorage: the paths of the storage volumes deleted with it.',
      resolve: (r) => r.removedVolumes ?? null,
    }),
    clientMutationId: t.string(clientMutationId),
  }),
});

/**
 * Runs the steps of a multi-step change in order. When one fails, the undo of every step
 * that completed runs in reverse order (their own failures are ignored) and the original
 * error is thrown: nothing is left half done.
 */
export async function allOrNothing(steps: Array<{ run: () => Promise<unknown>; undo?: () => Promise<unknown> }>) {
  const done: Array<() => Promise<unknown>> = [];
  try {
    for (const step of steps) {
      await step.run();
      if (step.undo) done.push(step.undo);
    }
  } catch (e) {
    for (const undo of done.reverse()) await undo().catch(() => undefined);
    throw e;
  }
}

/** After a change: later fields of this request read libvirt afresh. */
export function changed(ctx: GatewayContext): void {
  forgetReads(ctx);
}

/**
 * An action on a network or storage pool that must be active (true), inactive (false) or
 * either (undefined); the wrong state is INVALID_STATE before libvirt is asked.
 */
export async function actOn<O extends { isActive(): Promise<boolean> }, S extends { object: O }>(
  ctx: GatewayContext,
  found: Promise<S>,
  what: string,
  mustBeActive: boolean | undefined,
  action: (o: O) => Promise<unknown>,
): Promise<S> {
  const s = await found;
  if (mustBeActive !== undefined && (await s.object.isActive()) !== mustBeActive) {
    throw gatewayError('INVALID_STATE', `${what} is ${mustBeActive ? 'not active' : 'already active'}`);
  }
  await action(s.object);
  changed(ctx);
  return s;
}

type Types = typeof builder extends PothosSchemaTypes.SchemaBuilder<infer T extends SchemaTypes> ? T : never;
type ArgumentSpec = Record<string, ArgumentRef<Types, unknown>>;

/** The value a mutation's `input` carries: what each argument of the spec would have been. */
export type InputOf<A extends ArgumentSpec> = {
  [K in keyof A]: A[K] extends ArgumentRef<Types, infer T> ? T : never;
};

/** An argument of the spec as a field of the input type, with its type, default, description and checks. */
function asInputField(argument: ArgumentRef<Types, unknown>): InputFieldRef<Types, unknown> {
  return new InputFieldRef<Types, unknown>((name, typeConfig) => ({
    ...argument.getConfig(name, '', typeConfig),
    parentField: undefined,
    kind: 'InputObject',
    graphqlKind: 'InputObject',
  }));
}

/**
 * Relay-style mutation arguments: the one argument `input: <Name>Input!`, an input type holding
 * every argument of `spec` (host, the object ref and the rest) under the same name. Resolvers and
 * authScopes read `args.input` ({@link fromInput}) as they read `args` before.
 */
/**
 * A mutation's host is implied by the global ID of the object it names (a DomainRef or VolumeRef
 * `id`): `host` omitted becomes the ID's host (the ref's lookup refuses an ID of another host than a
 * given one).
 */
const REF_KINDS = new Set(['Domain', 'Volume', 'HostInterface', 'Secret']);

/** `host`, or else the host named by the global ID of a ref among `refs` (undefined: the default host). */
export function impliedHostOf(host: string | null | undefined, ...refs: unknown[]): string | undefined {
  if (host != null) return host;
  for (const value of refs) {
    const id = (value as { id?: unknown } | null | undefined)?.id;
    if (typeof id !== 'string') continue;
    const decoded = decodeGlobalIdOrMark(id);
    if (REF_KINDS.has(decoded.typename)) return splitHostKey(decoded.id)[0];
  }
  return undefined;
}

const impliedHost = z.custom<Record<string, unknown>>().transform((input) => {
  if (input.host != null) return input;
  const host = impliedHostOf(undefined, ...Object.values(input));
  return host === undefined ? input : { ...input, host };
});

/**
 * The input of a mutation answering a payload (more than one thing): the spec's arguments and Relay's
 * `clientMutationId`, which the payload echoes (see echoClientMutationIds).
 */
export function payloadInput<A extends ArgumentSpec>(name: string, spec: A) {
  return mutationInput(name, spec, true);
}

export function mutationInput<A extends ArgumentSpec>(name: string, spec: A, echoes = false) {
  const type = builder.inputRef<InputOf<A>>(`${name}Input`).implement({
    validate: impliedHost as never,
    description: `Everything ${name.charAt(0).toLowerCase()}${name.slice(1)} acts on and how: its host, the object and the options.`,
    // The spec's refs are arguments; the same configs serve as input fields (typed by InputOf above).
    fields: (t) =>
      ({
        ...(Object.fromEntries(Object.entries(spec).map(([key, argument]) => [key, asInputField(argument)])) as object),
        ...(echoes
          ? {
              clientMutationId: t.string({
                description:
                  'Any string (Relay): the payload’s clientMutationId echoes it, to match answers to requests.',
                validate: z.string().max(256, 'at most 256 characters'),
              }),
            }
          : {}),
      }) as never,
  });
  return builder.args((t) => ({
    input: t.field({ type, required: true, description: 'The host, the object and the options of this mutation.' }),
  }));
}

/** An authScopes function written for a field's arguments, applied to a mutation's `input`. */
export function fromInput<P, I, C, R>(scopes: (parent: P, args: I, ctx: C) => R) {
  return (parent: P, args: { input: I }, ctx: C): R => scopes(parent, args.input, ctx);
}

/**
 * The arguments of a create-from-XML mutation (networks, storage pools): the document, and
 * whether the object is defined (else transient) and, when defined, started at host boot.
 */
export function createFromXmlArgs(document: string, autostartDescription: string) {
  return builder.args((t) => ({
    xml: t.string({ required: true, description: `A ${document} XML document.` }),
    persistent: t.boolean({
      defaultValue: true,
      required: true,
      description: 'Defined (true) or transient (false, gone when stopped). @default true',
    }),
    autostart: t.boolean({ defaultValue: true, required: true, description: autostartDescription }),
  }));
}
