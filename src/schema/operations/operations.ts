import { GraphQLError } from 'graphql';
import {
  type Domain,
  DomainJobField,
  type DomainJobStats,
  type DomainJobTypeName,
  LibvirtError,
} from '../../libvirt/index.ts';
import type { Operation } from '../../operations/operation-tracker.ts';
import { builder, decodeGlobalIdOrMark } from '../core/builder.ts';
import type { GatewayContext } from '../core/context.ts';
import { describedEnum } from '../core/enum-types.ts';
import { gatewayError, libvirtExtensions, notFound } from '../core/errors.ts';
import { fromInput, mutationInput } from '../core/mutation-support.ts';
import { hostKey, splitHostKey } from '../core/request-cache.ts';
import { findDomain } from '../domain/domain.ts';
import { type Migrated, MigrationResult, migrationArgs, onMigration, prepareMigration } from '../domain/migration.ts';

/** A migration's progress: libvirt's job statistics, and whether the source has switched to post-copy. */
export interface MigrationProgressShape extends DomainJobStats {
  postCopy?: boolean;
}

export type MigrationOperation = Operation<MigrationProgressShape, Migrated>;

const OperationStatus = builder.enumType('OperationStatus', {
  description: 'Where a tracked operation is.',
  values: {
    RUNNING: { description: 'Still running.' },
    COMPLETED: { description: 'Ended successfully; its result is set.' },
    FAILED: { description: 'Ended with an error; its error is set.' },
    CANCELLED: { description: 'Ended by cancelOperation.' },
  } as const,
});

const JobTypeEnum = describedEnum('DomainJobType', 'The kind of a domain job (virDomainJobType).', {
  NONE: 'No job.',
  BOUNDED: 'A job with a known end (its remaining amount is known).',
  UNBOUNDED: 'A job without a known end (a live migration while memory keeps changing).',
  COMPLETED: 'The job finished.',
  FAILED: 'The job failed.',
  CANCELLED: 'The job was cancelled.',
} satisfies Record<DomainJobTypeName, string>);

const big = (v: unknown) => (typeof v === 'bigint' ? v : typeof v === 'number' ? BigInt(v) : null);

const MigrationProgress = builder.objectRef<MigrationProgressShape>('MigrationProgress').implement({
  description: 'libvirt’s job statistics of a running migration (virDomainGetJobStats). Sizes in bytes, times in ms.',
  fields: (t) => {
    const field = (name: string, description: string) =>
      t.field({ type: 'BigInt', description, resolve: (j: MigrationProgressShape) => big(j.fields[name]) });
    return {
      jobType: t.field({
        type: JobTypeEnum,
        description: 'What kind of job libvirt runs (virDomainJobType); null for a kind the gateway does not know.',
        resolve: (j) => (j.type === 'UNKNOWN' ? null : j.type),
      }),
      timeElapsedMs: field(DomainJobField.TIME_ELAPSED, 'Time since the job started.'),
      timeRemainingMs: field(DomainJobField.TIME_REMAINING, 'Estimated time left, when known.'),
      dataTotalBytes: field(DomainJobField.DATA_TOTAL, 'Everything to transfer (memory and disks).'),
      dataProcessedBytes: field(DomainJobField.DATA_PROCESSED, 'Transferred so far.'),
      dataRemainingBytes: field(DomainJobField.DATA_REMAINING, 'Left to transfer.'),
      memoryTotalBytes: field(DomainJobField.MEMORY_TOTAL, 'Guest memory to transfer.'),
      memoryProcessedBytes: field(DomainJobField.MEMORY_PROCESSED, 'Guest memory transferred.'),
      memoryRemainingBytes: field(DomainJobField.MEMORY_REMAINING, 'Guest memory left.'),
      downtimeMs: field(DomainJobField.DOWNTIME, 'Expected or actual time the guest is paused for the switch-over.'),
      diskTotalBytes: field(DomainJobField.DISK_TOTAL, 'Disk data to copy (copyStorage).'),
      diskProcessedBytes: field(DomainJobField.DISK_PROCESSED, 'Disk data copied (copyStorage).'),
      diskRemainingBytes: field(DomainJobField.DISK_REMAINING, 'Disk data left to copy (copyStorage).'),
      postCopy: t.boolean({
        description:
          'Whether the migration has switched to post-copy: the guest runs on the destination and fetches the memory it still lacks from the source, which libvirt shows paused for POSTCOPY. False before the switch and for migrations without postcopy.',
        resolve: (j) => j.postCopy ?? false,
      }),
      postCopyRequestCount: field(
        DomainJobField.MEMORY_POSTCOPY_REQS,
        'Pages the destination asked the source for since the switch to post-copy.',
      ),
      percent: t.float({
        description: 'dataProcessed / dataTotal, in percent.',
        resolve: (j) => {
          const total = big(j.fields[DomainJobField.DATA_TOTAL]);
          const done = big(j.fields[DomainJobField.DATA_PROCESSED]);
          return total && done !== null ? Number((done * 10000n) / total) / 100 : null;
        },
      }),
    };
  },
});

