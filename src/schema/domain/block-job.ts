import {
  type ConnectDomainEventBlockJobStatusName,
  type Domain,
  type DomainBlockJobType,
  type DomainBlockJobTypeName,
  LibvirtError,
} from '../../libvirt/index.ts';
import type { Operation, OperationTask } from '../../operations/operation-tracker.ts';
import { builder } from '../core/builder.ts';
import type { GatewayContext } from '../core/context.ts';
import { describedEnum } from '../core/enum-types.ts';
import { gatewayError } from '../core/errors.ts';
import { OperationRef } from '../operations/operations.ts';
import { DomainNode, type DomainShape, findDomain } from './domain.ts';
import { exclusively, invalidState } from './lifecycle.ts';

/** Where a disk operation is. */
export type DiskJobPhase = 'PREPARING' | 'RUNNING' | 'PIVOTING' | 'FINISHING' | 'DONE' | 'UNDOING';

export interface DiskJobProgressShape {
  disk: string;
  phase: DiskJobPhase;
  jobType?: DomainBlockJobTypeName;
  curBytes?: bigint;
  endBytes?: bigint;
}

/** What a finished disk operation left: the domain and where the disk's data now lives. */
export interface DiskJobResultShape {
  host: string;
  uuid: string;
  disk: string;
  /** The disk's source after the job. */
  path?: string;
  /** Volumes the job deleted (moveDomainDisk with deleteSource). */
  deleted: string[];
  progress: DiskJobProgressShape;
}

/** The operation kinds of disk jobs: moveDomainDisk, commitDomainDisk, pullDomainDisk. */
export const DISK_JOB_KINDS = ['MOVE_DISK', 'COMMIT_DISK', 'PULL_DISK'] as const;
export type DiskJobKind = (typeof DISK_JOB_KINDS)[number];

type DiskJobOperation = Operation<DiskJobProgressShape, DiskJobResultShape>;
type DiskJobFailure = Error & { diskJobProgress?: DiskJobProgressShape };

const DomainBlockJobTypeEnum = describedEnum('DomainBlockJobType', 'The kind of a block job (virDomainBlockJobType).', {
  UNKNOWN: 'libvirt did not say.',
  PULL: 'A pull: the backing chain copied into the active layer (pullDomainDisk).',
  COPY: 'A copy mirroring the disk into another image until pivot (moveDomainDisk).',
  COMMIT: 'A commit of a layer below the active one into its base.',
  ACTIVE_COMMIT: 'A commit of the active layer into its base, ending with a pivot (commitDomainDisk).',
  BACKUP: 'A backup (virDomainBackupBegin).',
} satisfies Record<keyof typeof DomainBlockJobType, string>);

const DiskJobPhaseEnum = builder.enumType('DiskJobPhase', {
  description: 'Where a disk operation (moveDomainDisk, commitDomainDisk, pullDomainDisk) is.',
  values: {
    PREPARING: { description: 'Creating the target volume, starting the job.' },
    RUNNING: { description: 'libvirt’s block job copies data (see curBytes of endBytes).' },
    PIVOTING: { description: 'The copy is ready: switching the disk over to it.' },
    FINISHING: { description: 'Updating the definition, deleting what was asked.' },
    DONE: { description: 'Finished.' },
    UNDOING: { description: 'A step failed or the operation was cancelled: removing what it made.' },
  } as const,
});

const DiskJobProgress = builder.objectRef<DiskJobProgressShape>('DiskJobProgress').implement({
  description: 'The progress of a disk operation: its phase and, while libvirt’s block job runs, cur of end bytes.',
  fields: (t) => ({
    disk: t.exposeString('disk', { nullable: false, description: 'The guest target (vda…).' }),
    phase: t.field({ type: DiskJobPhaseEnum, nullable: false, description: 'Where it is.', resolve: (p) => p.phase }),
    jobType: t.field({
      type: DomainBlockJobTypeEnum,
      description: 'The running block job’s kind (virDomainGetBlockJobInfo).',
      resolve: (p) => p.jobType ?? null,
    }),
    curBytes: t.field({ type: 'BigInt', description: 'Bytes done.', resolve: (p) => p.curBytes ?? null }),
    endBytes: t.field({
      type: 'BigInt',
      description: 'Bytes to do (grows while the guest writes).',
      resolve: (p) => p.endBytes ?? null,
    }),
    percent: t.float({
      description: 'curBytes / endBytes, in percent.',
      resolve: (p) =>
        p.curBytes !== undefined && p.endBytes ? Number((p.curBytes * 10000n) / p.endBytes) / 100 : null,
    }),
  }),
});

