import { DomainJobField, type Volume } from '../../libvirt/index.ts';
import {
  type BackupDiskSpec,
  buildBackupXml,
  buildCheckpointXml,
  parseCheckpointXml,
} from '../../libvirt/xml/backup-xml.ts';
import { parseDomainXml } from '../../libvirt/xml/domain-xml.ts';
import { buildVolumeXml } from '../../libvirt/xml/volume-xml.ts';
import type { Operation } from '../../operations/operation-tracker.ts';
import { snapshotName } from '../../validation/index.ts';
import { builder } from '../core/builder.ts';
import { gatewayError, invalidInput, notFound } from '../core/errors.ts';
import { checkBuiltXml } from '../core/host-safety.ts';
import { connectionOf, hostName } from '../core/hosts.ts';
import { changed, fromInput, mutationInput } from '../core/mutation-support.ts';
import { OperationRef } from '../operations/operations.ts';
import { requireOnPool, visiblePool } from '../storage/pool-grants.ts';
import { diskVolume } from './disk-volume.ts';
import { DomainNode, DomainRef, type DomainShape, findDomain, onDomainArg } from './domain.ts';
import { exclusively, invalidState } from './lifecycle.ts';

export interface BackupProgressShape {
  phase: 'PREPARING' | 'RUNNING' | 'DONE' | 'UNDOING';
  processedBytes?: bigint;
  totalBytes?: bigint;
}

interface BackupResultShape {
  host: string;
  uuid: string;
  volumes: string[];
  checkpoint?: string;
  progress: BackupProgressShape;
}

type BackupOperation = Operation<BackupProgressShape, BackupResultShape>;

const BackupPhase = builder.enumType('BackupPhase', {
  description: 'Where a backupDomain operation is.',
  values: {
    PREPARING: { description: 'Making the target volumes.' },
    RUNNING: { description: 'libvirt’s backup job copies the disks.' },
    DONE: { description: 'Finished.' },
    UNDOING: { description: 'It failed or was cancelled: deleting the volumes it made.' },
  } as const,
});

const BackupProgress = builder.objectRef<BackupProgressShape>('BackupProgress').implement({
  description: 'Where a backupDomain operation is: its phase and libvirt’s job statistics.',
  fields: (t) => ({
    phase: t.field({ type: BackupPhase, nullable: false, description: 'Where it is.', resolve: (p) => p.phase }),
    processedBytes: t.field({ type: 'BigInt', description: 'Bytes copied.', resolve: (p) => p.processedBytes ?? null }),
    totalBytes: t.field({ type: 'BigInt', description: 'Bytes to copy.', resolve: (p) => p.totalBytes ?? null }),
  }),
});

const BackupResult = builder.objectRef<BackupResultShape>('BackupResult').implement({
  description: 'What a finished backupDomain wrote.',
  fields: (t) => ({
    volumes: t.exposeStringList('volumes', {
      nullable: false,
      description: 'Paths of the backup volumes, one a disk.',
    }),
    checkpoint: t.string({
      description: 'The checkpoint the backup started, for the next incremental one.',
      resolve: (r) => r.checkpoint ?? null,
    }),
    domain: t.field({
      type: DomainNode,
      description: 'The domain, while it exists.',
      resolve: (r, _a, ctx) => findDomain(ctx, r.host, { uuid: r.uuid }).catch(() => null),
    }),
  }),
});

builder.objectFields(OperationRef, (t) => ({
  backupProgress: t.field({
    type: BackupProgress,
    description: 'Where a backup (kind BACKUP) is.',
    resolve: (o) => {
      if (o.kind !== 'BACKUP') return null;
      const op = o as unknown as BackupOperation;
      return op.status === 'RUNNING' ? (op.progress ?? null) : (op.result?.progress ?? op.progress ?? null);
    },
  }),
  backup: t.field({
    type: BackupResult,
    description: 'The outcome of a backup, once COMPLETED.',
    resolve: (o) => (o.kind === 'BACKUP' ? ((o as unknown as BackupOperation).result ?? null) : null),
  }),
}));

