import type { StoragePool, Volume } from '../../libvirt/index.ts';
import { buildCopyDestinationXml, type DiskImageSource, retargetDiskXml } from '../../libvirt/xml/disk-move-xml.ts';
import type { DomainDisk } from '../../libvirt/xml/domain-xml.ts';
import { parseDomainXml } from '../../libvirt/xml/domain-xml.ts';
import { buildVolumeXml, parseVolumeXml } from '../../libvirt/xml/volume-xml.ts';
import { volumeName } from '../../validation/index.ts';
import { builder } from '../core/builder.ts';
import type { GatewayContext } from '../core/context.ts';
import { gatewayError, invalidInput } from '../core/errors.ts';
import { checkBuiltXml } from '../core/host-safety.ts';
import { connectionOf, hostName } from '../core/hosts.ts';
import { changed, fromInput, mutationInput } from '../core/mutation-support.ts';
import { OperationRef } from '../operations/operations.ts';
import { requireOnPool, visiblePool } from '../storage/pool-grants.ts';
import { type DiskJobProgressShape, followBlockJob, startDiskJob } from './block-job.ts';
import { diskOf, diskVolume, otherUsersOf } from './disk-volume.ts';
import { DomainRef, type DomainShape, findDomain, onDomainArg } from './domain.ts';
import { exclusively, invalidState } from './lifecycle.ts';

const DiskImageFormat = builder.enumType('DiskImageFormat', {
  description: 'The format of a disk image a disk operation writes.',
  values: {
    RAW: { value: 'raw', description: 'A plain image: every guest byte at its offset.' },
    QCOW2: { value: 'qcow2', description: 'QEMU copy-on-write: sparse, with snapshots and backing files.' },
  } as const,
});

const FIELD = 'Mutation.moveDomainDisk';

/** The new volume's name: the source's, with the format's extension. */
function targetName(source: Volume, format: string): string {
  const stem = source.name.replace(/\.(raw|img|qcow2)$/i, '');
  return `${stem}.${format === 'raw' ? 'img' : format}`;
}

/** The disk's source as the persistent definition should name it after the move: its kind kept. */
function newSource(disk: DomainDisk, pool: StoragePool, copy: Volume): DiskImageSource {
  return disk.type === 'volume' ? { pool: pool.name, volume: copy.name } : { file: copy.path };
}

interface MovePlan {
  ctx: GatewayContext;
  s: DomainShape;
  disk: DomainDisk;
  source: Volume;
  target: StoragePool;
  name: string;
  format: string;
  capacityBytes: bigint;
  deleteSource: boolean;
  bandwidth?: bigint;
}

/** Points the persistent definition at the copy, unless libvirt already did (it does after a pivot). */
async function redefine(plan: MovePlan, copy: Volume): Promise<void> {
  const { ctx, s, disk } = plan;
  if (!(await s.domain.isPersistent())) return;
  const inactive = await s.domain.xml({ inactive: true });
  const now = parseDomainXml(inactive).disks.find((d) => d.target.dev === disk.target.dev);
  if (now === undefined) return;
  const pointsAtCopy =
    now.sourcePath === copy.path || (now.source.pool === plan.target.name && now.source.volume === copy.name);
  if (pointsAtCopy && now.driverType === plan.format) return;
  const xml = retargetDiskXml(inactive, disk.target.dev, newSource(disk, plan.target, copy), plan.format);
  await checkBuiltXml(ctx, s.host, 'domain', 'domain', xml);
  await s.domain.connection.defineDomain(xml);
}

/** A running domain: mirror into the copy (virDomainBlockCopy), wait until it is READY, pivot. */
async function moveLive(plan: MovePlan, copy: Volume, progress: DiskJobProgressShape, cancelled: () => boolean) {
  const { ctx, s, disk } = plan;
  const dev = disk.target.dev;
  const destination = buildCopyDestinationXml(dev, copy.path, plan.format);
  await checkBuiltXml(ctx, s.host, 'device', 'disk', destination);
  await followBlockJob(
    ctx,
    s,
    dev,
    {
      begin: async () => {
        // The volume exists (made through its pool, so its grants and format hold): libvirt reuses it.
        // libvirt mirrors a persistent domain's disk only as a job a daemon restart does not resume.
        const persistent = await s.domain.isPersistent();
        await s.domain.blockCopy(dev, destination, {
          flags: persistent ? ['REUSE_EXT', 'TRANSIENT_JOB'] : ['REUSE_EXT'],
          ...(plan.bandwidth ? { bandwidthBytesPerSecond: plan.bandwidth } : {}),
        });
      },
      notRunning: 'the disk can only be mirrored while it runs',
      until: 'READY',
      what: `moving ${dev}`,
    },
    progress,
    cancelled,
  );
}

/** A stopped domain: copy the volume through its pool (qemu-img convert), then point the definition at it. */
async function moveInactive(plan: MovePlan, volumeXml: string, cancelled: () => boolean): Promise<Volume> {
  const { ctx, s } = plan;
  const copy = await plan.target.cloneVolume(volumeXml, plan.source);
  try {
    // libvirt's volume copy cannot be interrupted: a cancel during it takes effect here.
    if (cancelled()) throw gatewayError('INVALID_STATE', `moving ${plan.disk.target.dev} was cancelled`);
    await exclusively(ctx, s, async () => {
      const { state } = await s.domain.state();
      if (state !== 'SHUTOFF') invalidState(s, state, 'it started while its disk was copied');
      await redefine(plan, copy);
    });
  } catch (e) {
    await copy.delete().catch(() => undefined);
    throw e;
  }
  return copy;
}