const DiskJobResult = builder.objectRef<DiskJobResultShape>('DiskJobResult').implement({
  description: 'What a finished disk operation left.',
  fields: (t) => ({
    disk: t.exposeString('disk', { nullable: false, description: 'The guest target (vda…).' }),
    path: t.string({ description: 'The disk’s source path afterwards.', resolve: (r) => r.path ?? null }),
    deletedVolumes: t.exposeStringList('deleted', {
      nullable: false,
      description: 'Paths of the volumes it deleted (deleteSource).',
    }),
    domain: t.field({
      type: DomainNode,
      description: 'The domain, while it exists.',
      resolve: (r, _a, ctx) => findDomain(ctx, r.host, { uuid: r.uuid }).catch(() => null),
    }),
  }),
});

const isDiskJob = (o: { kind: string }) => (DISK_JOB_KINDS as readonly string[]).includes(o.kind);

builder.objectFields(OperationRef, (t) => ({
  diskJobProgress: t.field({
    type: DiskJobProgress,
    description: 'Where a disk operation (MOVE_DISK, COMMIT_DISK, PULL_DISK) is.',
    resolve: (o) => {
      if (!isDiskJob(o)) return null;
      const op = o as unknown as DiskJobOperation;
      if (op.status === 'RUNNING') return op.progress ?? null;
      return op.result?.progress ?? (op.error as DiskJobFailure | undefined)?.diskJobProgress ?? op.progress ?? null;
    },
  }),
  diskJob: t.field({
    type: DiskJobResult,
    description: 'The outcome of a disk operation, once COMPLETED.',
    resolve: (o) => (isDiskJob(o) ? ((o as unknown as DiskJobOperation).result ?? null) : null),
  }),
}));

type JobStatus = ConnectDomainEventBlockJobStatusName | 'UNKNOWN';

/**
 * Follows one disk's block job through the connection's BLOCK_JOB events (registered once per
 * connection), subscribed before the job starts so no event is missed. A poll of
 * virDomainGetBlockJobInfo backs the events up: a job that is gone without an event has ended.
 */
export class BlockJobWatch {
  readonly #seen = new Set<JobStatus>();
  readonly #waiters = new Set<() => void>();
  #unsubscribe: (() => void) | undefined;

  private constructor(
    readonly domain: Domain,
    readonly disk: string,
  ) {}

