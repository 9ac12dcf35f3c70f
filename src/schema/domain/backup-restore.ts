import { cloneDomainXml } from '../../libvirt/xml/domain-clone-xml.ts';
import { parseDomainXml } from '../../libvirt/xml/domain-xml.ts';
import { buildVolumeXml } from '../../libvirt/xml/volume-xml.ts';
import type { Operation } from '../../operations/operation-tracker.ts';
import { diskFormat, diskTargetDevice, domainName, volumeName } from '../../validation/index.ts';
import { builder } from '../core/builder.ts';
import type { GatewayContext } from '../core/context.ts';
import { invalidInput } from '../core/errors.ts';
import { checkBuiltXml } from '../core/host-safety.ts';
import { connectionOf, hostName } from '../core/hosts.ts';
import { fromInput, mutationInput } from '../core/mutation-support.ts';
import { OperationRef } from '../operations/operations.ts';
import { onPoolArg } from '../storage/pool.ts';
import { requireOnPool, visiblePool } from '../storage/pool-grants.ts';
import { findVolume, poolOf, VolumeRef } from '../storage/volume.ts';
import { CloneProgress, copyProgressOf } from './clone.ts';
import {
  type CloneProgressShape,
  copyDisksThenDefine,
  type PlannedCopy,
  refuseUefiVariables,
  requireNewDomainName,
} from './disk-copies.ts';
import { DomainNode, DomainRef, findDomain, onDomainArg } from './domain.ts';

/** What other replicas read of a finished restore. */
interface RestoredShape {
  host: string;
  volumes: string[];
  /** The new domain's UUID, when one was defined. */
  uuid?: string;
  progress: CloneProgressShape;
}

type RestoreOperation = Operation<CloneProgressShape, RestoredShape>;

const RestoreResult = builder.objectRef<RestoredShape>('BackupRestoreResult').implement({
  description: 'What a finished restoreDomainBackup made.',
  fields: (t) => ({
    volumes: t.exposeStringList('volumes', {
      nullable: false,
      description: 'Paths of the restored volumes, in the order of the input’s disks.',
    }),
    domain: t.field({
      type: DomainNode,
      description: 'The new domain, when one was asked for (while it exists).',
      resolve: (r, _a, ctx) => (r.uuid ? findDomain(ctx, r.host, { uuid: r.uuid }).catch(() => null) : null),
    }),
  }),
});

builder.objectFields(OperationRef, (t) => ({
  restoreProgress: t.field({
    type: CloneProgress,
    description: 'Where a restore (kind RESTORE_BACKUP) is.',
    resolve: (o) => copyProgressOf(o, 'RESTORE_BACKUP'),
  }),
  restore: t.field({
    type: RestoreResult,
    description: 'The outcome of a restore, once COMPLETED.',
    resolve: (o) => (o.kind === 'RESTORE_BACKUP' ? ((o as unknown as RestoreOperation).result ?? null) : null),
  }),
}));

const RestoredDiskInput = builder.inputType('RestoredDiskInput', {
  description: 'One disk to restore: the backup volume that holds it, and the guest disk it was.',
  fields: (t) => ({
    disk: t.string({
      required: true,
      description: 'The guest target the backup was taken of (vda…): in a new domain, the disk it becomes.',
      validate: diskTargetDevice,
    }),
    backup: t.field({
      type: VolumeRef,
      required: true,
      description:
        'The backup volume, as BackupResult.volumes lists it. An incremental backup restores the whole disk at its time when it is layered on the backup before it (as backupDomain makes it when the pool holds that one): the chain is read into one image.',
    }),
    name: t.string({
      description:
        'The new volume’s name; `<name>-<disk>.<format>` with a new domain, else the backup volume’s name with `.restored.<format>`.',
      validate: volumeName,
    }),
    format: t.string({
      description:
        'The new volume’s format (raw, qcow2…), converted by libvirt; with a new domain, the disk’s driver type (and no other), else qcow2.',
      validate: diskFormat,
    }),
  }),
});

interface RestoreArgs {
  host?: string | null;
  pool: string;
  disks: Array<{
    disk: string;
    backup: { id?: string | null; path?: string | null; key?: string | null };
    name?: string | null;
    format?: string | null;
  }>;
  domain?: Parameters<typeof findDomain>[2] | null;
  name?: string | null;
}

/** Storage.Allocate on the target pool; with a new domain, VM.Allocate on the backed-up one too (like cloneDomain). */
async function onRestore(parent: unknown, args: RestoreArgs, ctx: GatewayContext) {
  const pool = await onPoolArg('Storage.Allocate', 'pool')(parent, { host: args.host, pool: args.pool }, ctx);
  if (args.domain == null) return pool;
  return { $all: { ...pool, $all: await onDomainArg('VM.Allocate')(parent, { ...args, domain: args.domain }, ctx) } };
}

const FIELD = 'Mutation.restoreDomainBackup';

