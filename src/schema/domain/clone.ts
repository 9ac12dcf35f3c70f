import type { Connection, Domain, Volume } from '../../libvirt/index.ts';
import { cloneDomainXml } from '../../libvirt/xml/domain-clone-xml.ts';
import { type DomainDisk, parseDomainXml } from '../../libvirt/xml/domain-xml.ts';
import { buildVolumeXml, parseVolumeXml } from '../../libvirt/xml/volume-xml.ts';
import type { Operation } from '../../operations/operation-tracker.ts';
import { domainName } from '../../validation/index.ts';
import { builder } from '../core/builder.ts';
import type { GatewayContext } from '../core/context.ts';
import { describedEnum } from '../core/enum-types.ts';
import { invalidInput } from '../core/errors.ts';
import { checkBuiltXml } from '../core/host-safety.ts';
import { connectionOf, hostName } from '../core/hosts.ts';
import { fromInput, mutationInput } from '../core/mutation-support.ts';
import { OperationRef } from '../operations/operations.ts';
import { requireOnPool } from '../storage/pool-grants.ts';
import {
  type CloneFailure,
  type CloneProgressShape,
  copyDisksThenDefine,
  type PlannedCopy,
  refuseUefiVariables,
  requireNewDomainName,
} from './disk-copies.ts';
import { volumeBehind } from './disk-volume.ts';
import { DomainNode, DomainRef, findDomain, onDomainArg } from './domain.ts';
import { invalidState } from './lifecycle.ts';

export type { CloneProgressShape } from './disk-copies.ts';

/** What other replicas read of a finished clone. */
export interface ClonedShape {
  host: string;
  uuid: string;
  name: string;
  volumes: string[];
  /** The last progress: the tracker polls while it runs and may not have seen the end. */
  progress: CloneProgressShape;
}

type CloneOperation = Operation<CloneProgressShape, ClonedShape>;

const CloneStep = describedEnum('CloneStep', 'The steps of a cloneDomain or restoreDomainBackup operation.', {
  COPYING_DISKS: 'Copying the writable disks (or the backup volumes) into new volumes.',
  DEFINING: 'Defining the copy.',
  DONE: 'Finished.',
  UNDOING: 'A step failed or it was cancelled: deleting what was made.',
});

export const CloneProgress = builder.objectRef<CloneProgressShape>('CloneProgress').implement({
  description: 'Where a cloneDomain or restoreDomainBackup operation is.',
  fields: (t) => ({
    step: t.field({
      type: CloneStep,
      nullable: false,
      description: 'The step it is at.',
      resolve: (p) => p.step,
    }),
    disksDone: t.exposeInt('disksDone', { nullable: false, description: 'Disks copied so far.' }),
    disksTotal: t.exposeInt('disksTotal', { nullable: false, description: 'Disks to copy.' }),
    currentDisk: t.string({
      description: 'The guest target (vda…) of the disk being copied.',
      resolve: (p) => p.currentDisk ?? null,
    }),
  }),
});

const CloneResult = builder.objectRef<ClonedShape>('CloneResult').implement({
  description: 'The domain a cloneDomain operation defined.',
  fields: (t) => ({
    name: t.exposeString('name', { nullable: false, description: 'The clone’s name.' }),
    uuid: t.exposeString('uuid', { nullable: false, description: 'Its new UUID.' }),
    volumes: t.exposeStringList('volumes', { nullable: false, description: 'Paths of the copied volumes.' }),
    domain: t.field({
      type: DomainNode,
      description: 'The clone, while it exists.',
      resolve: (r, _a, ctx) => findDomain(ctx, r.host, { uuid: r.uuid }).catch(() => null),
    }),
  }),
});

/**
 * Where an operation of `kind` that copies disks (CLONE, RESTORE_BACKUP) is: its live progress while
 * it runs, then the final one (a failure's, when it failed); null for an operation of another kind.
 */
export function copyProgressOf(o: Operation, kind: string): CloneProgressShape | null {
  if (o.kind !== kind) return null;
  const op = o as Operation<CloneProgressShape, { progress: CloneProgressShape }>;
  if (op.status === 'RUNNING') return op.progress ?? null;
  return op.result?.progress ?? (op.error as CloneFailure | undefined)?.cloneProgress ?? op.progress ?? null;
}

builder.objectFields(OperationRef, (t) => ({
  cloneProgress: t.field({
    type: CloneProgress,
    description: 'Where a clone is.',
    resolve: (o) => copyProgressOf(o, 'CLONE'),
  }),
  clone: t.field({
    type: CloneResult,
    description: 'The outcome of a clone, once COMPLETED.',
    resolve: (o) => (o.kind === 'CLONE' ? ((o as unknown as CloneOperation).result ?? null) : null),
  }),
}));

/** A disk the clone copies: a writable disk (not a CD-ROM, floppy or shared disk) backed by a pool volume. */
interface DiskCopy {
  disk: DomainDisk;
  source: Volume;
}

/**
 * The clone's copy of `source`: `<clone>-<target><extension of the source>`, e.g. web2-vda.qcow2;
 * a linked clone's overlay is always `.qcow2`.
 */
function copyName(cloneName: string, disk: DomainDisk, source: Volume, linked = false): string {
  const ext = linked ? '.qcow2' : (/\.[A-Za-z0-9]{1,8}$/.exec(source.name)?.[0] ?? '');
  return `${cloneName}-${disk.target.dev}${ext}`;
}

