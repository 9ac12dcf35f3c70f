import { type builder, hostOfGlobalId, keyOfGlobalId } from './builder.ts';
import type { GatewayContext } from './context.ts';
import { type Existing, refuseUsedUuid, withoutOtherNames } from './define-conflicts.ts';
import { invalidInput } from './errors.ts';
import { hostName } from './hosts.ts';
import {
  actOn,
  allOrNothing,
  changed,
  globalIdOf,
  mutationInput,
  payloadInput,
  RemovedObject,
} from './mutation-support.ts';

/**
 * What networks and storage pools have in common: defined or transient, started and stopped,
 * started at host boot. Their create mutations and start/stop/undefine mutations are written
 * once here; each object adds the steps and actions of its own (a pool's build and refresh,
 * a network's simple form).
 */
export interface DefinedObject {
  readonly name: string;
  readonly uuid: string;
  isActive(): Promise<boolean>;
  start(): Promise<unknown>;
  stop(): Promise<unknown>;
  undefine(): Promise<unknown>;
  setAutostart(on: boolean): Promise<unknown>;
}

export interface CreateDefined<O extends DefinedObject> {
  /** "network", "storage pool": in messages. */
  kind: string;
  host: string;
  /** The document's name and UUID. */
  name: string;
  uuid?: string;
  /** The field a name conflict is reported on. */
  nameField: string;
  /** Every object of the kind on the host, visible to the caller or not. */
  existing: readonly Existing[];
  persistent: boolean;
  autostart: boolean;
  /** Checks that run after the conflict checks, before libvirt is asked (the host-safety policy). */
  check?: () => Promise<unknown>;
  createTransient: () => Promise<O>;
  define: () => Promise<O>;
  /** A step between define and start (a pool's build), with its undo. */
  prepare?: { run: (o: O) => Promise<unknown>; undo: (o: O) => Promise<unknown> };
}

/**
 * Creates a transient object (started at once), or defines, prepares, starts and autostarts a
 * persistent one, undone on any failure. Names and UUIDs already used are refused before libvirt
 * is asked, and libvirt's own conflict messages never name another object.
 */
export async function createDefined<O extends DefinedObject>(ctx: GatewayContext, c: CreateDefined<O>): Promise<O> {
  if (c.existing.some((o) => o.name === c.name)) {
    throw invalidInput(c.nameField, `a ${c.kind} named ${c.name} already exists on host ${c.host}`);
  }
  // libvirt's answer to a used UUID names the object that has it, which the caller may not see.
  refuseUsedUuid(c.uuid, c.existing);
  await c.check?.();
  const scrub = withoutOtherNames(c.kind, c.name, c.existing);
  let made: O | undefined;
  if (!c.persistent) {
    made = await c.createTransient().catch(scrub);
  } else {
    const o = () => made as O;
    const prepare = c.prepare;
    await allOrNothing([
      { run: async () => (made = await c.define().catch(scrub)), undo: () => made?.undefine() ?? Promise.resolve() },
      ...(prepare ? [{ run: () => prepare.run(o()), undo: () => prepare.undo(o()) }] : []),
      { run: () => o().start(), undo: () => o().stop() },
      { run: () => (c.autostart ? o().setAutostart(true) : Promise.resolve()) },
    ]);
  }
  changed(ctx);
  return made as O;
}

type MutationFieldBuilder = Parameters<Parameters<typeof builder.mutationFields>[0]>[0];
type ByName = { host?: string | null; name: string };
type Shape = { host: string; object: DefinedObject };

export interface ObjectActions<S extends Shape> {
  /** The GraphQL type name, e.g. "Network": the mutations are <verb><Type>, their inputs <Verb><Type>Input. */
  typeName: string;
  /** "network", "storage pool": in messages. */
  kind: string;
  /** The description of the `name` argument. */
  nameDescription: string;
  node: Parameters<MutationFieldBuilder['field']>[0]['type'];
  authScopes: (parent: unknown, args: ByName, ctx: GatewayContext) => unknown;
  find: (ctx: GatewayContext, args: ByName) => Promise<S>;
}

/** One mutation on an object named by host and name: start, stop, refresh, undefine… */
export interface ObjectAction<O> {
  verb: string;
  description: string;
  /** The state the object must be in (true: active, false: inactive), or undefined for either. */
  mustBeActive: boolean | undefined;
  run: (o: O) => Promise<unknown>;
  /** The object is gone afterwards: the mutation answers a RemovedObject. */
  removes?: boolean;
}

/** Runs an action on the object the arguments name, checking its state first when asked. */
export function actOnNamed<S extends Shape>(
  ctx: GatewayContext,
  spec: Pick<ObjectActions<S>, 'find' | 'kind'>,
  args: ByName,
  mustBeActive: boolean | undefined,
  action: (o: S['object']) => Promise<unknown>,
): Promise<S> {
  return actOn(ctx, spec.find(ctx, args), `${spec.kind} ${args.name}`, mustBeActive, action);
}

/**
 * The host and name an action's input names: `name` (on `host`, the default host when omitted),
 * or the object's global ID `id`, whose host it is; exactly one of them.
 */
export function namedBy(
  ctx: GatewayContext,
  typeName: string,
  input: { host?: string | null; name?: string | null; id?: string | number | null },
): ByName {
  if ((input.id == null) === (input.name == null)) throw invalidInput('name', 'give exactly one of name or id');
  if (input.id == null) return { host: input.host, name: input.name as string };
  const id = String(input.id);
  const host = hostName(ctx, input.host ?? hostOfGlobalId(id));
  return { host, name: keyOfGlobalId(id, typeName, host, 'id') };
}

/** The mutations of `actions`, in their order, each taking the host and the object's name, or its global ID. */
export function actionFields<S extends Shape>(
  t: MutationFieldBuilder,
  spec: ObjectActions<S>,
  actions: ObjectAction<S['object']>[],
) {
  const host = t.arg.string({ description: 'Registry name of the host; the default host when omitted.' });
  const name = t.arg.string({ description: `${spec.nameDescription} Give this or id.` });
  const id = t.arg.id({
    description: `The ${spec.kind}’s global ID (its \`id\`), instead of name; its host is implied.`,
  });
  // The same normalisation for the privilege check and the action: both see the name the ID stands for.
  const field = (a: ObjectAction<S['object']>) =>
    t.field({
      authScopes: ((parent: unknown, args: { input: Parameters<typeof namedBy>[2] }, ctx: GatewayContext) =>
        spec.authScopes(parent, namedBy(ctx, spec.typeName, args.input), ctx)) as never,
      type: a.removes ? RemovedObject : spec.node,
      description: a.description,
      args: (a.removes ? payloadInput : mutationInput)(
        `${a.verb.charAt(0).toUpperCase()}${a.verb.slice(1)}${spec.typeName}`,
        { host, name, id },
      ),
      resolve: async (_r, { input }, ctx) => {
        const s = await actOnNamed(ctx, spec, namedBy(ctx, spec.typeName, input), a.mustBeActive, a.run);
        return (
          a.removes
            ? {
                host: s.host,
                name: s.object.name,
                uuid: s.object.uuid,
                deletedId: globalIdOf(spec.typeName, s.host, s.object.name),
              }
            : s
        ) as never;
      },
    });
  return Object.fromEntries(actions.map((a) => [`${a.verb}${spec.typeName}`, field(a)]));
}