const big = (v: unknown) => (typeof v === 'bigint' ? v : typeof v === 'number' ? BigInt(v) : undefined);

interface BackupTarget {
  disk: string;
  name: string;
  capacityBytes: bigint;
  /** The earlier backup an incremental one is layered on, when the pool has it. */
  base?: string;
}

/** Waits for the domain's backup job to end (it is a domain job: polled), then reads how it ended. */
async function backupEnded(s: DomainShape, progress: BackupProgressShape): Promise<void> {
  for (;;) {
    const stats = await s.domain.jobStats();
    if (stats.type === 'NONE') break;
    progress.processedBytes = big(stats.fields[DomainJobField.DATA_PROCESSED]) ?? progress.processedBytes;
    progress.totalBytes = big(stats.fields[DomainJobField.DATA_TOTAL]) ?? progress.totalBytes;
    await new Promise((r) => setTimeout(r, 200));
  }
  const done = await s.domain.jobStats({ completed: true });
  if (done.type !== 'COMPLETED') {
    const why = done.fields[DomainJobField.ERRMSG];
    throw gatewayError('LIBVIRT_ERROR', `the backup of ${s.domain.name} ended ${done.type}${why ? `: ${why}` : ''}`);
  }
  progress.processedBytes = big(done.fields[DomainJobField.DATA_PROCESSED]) ?? progress.processedBytes;
  progress.totalBytes = big(done.fields[DomainJobField.DATA_TOTAL]) ?? progress.totalBytes;
}

