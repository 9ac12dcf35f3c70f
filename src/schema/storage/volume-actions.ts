import type { Privilege } from '../../auth/privileges.ts';
import type { StoragePool, Volume, WipeAlgorithm } from '../../libvirt/index.ts';
import { buildVolumeXml, parseVolumeXml } from '../../libvirt/xml/volume-xml.ts';
import { diskFormat, poolName, volumeName } from '../../validation/index.ts';
import { builder } from '../core/builder.ts';
import type { GatewayContext } from '../core/context.ts';
import { describedEnum } from '../core/enum-types.ts';
import { gatewayError, invalidInput, refusedAs } from '../core/errors.ts';
import { checkBuiltXml } from '../core/host-safety.ts';
import { connectionOf, hostName } from '../core/hosts.ts';
import { actOn, changed, fromInput, mutationInput } from '../core/mutation-support.ts';
import { onPoolArg, pools, StoragePoolNode } from './pool.ts';
import { findVolume, onVolumeRef, poolOf, VolumeNode, VolumeRef, type VolumeShape } from './volume.ts';

/** libvirt's wipe patterns (virStorageVolWipeAlgorithm), as its documentation names them. */
const wipeAlgorithmDescriptions: Record<WipeAlgorithm, string> = {
  ZERO: '1 pass of zeroes.',
  NNSA: '4 passes: NNSA Policy Letter NAP-14.1-C (XVI-8).',
  DOD: '4 passes: DoD 5220.22-M section 8-306.',
  BSI: '9 passes, as the German BSI recommends.',
  GUTMANN: 'The canonical 35-pass (Gutmann) sequence.',
  SCHNEIER: '7 passes, as in Bruce Schneier’s “Applied Cryptography” (1996).',
  PFITZNER7: '7 passes of random data.',
  PFITZNER33: '33 passes of random data.',
  RANDOM: '1 pass of random data.',
  TRIM: '1 pass trimming all the volume’s data (TRIM or DISCARD).',
};

const WipeAlgorithmEnum = describedEnum(
  'WipeAlgorithm',
  'How wipeVolume overwrites a volume’s data (virStorageVolWipeAlgorithm).',
  wipeAlgorithmDescriptions,
);

/**
 * cloneVolume's scopes: the privilege on the source volume's pool and on the target pool (the
 * source's when omitted); either one the caller may not see is NOT_FOUND.
 */
function onBothPools(privilege: Privilege) {
  const source = onVolumeRef(privilege);
  const target = onPoolArg(privilege, 'pool');
  return async (
    parent: unknown,
    args: { host?: string | null; ref: Parameters<typeof findVolume>[2]; pool?: string | null },
    ctx: GatewayContext,
  ) => {
    const onSource = await source(parent, args, ctx);
    if (args.pool == null) return onSource;
    return { $all: { ...onSource, $all: await target(parent, { host: args.host, pool: args.pool }, ctx) } };
  };
}

/** The volume again after a change (its size or path may differ). */
async function reloaded(ctx: GatewayContext, s: VolumeShape): Promise<VolumeShape> {
  changed(ctx);
  const c = await connectionOf(ctx, s.host);
  return { host: s.host, object: await c.volumeByKey(s.object.key) };
}

async function activePool(ctx: GatewayContext, host: string, name: string) {
  const p = await pools.find(ctx, host, name);
  if (!(await p.object.isActive())) throw gatewayError('INVALID_STATE', `storage pool ${name} is not active`);
  return p;
}

/** The format of a volume, as its XML says (raw, qcow2…); undefined for pools without formats. */
async function formatOf(v: Volume): Promise<string | undefined> {
  return parseVolumeXml(await v.xml()).format;
}