  static async start(domain: Domain, disk: string): Promise<BlockJobWatch> {
    const watch = new BlockJobWatch(domain, disk);
    watch.#unsubscribe = await domain.connection.subscribe((e) => {
      if (e.kind !== 'domainDetail' || e.domain.uuid !== domain.uuid) return;
      const d = e.details;
      if (d.type !== 'BLOCK_JOB' || d.disk !== disk) return;
      watch.#seen.add(d.status);
      for (const wake of watch.#waiters) wake();
    });
    return watch;
  }

  /** Forgets what was seen: the next wait is for the job started after this call (a pivot's own events). */
  reset(): void {
    this.#seen.clear();
  }

  /**
   * Resolves once the job is READY (a copy or an active commit waiting for its pivot) or
   * COMPLETED; rejects when it FAILED or was CANCELED, or disappeared before it was ready.
   */
  async until(wanted: 'READY' | 'COMPLETED', cancelled: () => boolean): Promise<void> {
    let gone = 0;
    for (;;) {
      if (this.#seen.has('FAILED')) throw gatewayError('LIBVIRT_ERROR', `the block job on ${this.disk} failed`);
      if (this.#seen.has('CANCELED') || cancelled()) {
        throw gatewayError('INVALID_STATE', `the block job on ${this.disk} was cancelled`);
      }
      if (this.#seen.has(wanted) || (wanted === 'READY' && this.#seen.has('COMPLETED'))) return;
      const info = await this.domain.blockJob(this.disk).catch((e: unknown) => {
        if (e instanceof LibvirtError && ['NO_DOMAIN', 'OPERATION_INVALID'].includes(e.codeName)) return null;
        throw e;
      });
      // Two polls a second apart without a job and without its event: it ended while we looked away.
      gone = info === null ? gone + 1 : 0;
      if (gone >= 2) {
        if (wanted === 'COMPLETED') return;
        throw gatewayError('LIBVIRT_ERROR', `the block job on ${this.disk} ended before it was ready`);
      }
      await new Promise<void>((resolve) => {
        const wake = () => {
          clearTimeout(timer);
          this.#waiters.delete(wake);
          resolve();
        };
        const timer = setTimeout(wake, 1000);
        this.#waiters.add(wake);
      });
    }
  }

  close(): void {
    this.#unsubscribe?.();
  }
}

/** Reads the disk's job into the progress (the tracker calls it every poll). */
export async function pollBlockJob(domain: Domain, progress: DiskJobProgressShape): Promise<DiskJobProgressShape> {
  if (progress.phase === 'RUNNING') {
    const info = await domain.blockJob(progress.disk).catch(() => null);
    if (info) {
      progress.jobType = info.type;
      progress.curBytes = info.curBytes;
      progress.endBytes = info.endBytes;
    }
  }
  return { ...progress };
}

/**
 * Starts a disk job as a tracked operation. `run` gets the progress to update and whether a cancel
 * was asked; cancel aborts the disk's block job (virDomainBlockJobAbort without pivot).
 */
export async function startDiskJob(
  ctx: GatewayContext,
  kind: DiskJobKind,
  s: DomainShape,
  disk: string,
  run: (progress: DiskJobProgressShape, cancelled: () => boolean) => Promise<Omit<DiskJobResultShape, 'progress'>>,
): Promise<DiskJobOperation> {
  const progress: DiskJobProgressShape = { disk, phase: 'PREPARING' };
  let cancelled = false;
  const task: OperationTask<DiskJobProgressShape, DiskJobResultShape> = {
    kind,
    owner: ctx.identity.key,
    host: s.host,
    run: async () => {
      try {
        const result = await run(progress, () => cancelled);
        progress.phase = 'DONE';
        return { ...result, progress: { ...progress } };
      } catch (e) {
        if (e instanceof Error) (e as DiskJobFailure).diskJobProgress = { ...progress };
        throw e;
      }
    },
    poll: () => pollBlockJob(s.domain, progress),
    cancel: async () => {
      cancelled = true;
      await s.domain.blockJobAbort(disk).catch(() => undefined);
    },
  };
  return ctx.operations.start(task);
}

/**
 * Runs a block job on a running disk and follows it through its events: `begin` starts it under
 * the domain's lock (refused with `notRunning` unless the domain runs); a job that reaches READY
 * (a copy, an active commit) is pivoted under the lock, one that COMPLETES (a pull) is done. A
 * failure or a cancel aborts the job; `what` names it in the cancel's refusal.
 */
export async function followBlockJob(
  ctx: GatewayContext,
  s: DomainShape,
  dev: string,
  job: { begin: () => Promise<unknown>; notRunning: string; until: 'READY' | 'COMPLETED'; what: string },
  progress: DiskJobProgressShape,
  cancelled: () => boolean,
): Promise<void> {
  const watch = await BlockJobWatch.start(s.domain, dev);
  try {
    await exclusively(ctx, s, async () => {
      const { state } = await s.domain.state();
      if (state !== 'RUNNING' && state !== 'PAUSED') invalidState(s, state, job.notRunning);
      await job.begin();
    });
    progress.phase = 'RUNNING';
    if (cancelled()) await s.domain.blockJobAbort(dev).catch(() => undefined);
    await watch.until(job.until, cancelled);
    if (job.until === 'READY') {
      progress.phase = 'PIVOTING';
      await exclusively(ctx, s, async () => {
        if (cancelled()) throw gatewayError('INVALID_STATE', `${job.what} was cancelled`);
        await s.domain.blockJobAbort(dev, { pivot: true });
      });
    }
  } catch (e) {
    await s.domain.blockJobAbort(dev).catch(() => undefined);
    throw e;
  } finally {
    watch.close();
  }
}