/** What a tracked operation does: the kinds the gateway starts. */
const OperationKind = builder.enumType('OperationKind', {
  description: 'What a tracked operation does.',
  values: {
    MIGRATION: { description: 'startMigration: a live or offline migration to another host.' },
    CLONE: { description: 'cloneDomain: a copy of a shut-off domain and its disks.' },
    VOLUME_UPLOAD: { description: 'uploadVolume: bytes sent to a volume through its transfer URL.' },
    VOLUME_DOWNLOAD: { description: 'downloadVolume: bytes read from a volume through its transfer URL.' },
    VOLUME_IMPORT: { description: 'importVolume: an image fetched from a URL into a new volume.' },
    MOVE_DISK: {
      description: 'moveDomainDisk: a disk’s data moved to a new volume (mirrored and pivoted while it runs).',
    },
    COMMIT_DISK: { description: 'commitDomainDisk: a running disk’s overlays merged down into their base.' },
    BACKUP: { description: 'backupDomain: a running domain’s disks copied into backup volumes (push mode).' },
    PULL_DISK: { description: 'pullDomainDisk: a running disk’s backing chain copied into its active layer.' },
    RESTORE_BACKUP: {
      description: 'restoreDomainBackup: backup volumes copied into new volumes, and a new domain defined on them.',
    },
  } as const,
});

/** The operation a global ID (or, as before 0.2, a bare operation id) names: its tracker id. */
export function operationIdOf(id: string | number): string {
  const decoded = decodeGlobalIdOrMark(String(id));
  return decoded.typename === 'Operation' ? splitHostKey(decoded.id)[1] : String(id);
}

/** Whether the caller may see an operation: the identity that started it, or one holding Sys.Audit. */
function mayFollow(ctx: GatewayContext, op: Operation): boolean {
  return op.owner === ctx.identity.key || ctx.identity.canAnywhere('Sys.Audit');
}

export const OperationRef = builder.loadableNodeRef('Operation', {
  id: { resolve: (o: MigrationOperation) => hostKey(o.host ?? '', o.id) },
  // node(id) runs no field's authScopes: an operation the caller may not follow is not found.
  load: (keys: string[], ctx: GatewayContext) =>
    Promise.all(
      keys.map(async (key) => {
        const id = splitHostKey(key)[1];
        const op = await ctx.operations.get(id);
        return op && mayFollow(ctx, op) ? (op as MigrationOperation) : notFound('operation', id, { field: 'id' });
      }),
    ),
});

OperationRef.implement({
  description:
    'A long action run in the background (a migration, a clone, a volume transfer): poll it with operation(id) or node(id), follow operationUpdated(id).',
  fields: (t) => ({
    kind: t.field({
      type: OperationKind,
      nullable: false,
      description: 'What it does.',
      resolve: (o) => o.kind as never,
    }),
    status: t.field({
      type: OperationStatus,
      nullable: false,
      description: 'RUNNING until it ends.',
      resolve: (o) => o.status,
    }),
    progress: t.field({
      type: MigrationProgress,
      description: 'The latest job statistics of a migration.',
      resolve: (o) => (o.kind === 'MIGRATION' ? (o.progress ?? null) : null),
    }),
    migration: t.field({
      type: MigrationResult,
      description: 'The outcome of a migration, once COMPLETED.',
      resolve: (o, _a, ctx) => (o.kind === 'MIGRATION' ? migrationOf(ctx, o.result) : null),
    }),
    errorMessage: t.string({
      description: 'Why it FAILED (libvirt’s message).',
      resolve: (o) => o.error?.message ?? null,
    }),
    errorCode: t.string({
      description: 'The typed error code of a failure (see the README’s error codes).',
      resolve: (o) => {
        if (o.error instanceof LibvirtError) return String(libvirtExtensions(o.error).code);
        // A typed refusal raised while it ran (the host-safety policy, a cancelled clone) keeps its code.
        if (o.error instanceof GraphQLError && typeof o.error.extensions.code === 'string')
          return o.error.extensions.code;
        return o.error ? 'INTERNAL' : null;
      },
    }),
    startedAt: t.field({
      type: 'DateTime',
      nullable: false,
      description: 'When it started.',
      resolve: (o) => o.startedAt,
    }),
    updatedAt: t.field({
      type: 'DateTime',
      nullable: false,
      description: 'Its last change.',
      resolve: (o) => o.updatedAt,
    }),
  }),
});

/**
 * A call on a migration's job (virDomainAbortJob, virDomainMigrateStartPostCopy), once libvirt has
 * the job: right after startMigration it may not have begun yet (OPERATION_INVALID "no job is active").
 */
