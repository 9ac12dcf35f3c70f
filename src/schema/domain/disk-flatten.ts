import { builder } from '../core/builder.ts';
import type { GatewayContext } from '../core/context.ts';
import { gatewayError, invalidInput } from '../core/errors.ts';
import { connectionOf, hostName } from '../core/hosts.ts';
import { changed, fromInput, mutationInput } from '../core/mutation-support.ts';
import { OperationRef } from '../operations/operations.ts';
import { requireOnPool } from '../storage/pool-grants.ts';
import { type DiskJobKind, type DiskJobProgressShape, followBlockJob, startDiskJob } from './block-job.ts';
import { diskOf, diskVolume, otherUsersOf } from './disk-volume.ts';
import { DomainRef, type DomainRefValue, type DomainShape, findDomain, onDomainArg } from './domain.ts';
import { invalidState } from './lifecycle.ts';

type Flatten = 'commit' | 'pull';

/**
 * Runs a commit or pull on a running disk: the job starts under the domain's lock, is followed
 * through its events to READY (an active commit, then pivoted) or COMPLETED (a pull).
 */
async function flatten(
  ctx: GatewayContext,
  s: DomainShape,
  dev: string,
  how: Flatten,
  shallow: boolean,
  progress: DiskJobProgressShape,
  cancelled: () => boolean,
) {
  await followBlockJob(
    ctx,
    s,
    dev,
    {
      begin: () =>
        how === 'pull'
          ? s.domain.blockPull(dev)
          : s.domain.blockCommit(dev, { flags: shallow ? ['ACTIVE', 'SHALLOW'] : ['ACTIVE'] }),
      notRunning: 'block jobs run on a running domain only',
      until: how === 'pull' ? 'COMPLETED' : 'READY',
      what: `committing ${dev}`,
    },
    progress,
    cancelled,
  );
  progress.phase = 'FINISHING';
  changed(ctx);
  const after = await diskOf(s.host, s.domain, dev);
  return { host: s.host, uuid: s.domain.uuid, disk: dev, path: after.sourcePath, deleted: [] };
}

async function startFlatten(
  ctx: GatewayContext,
  args: { host?: string | null; domain: DomainRefValue; disk: string; shallow?: boolean | null },
  how: Flatten,
) {
  const host = hostName(ctx, args.host);
  const s = await findDomain(ctx, host, args.domain);
  const disk = await diskOf(host, s.domain, args.disk);
  const field = how === 'pull' ? 'Mutation.pullDomainDisk' : 'Mutation.commitDomainDisk';
  await diskVolume(ctx, host, await connectionOf(ctx, host), disk, ['Storage.Use'], field);
  const { state } = await s.domain.state();
  if (state !== 'RUNNING' && state !== 'PAUSED') invalidState(s, state, 'block jobs run on a running domain only');
  if (disk.backingChain.length === 0) {
    throw invalidInput('disk', `${disk.target.dev} has no backing chain to ${how === 'pull' ? 'pull' : 'commit into'}`);
  }
  const kind: DiskJobKind = how === 'pull' ? 'PULL_DISK' : 'COMMIT_DISK';
  const shallow = args.shallow ?? false;
  // A commit writes into the images below the active layer (the base, and what the intermediate ones
  // show through it): each must be a volume the caller may use, and nobody else's.
  if (how === 'commit') {
    const c = await connectionOf(ctx, host);
    const touched = shallow ? disk.backingChain.slice(0, 1) : disk.backingChain;
    const own = [disk.sourcePath, ...disk.backingChain.map((b) => b.path)].filter((p): p is string => p !== undefined);
    for (const [i, image] of touched.entries()) {
      const path = image.path;
      const volume = path === undefined ? undefined : await c.volumeByPath(path).catch(() => undefined);
      if (path === undefined || volume === undefined) {
        throw invalidInput('disk', `image ${i + 1} below ${disk.target.dev} is not a storage volume of a pool`);
      }
      const pool = await volume.pool();
      requireOnPool(
        ctx,
        host,
        pool.name,
        ['Storage.Use'],
        field,
        `the pool of image ${i + 1} below ${disk.target.dev}`,
      );
      if ((await otherUsersOf(c, s.domain, path, own)).length > 0) {
        throw gatewayError(
          'INVALID_STATE',
          `image ${i + 1} below ${disk.target.dev} is also used by another domain or volume; committing into it would change their data`,
          { host, field: 'disk' },
        );
      }
    }
  }
  return startDiskJob(ctx, kind, s, disk.target.dev, (progress, cancelled) =>
    flatten(ctx, s, disk.target.dev, how, shallow, progress, cancelled),
  );
}

builder.mutationFields((t) => {
  const host = t.arg.string({ description: 'Registry name of the host; the default host when omitted.' });
  const domain = t.arg({ type: DomainRef, required: true, description: 'The running domain.' });
  const disk = t.arg.string({ required: true, description: 'The disk’s guest target, e.g. vda.' });
  return {
    commitDomainDisk: t.field({
      authScopes: fromInput(onDomainArg('VM.Config')),
      type: OperationRef,
      description:
        'Flattens a running disk’s backing chain downwards as a tracked operation (kind COMMIT_DISK): the active layer (an external snapshot’s overlay) is merged into the image at the bottom of the chain, or only into the one below with shallow, and the disk then uses that image (virDomainBlockCommit with ACTIVE, then pivot). The merged overlays stay as files. cancelOperation aborts it; the disk keeps its overlay.',
      args: mutationInput('CommitDomainDisk', {
        host,
        domain,
        disk,
        shallow: t.arg.boolean({
          defaultValue: false,
          required: true,
          description: 'Merge only into the image right below the active layer. @default false',
        }),
      }),
      resolve: async (_r, { input: args }, ctx) => (await startFlatten(ctx, args, 'commit')) as never,
    }),
    pullDomainDisk: t.field({
      authScopes: fromInput(onDomainArg('VM.Config')),
      type: OperationRef,
      description:
        'Flattens a running disk’s backing chain upwards as a tracked operation (kind PULL_DISK): everything below the active layer is copied into it (virDomainBlockPull), which then stands alone. The images below stay as files. cancelOperation aborts it; the chain stays as it was.',
      args: mutationInput('PullDomainDisk', { host, domain, disk }),
      resolve: async (_r, { input: args }, ctx) => (await startFlatten(ctx, args, 'pull')) as never,
    }),
  };
});