builder.mutationFields((t) => ({
  backupDomain: t.field({
    authScopes: fromInput(onDomainArg('VM.Snapshot')),
    type: OperationRef,
    description:
      'Backs up a running domain’s writable pool disks in push mode (virDomainBackupBegin) into new qcow2 volumes of a pool, as a tracked operation (kind BACKUP): `<domain>-<target>.<label>.qcow2`, the label being the new checkpoint’s name (or backup-<time>). With checkpoint, the disks (qcow2) start tracking changes; with incrementalFrom, only what changed since that checkpoint is copied, into a volume layered on the backup named after it when the pool holds one, so the newest volume reads as the whole disk. cancelOperation aborts it and deletes the volumes. Needs VM.Snapshot, Storage.Use on the disks’ pools and Storage.Use and Storage.Allocate on the target pool.',
    args: mutationInput('BackupDomain', {
      host: t.arg.string({ description: 'Registry name of the host; the default host when omitted.' }),
      domain: t.arg({ type: DomainRef, required: true, description: 'The running domain.' }),
      pool: t.arg.string({ required: true, description: 'The storage pool the backup volumes are made in.' }),
      checkpoint: t.arg.string({
        description: 'Start a checkpoint of this name with the backup (for the next incremental one).',
        validate: snapshotName,
      }),
      incrementalFrom: t.arg.string({
        description: 'Copy only what changed since this checkpoint.',
        validate: snapshotName,
      }),
    }),
    resolve: async (_r, { input: args }, ctx) => {
      const host = hostName(ctx, args.host);
      const s = await findDomain(ctx, host, args.domain);
      const c = await connectionOf(ctx, host);
      const field = 'Mutation.backupDomain';
      const pool = await visiblePool(ctx, host, args.pool);
      requireOnPool(ctx, host, pool.name, ['Storage.Use', 'Storage.Allocate'], field, `pool ${args.pool}`);
      const { state } = await s.domain.state();
      if (state !== 'RUNNING' && state !== 'PAUSED') invalidState(s, state, 'only a running domain is backed up');
      const existing = (await s.domain.checkpoints()).map((x) => parseCheckpointXml(x.xml).name);
      if (args.incrementalFrom != null && !existing.includes(args.incrementalFrom)) {
        throw notFound('checkpoint', args.incrementalFrom, { host, domain: s.domain.name, field: 'incrementalFrom' });
      }
      if (args.checkpoint != null && existing.includes(args.checkpoint)) {
        throw invalidInput('checkpoint', `${s.domain.name} already has a checkpoint named ${args.checkpoint}`);
      }
      const label = args.checkpoint ?? `backup-${Date.now()}`;
      const disks: BackupDiskSpec[] = [];
      const targets: BackupTarget[] = [];
      const taken = new Set((await pool.volumes()).map((v) => v.name));
      for (const disk of parseDomainXml(await s.domain.xml()).disks) {
        if (disk.device !== 'disk' || disk.readonly || disk.shareable) {
          disks.push({ name: disk.target.dev, backup: false });
          continue;
        }
        const { volume } = await diskVolume(ctx, host, c, disk, ['Storage.Use'], field);
        if ((args.checkpoint != null || args.incrementalFrom != null) && disk.driverType !== 'qcow2') {
          throw invalidInput(
            'checkpoint',
            `${disk.target.dev} is ${disk.driverType ?? 'raw'}; checkpoints need qcow2 disks`,
          );
        }
        const name = `${s.domain.name}-${disk.target.dev}.${label}.qcow2`;
        if (taken.has(name)) throw invalidInput('checkpoint', `pool ${pool.name} already has a volume named ${name}`);
        const baseName = `${s.domain.name}-${disk.target.dev}.${args.incrementalFrom}.qcow2`;
        const base = args.incrementalFrom != null && taken.has(baseName) ? baseName : undefined;
        targets.push({
          disk: disk.target.dev,
          name,
          capacityBytes: (await volume.info()).capacityBytes,
          ...(base ? { base } : {}),
        });
      }
      if (targets.length === 0) throw invalidInput('domain', `${s.domain.name} has no writable pool disk to back up`);
      const progress: BackupProgressShape = { phase: 'PREPARING' };
      const run = async (): Promise<BackupResultShape> => {
        const made: Volume[] = [];
        try {
          for (const target of targets) {
            const backingStore = target.base
              ? { path: (await pool.volumeByName(target.base)).path, format: 'qcow2' }
              : undefined;
            const xml = buildVolumeXml({
              name: target.name,
              capacityBytes: target.capacityBytes,
              format: 'qcow2',
              ...(backingStore ? { backingStore } : {}),
            });
            await checkBuiltXml(ctx, host, 'volume', 'pool', xml);
            const volume = await pool.createVolume(xml);
            made.push(volume);
            disks.push({ name: target.disk, backup: true, file: volume.path, format: 'qcow2' });
          }
          // The targets are volumes just made in a pool the caller may use: their paths are the gateway's own.
          const backupXml = buildBackupXml({
            ...(args.incrementalFrom != null ? { incremental: args.incrementalFrom } : {}),
            disks,
          });
          const checkpointXml =
            args.checkpoint != null
              ? buildCheckpointXml(
                  args.checkpoint,
                  disks.map((d) => ({ name: d.name, bitmap: d.backup })),
                )
              : null;
          await exclusively(ctx, s, () => s.domain.backupBegin(backupXml, checkpointXml, { reuseExternal: true }));
          progress.phase = 'RUNNING';
          await backupEnded(s, progress);
          progress.phase = 'DONE';
          changed(ctx);
          return {
            host,
            uuid: s.domain.uuid,
            volumes: made.map((v) => v.path),
            ...(args.checkpoint != null ? { checkpoint: args.checkpoint } : {}),
            progress: { ...progress },
          };
        } catch (e) {
          progress.phase = 'UNDOING';
          for (const v of made.reverse()) await v.delete().catch(() => undefined);
          throw e;
        }
      };
      return (await ctx.operations.start({
        kind: 'BACKUP',
        owner: ctx.identity.key,
        host,
        run,
        poll: async () => ({ ...progress }),
        cancel: () => s.domain.abortJob().catch(() => undefined),
      })) as never;
    },
  }),
}));