builder.mutationFields((t) => ({
  restoreDomainBackup: t.field({
    authScopes: fromInput(onRestore),
    type: OperationRef,
    description:
      'Restores backupDomain’s volumes as a tracked operation (kind RESTORE_BACKUP): each backup volume is copied into a new volume of `pool` (virStorageVolCreateXMLFrom, which reads an incremental backup’s chain into one image: the whole disk at the backup’s time). With `domain` and `name`, a new domain is defined from that domain’s definition on the restored disks, with a new UUID and new NIC MAC addresses, like cloneDomain; every writable disk of it must be restored. Nothing is started. If a step fails or cancelOperation stops it, what was made is removed. Needs Storage.Allocate on `pool` (and Storage.Use there with a new domain), Storage.Use on each backup volume’s pool and, for a new domain, VM.Allocate on the backed-up domain and on the new name.',
    args: mutationInput('RestoreDomainBackup', {
      host: t.arg.string({ description: 'Registry name of the host; the default host when omitted.' }),
      pool: t.arg.string({ required: true, description: 'The storage pool the restored volumes are made in.' }),
      disks: t.arg({
        type: [RestoredDiskInput],
        required: true,
        description: 'The disks to restore, one backup volume each.',
      }),
      domain: t.arg({
        type: DomainRef,
        description: 'The backed-up domain, whose definition the new domain copies (with name).',
      }),
      name: t.arg.string({ description: 'The new domain’s name (with domain).', validate: domainName }),
    }),
    resolve: async (_r, { input: args }, ctx) => {
      const host = hostName(ctx, args.host);
      const c = await connectionOf(ctx, host);
      if ((args.domain == null) !== (args.name == null)) {
        throw invalidInput(args.name == null ? 'name' : 'domain', 'a new domain needs both domain and name');
      }
      if (args.disks.length === 0) throw invalidInput('disks', 'name at least one disk to restore');
      const targets = args.disks.map((d) => d.disk);
      const twice = targets.find((d, i) => targets.indexOf(d) !== i);
      if (twice !== undefined) throw invalidInput('disks', `disk ${twice} is named twice`);

      const pool = await visiblePool(ctx, host, args.pool);
      requireOnPool(
        ctx,
        host,
        pool.name,
        args.name == null ? ['Storage.Allocate'] : ['Storage.Allocate', 'Storage.Use'],
        FIELD,
        `pool ${args.pool}`,
      );

      // With a new domain: its definition, whose writable disks must all be restored (none shared with the source).
      let define: { xml: string; name: string } | undefined;
      const driverTypes = new Map<string, string | undefined>();
      const asVolume = new Set<string>();
      if (args.domain != null && args.name != null) {
        const s = await findDomain(ctx, host, args.domain);
        await requireNewDomainName(ctx, host, c, args.name, FIELD, 'name');
        const xml = await s.domain.xml({ inactive: true });
        const parsed = parseDomainXml(xml);
        refuseUefiVariables(parsed, s.domain.name, 'restoreDomainBackup');
        for (const disk of parsed.disks) {
          if (disk.device !== 'disk' || disk.readonly || disk.shareable) continue;
          driverTypes.set(disk.target.dev, disk.driverType);
          if (disk.type === 'volume') asVolume.add(disk.target.dev);
        }
        const missing = [...driverTypes.keys()].filter((d) => !targets.includes(d));
        if (missing.length > 0) {
          throw invalidInput('disks', `${s.domain.name}’s writable disks ${missing.join(', ')} are not restored`);
        }
        const extra = targets.filter((d) => !driverTypes.has(d));
        if (extra.length > 0) {
          throw invalidInput('disks', `${s.domain.name} has no writable disk ${extra.join(', ')}`);
        }
        define = { xml, name: args.name };
        // A NIC on a network the caller may not use, or anything else the policy refuses, before a byte is copied.
        await checkBuiltXml(ctx, host, 'domain', 'domain', cloneDomainXml(xml, { name: args.name, disks: new Map() }));
      }

      const taken = new Set((await pool.volumes()).map((v) => v.name));
      const planned: PlannedCopy[] = [];
      for (const [i, d] of args.disks.entries()) {
        const backup = await findVolume(ctx, host, d.backup);
        const backupPool = (await poolOf(ctx, backup)).object.name;
        requireOnPool(ctx, host, backupPool, ['Storage.Use'], FIELD, `the pool of backup volume ${i + 1}`);
        const driverType = driverTypes.get(d.disk);
        if (define && d.format != null && d.format !== (driverType ?? 'raw')) {
          throw invalidInput(`disks.${i}.format`, `disk ${d.disk} is ${driverType ?? 'raw'} in the definition`);
        }
        const format = d.format ?? (define ? (driverType ?? 'raw') : 'qcow2');
        const name =
          d.name ??
          (define
            ? `${define.name}-${d.disk}.${format}`
            : `${backup.object.name.replace(/\.qcow2$/, '')}.restored.${format}`);
        if (taken.has(name))
          throw invalidInput(`disks.${i}.name`, `pool ${pool.name} already has a volume named ${name}`);
        taken.add(name);
        const capacityBytes = (await backup.object.info()).capacityBytes;
        planned.push({
          disk: d.disk,
          source: backup.object,
          pool,
          volumeXml: buildVolumeXml({ name, capacityBytes, format }),
          linked: false,
          asVolume: asVolume.has(d.disk),
        });
      }

      const progress: CloneProgressShape = { step: 'COPYING_DISKS', disksDone: 0, disksTotal: planned.length };
      let cancelled = false;
      const run = async (): Promise<RestoredShape> => {
        const made = await copyDisksThenDefine(
          ctx,
          host,
          c,
          planned,
          define,
          progress,
          () => cancelled,
          'restoreDomainBackup',
        );
        return {
          host,
          volumes: made.volumes.map((v) => v.path),
          ...(made.domain ? { uuid: made.domain.uuid } : {}),
          progress: { ...progress },
        };
      };
      return (await ctx.operations.start({
        kind: 'RESTORE_BACKUP',
        owner: ctx.identity.key,
        host,
        run,
        poll: async () => ({ ...progress }),
        cancel: async () => {
          cancelled = true;
        },
      })) as never;
    },
  }),
}));