builder.mutationFields((t) => {
  const host = t.arg.string({ description: 'Registry name of the host; the default host when omitted.' });
  const ref = t.arg({ type: VolumeRef, required: true, description: 'The volume, by path or key.' });
  /** A change of one volume: Storage.Allocate on its pool; the answer is the volume after it. */
  const changesVolume = {
    authScopes: fromInput(onVolumeRef('Storage.Allocate')),
    type: VolumeNode,
  } as const;
  return {
    cloneVolume: t.field({
      authScopes: fromInput(onBothPools('Storage.Allocate')),
      type: VolumeNode,
      description:
        'Copies a volume’s contents into a new volume (virStorageVolCreateXMLFrom), in the same pool or another active one of the host. The copy has the source’s capacity and, unless format says otherwise, its format.',
      args: mutationInput('CloneVolume', {
        host,
        ref,
        name: t.arg.string({ required: true, description: 'The new volume’s name.', validate: volumeName }),
        pool: t.arg.string({
          description: 'The pool to create it in; the source’s pool when omitted.',
          validate: poolName,
        }),
        format: t.arg.string({
          description: 'The copy’s format (raw, qcow2…), converted by libvirt; the source’s when omitted.',
          validate: diskFormat,
        }),
      }),
      resolve: async (_r, { input: args }, ctx) => {
        const h = hostName(ctx, args.host);
        const source = await findVolume(ctx, h, args.ref);
        const target = await activePool(ctx, h, args.pool ?? (await poolOf(ctx, source)).object.name);
        if ((await target.object.volumes()).some((v) => v.name === args.name)) {
          throw invalidInput('name', `pool ${target.object.name} already has a volume named ${args.name}`);
        }
        const format = args.format ?? (await formatOf(source.object));
        const xml = buildVolumeXml({
          name: args.name,
          capacityBytes: (await source.object.info()).capacityBytes,
          ...(format ? { format } : {}),
        });
        // The name passed volumeName; what libvirt's schema can refuse in the copy's document is the client's format.
        await checkBuiltXml(ctx, h, 'volume', args.format ? 'format' : 'name', xml);
        const cloned = target.object.cloneVolume(xml, source.object);
        // A format the host's storage does not know is the client's `format`, whatever libvirt calls it.
        const object = await (args.format ? refusedAs('format', cloned, ['INVALID_INPUT', 'UNSUPPORTED']) : cloned);
        changed(ctx);
        return { host: h, object, pool: target };
      },
    }),
    resizeVolume: t.field({
      ...changesVolume,
      description:
        'Changes a volume’s capacity (virStorageVolResize). Growing is safe; a smaller capacity needs shrink: true, and the data beyond it is lost.',
      args: mutationInput('ResizeVolume', {
        host,
        ref,
        capacityBytes: t.arg({ type: 'BigInt', required: true, description: 'The new capacity, in bytes.' }),
        shrink: t.arg.boolean({
          defaultValue: false,
          required: true,
          description: 'Allow a capacity below the current one. @default false',
        }),
      }),
      resolve: async (_r, { input: args }, ctx) => {
        if (args.capacityBytes <= 0n) throw invalidInput('capacityBytes', 'must be more than 0');
        const s = await findVolume(ctx, hostName(ctx, args.host), args.ref);
        const current = (await s.object.info()).capacityBytes;
        if (args.capacityBytes < current && !args.shrink) {
          throw invalidInput(
            'capacityBytes',
            `${args.capacityBytes} is below the current capacity ${current}; pass shrink: true to shrink (the data beyond it is lost)`,
          );
        }
        await s.object.resize(args.capacityBytes, { shrink: args.capacityBytes < current });
        return reloaded(ctx, s);
      },
    }),
    wipeVolume: t.field({
      ...changesVolume,
      description:
        'Overwrites a volume’s data (virStorageVolWipePattern); the volume stays. ZERO by default. For a file volume libvirt overwrites the file itself: a qcow2 is left as raw zeroes of its allocation, not an empty qcow2.',
      args: mutationInput('WipeVolume', {
        host,
        ref,
        algorithm: t.arg({
          type: WipeAlgorithmEnum,
          defaultValue: 'ZERO',
          required: true,
          description: 'The pattern to write. @default ZERO',
        }),
      }),
      resolve: async (_r, { input: args }, ctx) => {
        const s = await findVolume(ctx, hostName(ctx, args.host), args.ref);
        await s.object.wipe(args.algorithm);
        return reloaded(ctx, s);
      },
    }),
    deleteStoragePool: t.field({
      authScopes: fromInput(onPoolArg('Storage.Allocate')),
      type: StoragePoolNode,
      description:
        'Deletes an inactive pool’s storage (virStoragePoolDelete: its directory, its volume group…), with every volume in it. The definition stays; buildStoragePool makes the storage again. confirm must repeat the pool’s name.',
      args: mutationInput('DeleteStoragePool', {
        host,
        name: t.arg.string({ required: true, description: 'The pool name.' }),
        confirm: t.arg.string({
          required: true,
          description: 'The pool name again: deleting storage cannot be undone.',
        }),
      }),
      resolve: async (_r, { input: args }, ctx) => {
        if (args.confirm !== args.name) {
          throw invalidInput('confirm', `must repeat the pool name (${args.name}) to delete its storage`);
        }
        const h = hostName(ctx, args.host);
        return actOn(ctx, pools.find(ctx, h, args.name), `storage pool ${args.name}`, false, (p: StoragePool) =>
          p.deleteBacking(),
        );
      },
    }),
  };
});
