import { z } from 'zod';
import { createLocalLocks, LockTimeoutError, LockUnavailableError } from '../../hosts/object-locks.ts';
import {
  type Connection,
  type Domain,
  type DomainStateName,
  type DomainUndefineFlagsValues,
  LibvirtError,
  type Scope,
  type Volume,
} from '../../libvirt/index.ts';
import { type DomainDisk, parseDomainXml } from '../../libvirt/xml/domain-xml.ts';
import { builder } from '../core/builder.ts';
import type { GatewayContext } from '../core/context.ts';
import { codeOf, gatewayError, invalidInput } from '../core/errors.ts';
import { connectionOf, hostName } from '../core/hosts.ts';
import {
  changed,
  clientMutationId,
  type DeviceScopeValue,
  fromInput,
  globalIdOf,
  mutationInput,
  payloadInput,
  RemovedObject,
  scopeFor,
} from '../core/mutation-support.ts';
import { requireOnPool } from '../storage/pool-grants.ts';
import {
  DomainNode,
  DomainRef,
  type DomainRefValue,
  type DomainShape,
  DomainStateEnum,
  findDomain,
  onDomainArg,
  rememberState,
} from './domain.ts';

export type StateName = DomainStateName | 'UNKNOWN';

export interface StateChange {
  domain: DomainShape;
  previousState: StateName;
  state: StateName;
  forced?: boolean;
}

/** A state newer than this libvirt binding knows is reported as NOSTATE, as `Domain.state` reports it as null. */
function knownState(state: StateName): DomainStateName {
  return state === 'UNKNOWN' ? 'NOSTATE' : state;
}

export const DomainStateChange = builder.objectRef<StateChange>('DomainStateChange').implement({
  description: 'A domain after a lifecycle action, with the state before and after it.',
  fields: (t) => ({
    clientMutationId: t.string(clientMutationId),
    domain: t.field({ type: DomainNode, nullable: false, description: 'The domain now.', resolve: (c) => c.domain }),
    previousState: t.field({
      type: DomainStateEnum,
      nullable: false,
      description: 'The state before the action (NOSTATE when libvirt named none the gateway knows).',
      resolve: (c) => knownState(c.previousState),
    }),
    state: t.field({
      type: DomainStateEnum,
      nullable: false,
      description: 'The state after the action (NOSTATE when libvirt named none the gateway knows).',
      resolve: (c) => knownState(c.state),
    }),
    forced: t.boolean({
      description: 'For shutdownDomain with a timeout: whether the domain had to be destroyed.',
      resolve: (c) => c.forced ?? null,
    }),
  }),
});

/** The domain again, read afresh after a change (its runtime id may have changed). */
export async function reread(ctx: GatewayContext, host: string, domain: Domain): Promise<DomainShape> {
  changed(ctx);
  const c = await connectionOf(ctx, host);
  return { host, domain: await c.domainByUuid(domain.uuid) };
}

export interface ScopedArgs {
  host?: string | null;
  domain: DomainRefValue;
  scope?: DeviceScopeValue | null;
}

/** Applies a device, memory or vCPU change in the requested scope and returns the domain re-read. */
export async function changeInScope(
  ctx: GatewayContext,
  args: ScopedArgs,
  apply: (s: DomainShape, scope: Scope) => Promise<void>,
): Promise<DomainShape> {
  const host = hostName(ctx, args.host);
  const s = await findDomain(ctx, host, args.domain);
  await apply(s, scopeFor(args.scope, await s.domain.isActive()));
  return reread(ctx, host, s.domain);
}

export function invalidState(s: DomainShape, state: StateName, wanted: string): never {
  throw gatewayError('INVALID_STATE', `domain ${s.domain.name} is ${state}; ${wanted}`, {
    host: s.host,
    state,
  });
}

export const ACTIVE_STATES: StateName[] = ['RUNNING', 'PAUSED', 'BLOCKED', 'PMSUSPENDED', 'SHUTDOWN', 'CRASHED'];

/** Lifecycle actions of a process whose context names no locks (schema tests): serialised in this process. */
const processLocks = createLocalLocks();