export async function whenJobStarted(call: () => Promise<void>, running: () => boolean | Promise<boolean>) {
  const deadline = Date.now() + 30_000;
  for (;;) {
    try {
      await call();
      return;
    } catch (e) {
      const notYet = e instanceof LibvirtError && e.codeName === 'OPERATION_INVALID';
      if (!notYet || !(await running()) || Date.now() > deadline) throw e;
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Job statistics, and post-copy once the source shows it (sticky: the last reading keeps it). */
function migrationPoll(domain: Domain): () => Promise<MigrationProgressShape | undefined> {
  let postCopy = false;
  return async () => {
    const [stats, state] = await Promise.all([
      domain.jobStats().catch(() => undefined),
      domain.state().catch(() => undefined),
    ]);
    if (state?.state === 'PAUSED' && state.reason.startsWith('POSTCOPY')) postCopy = true;
    return stats && { ...stats, postCopy };
  };
}

export async function find(
  ops: { get(id: string): Promise<Operation | undefined> },
  ref: string,
): Promise<MigrationOperation> {
  const id = operationIdOf(ref);
  const op = await ops.get(id);
  if (!op) throw notFound('operation', id, { field: 'id' });
  return op as MigrationOperation;
}

/** The operation's owner, or Sys.Audit (on whichever replica started it). */
export async function onOperation(_parent: unknown, args: { id: string | number }, ctx: GatewayContext) {
  const op = await find(ctx.operations, String(args.id));
  return op.owner === ctx.identity.key || { somewhere: { privilege: 'Sys.Audit' as const } };
}

/**
 * A migration's result as other replicas read it: the destination domain as its host and
 * UUID, found again by the replica that answers.
 */
interface SharedMigrated extends Omit<Migrated, 'domain'> {
  domain?: Migrated['domain'];
  destinationHost?: string;
}

function shareable({ domain, ...rest }: Migrated): SharedMigrated {
  return domain ? { ...rest, destinationHost: domain.host } : rest;
}

async function migrationOf(ctx: GatewayContext, result: SharedMigrated | undefined): Promise<Migrated | null> {
  if (!result) return null;
  const { destinationHost, ...migrated } = result;
  if (migrated.domain || destinationHost === undefined || !ctx.hosts.has(destinationHost)) return migrated;
  const domain = await findDomain(ctx, destinationHost, { uuid: migrated.uuid }).catch(() => undefined);
  return domain ? { ...migrated, domain } : migrated;
}

builder.queryField('operation', (t) =>
  t.field({
    type: OperationRef,
    description:
      'A tracked operation by id (kept an hour after it ends): to the identity that started it, or with Sys.Audit.',
    authScopes: onOperation,
    args: {
      id: t.arg.id({
        required: true,
        description: 'The operation’s global ID (its `id`), or the bare operation id of 0.1.',
      }),
    },
    resolve: (_r, args, ctx) => find(ctx.operations, String(args.id)),
  }),
);

builder.mutationFields((t) => ({
  startMigration: t.field({
    type: OperationRef,
    description:
      'Starts migrateDomain as a tracked operation and answers at once: follow operationUpdated(id) for job statistics until it ends, cancelOperation(id) to abort it.',
    args: mutationInput('StartMigration', migrationArgs),
    authScopes: fromInput(onMigration),
    resolve: async (_r, { input: args }, ctx) => {
      const { source, run } = await prepareMigration(ctx, args);
      return (await ctx.operations.start({
        kind: 'MIGRATION',
        owner: ctx.identity.key,
        host: source.host,
        details: { domain: source.domain.name, uuid: source.domain.uuid, postcopy: args.postcopy },
        run,
        poll: migrationPoll(source.domain),
        cancel: (running) => whenJobStarted(() => source.domain.abortJob(), running),
        shareable,
      })) as MigrationOperation;
    },
  }),
  cancelOperation: t.field({
    type: OperationRef,
    description: 'Aborts a running operation (virDomainAbortJob); it then ends as CANCELLED.',
    args: mutationInput('CancelOperation', {
      id: t.arg.id({
        required: true,
        description: 'The operation’s global ID (its `id`), or the bare operation id of 0.1.',
      }),
    }),
    authScopes: fromInput(onOperation),
    resolve: async (_r, { input: args }, ctx) => {
      const op = await find(ctx.operations, String(args.id));
      const id = op.id;
      if (!(await ctx.operations.cancel(id))) {
        throw gatewayError('INVALID_STATE', `operation ${id} is ${op.status}; only a running one can be cancelled`);
      }
      return ((await ctx.operations.get(id)) ?? op) as MigrationOperation;
    },
  }),
}));

builder.subscriptionField('operationUpdated', (t) =>
  t.field({
    type: OperationRef,
    nullable: false,
    description: 'The operation now, then on every progress reading or change of status, ending when it finishes.',
    args: {
      id: t.arg.id({
        required: true,
        description: 'The operation’s global ID (its `id`), or the bare operation id of 0.1.',
      }),
    },
    authScopes: onOperation,
    subscribe: async (_r, args, ctx) => {
      const op = await find(ctx.operations, String(args.id));
      return ctx.operations.updates(op.id) as AsyncGenerator<MigrationOperation>;
    },
    resolve: (op) => op,
  }),
);