/**
 * Checks what can be checked before anything is created; returns the disks to copy. Each copy
 * reads a volume of a pool and makes one in it: Storage.Use and Storage.Allocate on that pool. A
 * pool the caller may not audit is named in no answer (its disk's target device is).
 */
async function planClone(
  ctx: GatewayContext,
  host: string,
  c: Connection,
  source: Domain,
  name: string,
  linked: boolean,
): Promise<{ xml: string; copies: DiskCopy[] }> {
  const xml = await source.xml({ inactive: true });
  const parsed = parseDomainXml(xml);
  refuseUefiVariables(parsed, source.name, 'cloneDomain');
  const copies: DiskCopy[] = [];
  for (const disk of parsed.disks) {
    if (disk.device !== 'disk' || disk.readonly || disk.shareable) continue;
    const volume = await volumeBehind(c, disk);
    if (!volume) {
      throw invalidInput(
        'domain',
        `disk ${disk.target.dev} of ${source.name} (${disk.sourcePath ?? disk.type}) is not a storage volume; cloneDomain copies pool volumes only`,
      );
    }
    copies.push({ disk, source: volume });
  }
  for (const { disk, source: volume } of copies) {
    const pool = await volume.pool();
    const where = ctx.identity.can('Storage.Audit', host, pool.name)
      ? `pool ${pool.name}`
      : `the pool of disk ${disk.target.dev}`;
    requireOnPool(
      ctx,
      host,
      pool.name,
      ['Storage.Use', 'Storage.Allocate'],
      'Mutation.cloneDomain',
      `the pool of disk ${disk.target.dev}`,
    );
    const taken = (await pool.volumes()).some((v) => v.name === copyName(name, disk, volume, linked));
    if (taken) {
      throw invalidInput('name', `${where} already has a volume named ${copyName(name, disk, volume, linked)}`);
    }
  }
  return { xml, copies };
}

builder.mutationFields((t) => ({
  cloneDomain: t.field({
    authScopes: fromInput(onDomainArg('VM.Allocate')),
    type: OperationRef,
    description:
      'Defines a copy of a shut-off domain as a tracked operation (follow operationUpdated(id)): each writable disk backed by a pool volume is copied into the same pool (as <name>-<target>), the copy gets a new UUID and new NIC MAC addresses. If a step fails, what was done is undone (copies deleted, definition removed) and the operation FAILS; cancelOperation stops it the same way between steps. The clone is not started.',
    args: mutationInput('CloneDomain', {
      host: t.arg.string({ description: 'Registry name of the host; the default host when omitted.' }),
      domain: t.arg({ type: DomainRef, required: true, description: 'The shut-off domain to copy.' }),
      name: t.arg.string({ required: true, description: 'The clone’s name.', validate: domainName }),
      linked: t.arg.boolean({
        defaultValue: false,
        required: true,
        description:
          'Each disk becomes a qcow2 overlay on the source’s volume instead of a copy: instant and small, but the source’s volumes must then stay as they are (start the source again and the clones read changed data). @default false',
      }),
    }),
    resolve: async (_r, { input: args }, ctx) => {
      const host = hostName(ctx, args.host);
      const s = await findDomain(ctx, host, args.domain);
      const c = await connectionOf(ctx, host);
      await requireNewDomainName(ctx, host, c, args.name, 'Mutation.cloneDomain', 'name');
      const { state } = await s.domain.state();
      if (state !== 'SHUTOFF') invalidState(s, state, 'only a shut-off domain can be cloned');
      const linked = args.linked;
      const { xml, copies } = await planClone(ctx, host, c, s.domain, args.name, linked);
      // Everything but the copies' new paths is known now: a NIC on a network the caller may not
      // use, or anything else the policy refuses, is refused before a disk is copied.
      await checkBuiltXml(ctx, host, 'domain', 'domain', cloneDomainXml(xml, { name: args.name, disks: new Map() }));
      const progress: CloneProgressShape = { step: 'COPYING_DISKS', disksDone: 0, disksTotal: copies.length };
      let cancelled = false;
      const run = async (): Promise<ClonedShape> => {
        const planned: PlannedCopy[] = [];
        for (const { disk, source } of copies) {
          const format = parseVolumeXml(await source.xml()).format;
          const capacityBytes = (await source.info()).capacityBytes;
          const name = copyName(args.name, disk, source, linked);
          // Linked: a qcow2 overlay on the source (instant, shares its data); else a full copy.
          const volumeXml = linked
            ? buildVolumeXml({
                name,
                capacityBytes,
                format: 'qcow2',
                backingStore: { path: source.path, format: format ?? 'raw' },
              })
            : buildVolumeXml({ name, capacityBytes, ...(format ? { format } : {}) });
          planned.push({
            disk: disk.target.dev,
            source,
            pool: await source.pool(),
            volumeXml,
            linked,
            asVolume: disk.type === 'volume',
          });
        }
        const made = await copyDisksThenDefine(
          ctx,
          host,
          c,
          planned,
          { xml, name: args.name },
          progress,
          () => cancelled,
          'cloneDomain',
        );
        const defined = made.domain as Domain;
        return {
          host,
          uuid: defined.uuid,
          name: defined.name,
          volumes: made.volumes.map((v) => v.path),
          progress: { ...progress },
        };
      };
      return (await ctx.operations.start({
        kind: 'CLONE',
        owner: ctx.identity.key,
        run,
        poll: async () => ({ ...progress }),
        cancel: async () => {
          cancelled = true;
        },
      })) as never;
    },
  }),
}));