/**
 * Runs `fn` as the only lifecycle action on the domain `s` (across replicas when they share
 * Redis), so the state `fn` reads is still the state when its libvirt call runs.
 */
export function exclusively<T>(ctx: GatewayContext, s: DomainShape, fn: () => Promise<T>): Promise<T> {
  const key = `domain:${s.host}:${s.domain.uuid}`;
  return (ctx.locks ?? processLocks).run(key, fn).catch((e: unknown) => {
    if (e instanceof LockTimeoutError) {
      throw gatewayError('INVALID_STATE', `domain ${s.domain.name} is busy with another action; try again`, {
        host: s.host,
      });
    }
    if (e instanceof LockUnavailableError) {
      throw gatewayError('CONNECTION_FAILED', `domain ${s.domain.name}: ${e.message}`, { host: s.host });
    }
    throw e;
  });
}

/**
 * A lifecycle action on a domain that must be in one of `allowed` states. The state check and
 * the action run under the domain's lock, so of concurrent requests for one transition exactly
 * one makes it and the others see the state it left (INVALID_STATE): each answer is its own
 * request's transition. `produces` is the state a successful action leaves the domain in.
 * Without it (an ACPI shutdown the guest may still be carrying out) the state is read back.
 * `settle` runs after the lock is released (waiting for a guest to stop must not hold up a destroy).
 */
export async function act(
  ctx: GatewayContext,
  args: { host?: string | null; domain: DomainRefValue },
  allowed: StateName[],
  wanted: string,
  produces: StateName | undefined,
  action: (d: Domain) => Promise<unknown>,
  settle?: (s: DomainShape) => Promise<boolean | undefined>,
): Promise<StateChange> {
  const host = hostName(ctx, args.host);
  const s = await findDomain(ctx, host, args.domain);
  const previousState = await exclusively(ctx, s, async () => {
    const { state } = await s.domain.state();
    if (!allowed.includes(state)) invalidState(s, state, wanted);
    await action(s.domain);
    return state;
  });
  const forced = settle ? await settle(s) : undefined;
  const outcome = typeof forced === 'boolean' ? { forced } : {};
  if (produces !== undefined && produces !== 'SHUTOFF' && previousState !== 'SHUTOFF') {
    // Paused, resumed or rebooted, the domain keeps its runtime id: no need to look it up again.
    changed(ctx);
    rememberState(ctx, s, produces);
    return { domain: s, previousState, state: produces, ...outcome };
  }
  const after = await reread(ctx, host, s.domain).catch((e: unknown) => {
    // A transient domain disappears when it stops.
    if (e instanceof LibvirtError && e.codeName === 'NO_DOMAIN') return undefined;
    throw e;
  });
  const state = produces ?? (after ? (await after.domain.state()).state : 'SHUTOFF');
  if (after && produces !== undefined) rememberState(ctx, after, produces);
  return { domain: after ?? s, previousState, state, ...outcome };
}

/** With a timeout, shutdownDomain returns once the domain is off (stopped or destroyed); without, it only asks. */
function stopsBy(args: { timeoutSeconds?: number | null }): StateName | undefined {
  return args.timeoutSeconds == null ? undefined : 'SHUTOFF';
}

/** Resolves when the domain stops, or with false after `ms`. Uses the connection's events, no polling. */
async function stoppedWithin(d: Domain, ms: number): Promise<boolean> {
  let unsubscribe: (() => void) | undefined;
  let timer: NodeJS.Timeout | undefined;
  try {
    return await new Promise<boolean>((resolve, reject) => {
      timer = setTimeout(() => resolve(false), ms);
      d.connection
        .subscribe((e) => {
          if (e.kind === 'domain' && e.domain.uuid === d.uuid && e.type === 'STOPPED') resolve(true);
        })
        .then(async (off) => {
          unsubscribe = off;
          if (!(await d.isActive())) resolve(true);
        }, reject);
    });
  } finally {
    clearTimeout(timer);
    unsubscribe?.();
  }
}