async function runMove(plan: MovePlan, progress: DiskJobProgressShape, cancelled: () => boolean) {
  const { ctx, s, disk } = plan;
  const volumeXml = buildVolumeXml({ name: plan.name, capacityBytes: plan.capacityBytes, format: plan.format });
  await checkBuiltXml(ctx, s.host, 'volume', 'name', volumeXml);
  const active = await s.domain.isActive();
  let copy: Volume;
  if (active) {
    copy = await plan.target.createVolume(volumeXml);
    try {
      await moveLive(plan, copy, progress, cancelled);
    } catch (e) {
      progress.phase = 'UNDOING';
      await copy.delete().catch(() => undefined);
      throw e;
    }
    progress.phase = 'FINISHING';
    await exclusively(ctx, s, () => redefine(plan, copy));
  } else {
    progress.phase = 'RUNNING';
    copy = await moveInactive(plan, volumeXml, cancelled);
    progress.phase = 'FINISHING';
  }
  const deleted: string[] = [];
  if (plan.deleteSource) {
    const path = plan.source.path;
    await plan.source.delete();
    deleted.push(path);
  }
  changed(ctx);
  return { host: s.host, uuid: s.domain.uuid, disk: disk.target.dev, path: copy.path, deleted };
}

builder.mutationFields((t) => ({
  moveDomainDisk: t.field({
    authScopes: fromInput(onDomainArg('VM.Config')),
    type: OperationRef,
    description:
      'Moves a disk’s data to a new volume in a pool (another pool and/or format) as a tracked operation (kind MOVE_DISK; follow operationUpdated(id)). A running domain keeps running: its disk is mirrored (virDomainBlockCopy) while the guest writes, then switched over (pivot). A stopped domain’s volume is copied and its definition changed. The old volume is kept unless deleteSource. cancelOperation aborts the copy and deletes the new volume. Needs VM.Config, Storage.Use on both pools and Storage.Allocate on the target pool.',
    args: mutationInput('MoveDomainDisk', {
      host: t.arg.string({ description: 'Registry name of the host; the default host when omitted.' }),
      domain: t.arg({ type: DomainRef, required: true, description: 'The domain: by name, UUID or runtime id.' }),
      disk: t.arg.string({ required: true, description: 'The disk’s guest target, e.g. vda.' }),
      pool: t.arg.string({ required: true, description: 'The storage pool the new volume is made in.' }),
      format: t.arg({
        type: DiskImageFormat,
        description: 'The new volume’s format; the source’s when omitted.',
      }),
      name: t.arg.string({
        description: 'The new volume’s name; the source’s name with the format’s extension when omitted.',
        validate: volumeName,
      }),
      bandwidthBytesPerSecond: t.arg({
        type: 'BigInt',
        description: 'A running domain’s copy is limited to this many bytes per second; no limit when omitted.',
      }),
      deleteSource: t.arg.boolean({
        defaultValue: false,
        required: true,
        description: 'Delete the old volume once the disk uses the new one. @default false',
      }),
    }),
    resolve: async (_r, { input: args }, ctx) => {
      const host = hostName(ctx, args.host);
      const s = await findDomain(ctx, host, args.domain);
      const c = await connectionOf(ctx, host);
      const disk = await diskOf(host, s.domain, args.disk);
      const target = await visiblePool(ctx, host, args.pool);
      // Deleting the old volume is a change to its pool: Storage.Allocate there too.
      const sourcePrivileges = args.deleteSource
        ? (['Storage.Use', 'Storage.Allocate'] as const)
        : (['Storage.Use'] as const);
      const { volume: source } = await diskVolume(ctx, host, c, disk, sourcePrivileges, FIELD);
      requireOnPool(ctx, host, target.name, ['Storage.Use', 'Storage.Allocate'], FIELD, `pool ${args.pool}`);
      if (!(await target.isActive())) throw invalidInput('pool', `pool ${target.name} is not active`);
      const sourceFormat = parseVolumeXml(await source.xml()).format ?? disk.driverType ?? 'raw';
      const format = args.format ?? sourceFormat;
      if (format !== 'raw' && format !== 'qcow2') {
        throw invalidInput('format', `the source is ${format}; give format RAW or QCOW2`);
      }
      const name = args.name ?? targetName(source, format);
      if ((await target.volumes()).some((v) => v.name === name)) {
        throw invalidInput('name', `pool ${target.name} already has a volume named ${name}`);
      }
      if (args.bandwidthBytesPerSecond != null && args.bandwidthBytesPerSecond <= 0n) {
        throw invalidInput('bandwidthBytesPerSecond', 'must be positive');
      }
      if (args.deleteSource) {
        const own = [disk.sourcePath, ...disk.backingChain.map((b) => b.path)].filter((p): p is string => !!p);
        if ((await otherUsersOf(c, s.domain, source.path, own)).length > 0) {
          throw gatewayError(
            'INVALID_STATE',
            `the volume of ${disk.target.dev} is also used by another domain or volume; it cannot be deleted (move without deleteSource)`,
            { host, field: 'deleteSource' },
          );
        }
      }
      const capacityBytes = (await source.info()).capacityBytes;
      const plan: MovePlan = {
        ctx,
        s,
        disk,
        source,
        target,
        name,
        format,
        capacityBytes,
        deleteSource: args.deleteSource,
        ...(args.bandwidthBytesPerSecond ? { bandwidth: args.bandwidthBytesPerSecond } : {}),
      };
      return (await startDiskJob(ctx, 'MOVE_DISK', s, disk.target.dev, (progress, cancelled) =>
        runMove(plan, progress, cancelled),
      )) as never;
    },
  }),
}));