const UndefineNvram = builder.enumType('UndefineNvram', {
  description: 'What undefineDomain does with a UEFI domain’s NVRAM file.',
  values: {
    REMOVE: { description: 'Delete it with the definition.' },
    KEEP: { description: 'Leave the file on the host.' },
  } as const,
});

function plural(n: number, one: string): string {
  return `${n} ${one}${n === 1 ? '' : 's'}`;
}

/**
 * The undefine flags for what the caller named, after checking that nothing else would go with
 * the definition: libvirt refuses a domain with snapshots, a managed save or NVRAM without the
 * matching flag, with messages that do not say which flag (or, for NVRAM, fails obscurely).
 */
async function undefineFlags(
  s: DomainShape,
  args: { snapshotsMetadata: boolean; managedSave: boolean; nvram?: 'REMOVE' | 'KEEP' | null },
): Promise<Array<keyof typeof DomainUndefineFlagsValues>> {
  const flags: Array<keyof typeof DomainUndefineFlagsValues> = [];
  const snapshots = (await s.domain.snapshots()).length;
  if (snapshots > 0) {
    if (!args.snapshotsMetadata) {
      invalidState(
        s,
        'SHUTOFF',
        `it has ${plural(snapshots, 'snapshot')}: undefine it with snapshotsMetadata: true to drop their metadata, or delete them first`,
      );
    }
    flags.push('SNAPSHOTS_METADATA');
  }
  if (await s.domain.hasManagedSave()) {
    if (!args.managedSave) {
      invalidState(
        s,
        'SHUTOFF',
        'it has a managed save image: undefine it with managedSave: true to discard the saved state, or start it first',
      );
    }
    flags.push('MANAGED_SAVE');
  }
  const os = parseDomainXml(await s.domain.xml({ inactive: true })).os;
  const uefi = os.nvram !== undefined || os.loaderType === 'pflash' || os.firmware === 'efi';
  if (uefi) {
    if (args.nvram == null) {
      invalidState(
        s,
        'SHUTOFF',
        `it is a UEFI domain with NVRAM${os.nvram ? ` (${os.nvram})` : ''}: undefine it with nvram: REMOVE or nvram: KEEP`,
      );
    }
    flags.push(args.nvram === 'REMOVE' ? 'NVRAM' : 'KEEP_NVRAM');
  } else if (args.nvram === 'REMOVE') {
    flags.push('NVRAM');
  }
  return flags;
}

/** The pool volumes behind a domain's own writable disks (what virsh --remove-all-storage would delete, less shared media). */
async function volumesOf(ctx: GatewayContext, s: DomainShape): Promise<Array<{ volume: Volume; disk: string }>> {
  const c = await connectionOf(ctx, s.host);
  const disks = parseDomainXml(await s.domain.xml({ inactive: true })).disks.filter(
    (d) => d.device === 'disk' && !d.readonly && !d.shareable,
  );
  const out: Array<{ volume: Volume; disk: string }> = [];
  for (const d of disks) {
    const volume = await volumeOfDisk(c, d).catch((e: unknown) => {
      if (e instanceof LibvirtError && ['NO_STORAGE_VOL', 'NO_STORAGE_POOL', 'INVALID_ARG'].includes(e.codeName)) {
        return undefined;
      }
      throw e;
    });
    if (volume) out.push({ volume, disk: d.target.dev });
  }
  return out;
}

function volumeOfDisk(c: Connection, d: DomainDisk): Promise<Volume | undefined> {
  if (d.source.pool !== undefined && d.source.volume !== undefined) {
    const { pool, volume } = d.source;
    return c.storagePoolByName(pool).then((p) => p.volumeByName(volume));
  }
  return d.sourcePath === undefined ? Promise.resolve(undefined) : c.volumeByPath(d.sourcePath);
}

/** A volume deletion failed after the domain was undefined: say so, and what was already removed. */
function withPartialRemoval(e: unknown, s: DomainShape, removed: string[]): unknown {
  const what = removed.length ? `; removed before that: ${removed.join(', ')}` : '';
  if (e instanceof LibvirtError) {
    return gatewayError(
      codeOf(e),
      `domain ${s.domain.name} was undefined, but deleting a volume failed: ${e.message}${what}`,
      {
        host: s.host,
        removedVolumes: removed,
      },
    );
  }
  return e;
}

builder.mutationFields((t) => {
  const domainArgs = {
    host: t.arg.string({ description: 'Registry name of the host; the default host when omitted.' }),
    domain: t.arg({ type: DomainRef, required: true, description: 'The domain: by name, UUID or runtime id.' }),
  };
  return {
    startDomain: t.field({
      authScopes: fromInput(onDomainArg('VM.PowerMgmt')),
      type: DomainStateChange,
      description:
        'Starts a defined domain that is shut off. A domain with a managed save image resumes from it (as libvirt does), unless forceBoot.',
      args: payloadInput('StartDomain', {
        ...domainArgs,
        forceBoot: t.arg.boolean({
          defaultValue: false,
          required: true,
          description: 'Boot afresh, discarding a managed save image. @default false',
        }),
      }),
      resolve: (_r, { input: args }, ctx) =>
        act(ctx, args, ['SHUTOFF'], 'only a shut-off domain can be started', 'RUNNING', (d) =>
          d.start({ forceBoot: args.forceBoot }),
        ),
    }),
    shutdownDomain: t.field({
      authScopes: fromInput(onDomainArg('VM.PowerMgmt')),
      type: DomainStateChange,
      description:
        'Asks the guest to shut down (ACPI). With timeoutSeconds, waits that long and then destroys the domain if it still runs (forced: true).',
      args: payloadInput('ShutdownDomain', {
        ...domainArgs,
        timeoutSeconds: t.arg.int({
          description: 'Seconds (1–3600) to wait before forcing; omitted: ask and return at once.',
          validate: z.number().int().min(1, 'must be at least 1 second').max(3600, 'must be at most 3600 seconds'),
        }),
      }),
      resolve: (_r, { input: args }, ctx) =>
        act(
          ctx,
          args,
          ACTIVE_STATES,
          'only an active domain can be shut down',
          stopsBy(args),
          (d) => d.shutdown(),
          async (s) => {
            if (args.timeoutSeconds == null) return undefined;
            if (await stoppedWithin(s.domain, args.timeoutSeconds * 1000)) return false;
            // Under the lock again: a destroy another request made meanwhile is not made twice.
            return exclusively(ctx, s, async () => {
              if (!(await s.domain.isActive())) return false;
              await s.domain.destroy();
              return true;
            });
          },
        ),
    }),
    destroyDomain: t.field({
      authScopes: fromInput(onDomainArg('VM.PowerMgmt')),
      type: DomainStateChange,
      description: 'Stops a domain at once, like pulling the power (a transient domain then disappears).',
      args: payloadInput('DestroyDomain', domainArgs),
      resolve: (_r, { input: args }, ctx) =>
        act(ctx, args, ACTIVE_STATES, 'only an active domain can be destroyed', 'SHUTOFF', (d) => d.destroy()),
    }),
    rebootDomain: t.field({
      authScopes: fromInput(onDomainArg('VM.PowerMgmt')),
      type: DomainStateChange,
      description: 'Asks the guest to reboot; the guest may ignore it.',
      args: payloadInput('RebootDomain', domainArgs),
      resolve: (_r, { input: args }, ctx) =>
        act(ctx, args, ['RUNNING'], 'only a running domain can be rebooted', 'RUNNING', (d) => d.reboot()),
    }),
    suspendDomain: t.field({
      authScopes: fromInput(onDomainArg('VM.PowerMgmt')),
      type: DomainStateChange,
      description: 'Pauses a running domain; returns the old and the new state.',
      args: payloadInput('SuspendDomain', domainArgs),
      resolve: (_r, { input: args }, ctx) =>
        act(ctx, args, ['RUNNING'], 'only a running domain can be suspended', 'PAUSED', (d) => d.suspend()),
    }),
    resumeDomain: t.field({
      authScopes: fromInput(onDomainArg('VM.PowerMgmt')),
      type: DomainStateChange,
      description: 'Resumes a paused domain; returns the old and the new state.',
      args: payloadInput('ResumeDomain', domainArgs),
      resolve: (_r, { input: args }, ctx) =>
        act(ctx, args, ['PAUSED'], 'only a paused domain can be resumed', 'RUNNING', (d) => d.resume()),
    }),
    undefineDomain: t.field({
      // VM.Allocate on the domain; removeStorage also needs Storage.Allocate on each pool it deletes from (checked in the resolver, before anything changes).
      authScopes: fromInput(onDomainArg('VM.Allocate')),
      type: RemovedObject,
      description:
        'Removes the persistent definition of a shut-off domain (by name or UUID). What would go with it must be named, as virsh asks: its snapshots’ metadata, its managed save image, its UEFI variables (NVRAM); otherwise it is refused (INVALID_STATE) saying which option it needs. Its disks stay unless removeStorage.',
      args: payloadInput('UndefineDomain', {
        ...domainArgs,
        snapshotsMetadata: t.arg.boolean({
          defaultValue: false,
          required: true,
          description:
            'Also drop the metadata of its snapshots (internal snapshot data stays in the disk images). @default false',
        }),
        managedSave: t.arg.boolean({
          defaultValue: false,
          required: true,
          description: 'Also remove its managed save image (the saved running state is lost). @default false',
        }),
        nvram: t.arg({
          type: UndefineNvram,
          description: 'For a UEFI domain: remove or keep its NVRAM file (its UEFI variables). Required for one.',
        }),
        removeStorage: t.arg.boolean({
          defaultValue: false,
          required: true,
          description:
            'Also delete the storage volumes behind its writable disks (not CD-ROMs, floppies, read-only or shareable disks, nor files outside storage pools); needs Storage.Allocate too. @default false',
        }),
      }),
      resolve: async (_r, { input: args }, ctx) => {
        if (args.domain.runtimeId != null)
          throw invalidInput('domain.runtimeId', 'undefine takes a global ID, a name or a UUID');
        const host = hostName(ctx, args.host);
        const s = await findDomain(ctx, host, args.domain);
        // Under the domain's lock: a start between the state check and the undefine would leave a
        // running guest whose disks removeStorage then deletes.
        return exclusively(ctx, s, async () => {
          const { state } = await s.domain.state();
          if (state !== 'SHUTOFF') invalidState(s, state, 'only a shut-off domain can be undefined');
          const flags = await undefineFlags(s, args);
          const volumes = args.removeStorage ? await volumesOf(ctx, s) : [];
          for (const { volume, disk } of volumes) {
            const pool = (await volume.pool()).name;
            requireOnPool(ctx, host, pool, ['Storage.Allocate'], 'Mutation.undefineDomain', `the pool of disk ${disk}`);
          }
          await s.domain.undefine(flags);
          changed(ctx);
          const removedVolumes: string[] = [];
          for (const { volume } of volumes) {
            await volume.delete().catch((e: unknown) => {
              throw withPartialRemoval(e, s, removedVolumes);
            });
            removedVolumes.push(volume.path);
          }
          return {
            host,
            name: s.domain.name,
            uuid: s.domain.uuid,
            deletedId: globalIdOf('Domain', host, s.domain.uuid),
            ...(args.removeStorage ? { removedVolumes } : {}),
          };
        });
      },
    }),
    setDomainAutostart: t.field({
      authScopes: fromInput(onDomainArg('VM.Config')),
      type: DomainNode,
      description: 'Whether the host starts the domain at boot (persistent domains only).',
      args: mutationInput('SetDomainAutostart', {
        ...domainArgs,
        autostart: t.arg.boolean({ required: true, description: 'Start it when the host boots (true) or not.' }),
      }),
      resolve: async (_r, { input: args }, ctx) => {
        const host = hostName(ctx, args.host);
        const s = await findDomain(ctx, host, args.domain);
        if (!(await s.domain.isPersistent())) {
          throw gatewayError(
            'INVALID_STATE',
            `domain ${s.domain.name} is transient; autostart needs a persistent domain`,
          );
        }
        await s.domain.setAutostart(args.autostart);
        return reread(ctx, host, s.domain);
      },
    }),
  };
});
