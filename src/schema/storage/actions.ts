import { LibvirtError, type PoolBuildFlag, type StoragePool } from '../../libvirt/index.ts';
import { parseStoragePoolXml } from '../../libvirt/xml/storage-pool-xml.ts';
import { parseVolumeXml } from '../../libvirt/xml/volume-xml.ts';
import { onNewObject } from '../core/auth-scopes.ts';
import { builder } from '../core/builder.ts';
import type { GatewayContext } from '../core/context.ts';
import { actionFields, createDefined } from '../core/defined-objects.ts';
import { gatewayError, invalidInput, parsedArgument } from '../core/errors.ts';
import { safeClientXml } from '../core/host-safety.ts';
import { connectionOf, hostName } from '../core/hosts.ts';
import {
  changed,
  createFromXmlArgs,
  fromInput,
  globalIdOf,
  mutationInput,
  payloadInput,
  RemovedObject,
} from '../core/mutation-support.ts';
import { checkXmlSize } from '../core/xml-size.ts';
import { onPoolArg, type PoolShape, pools, StoragePoolNode } from './pool.ts';
import { findVolume, onVolumeRef, VolumeNode, VolumeRef } from './volume.ts';

/** Defines, builds (when it needs it), starts and autostarts a pool, or creates a transient one; undone on failure. */
async function createPool(
  ctx: GatewayContext,
  host: string,
  xml: string,
  persistent: boolean,
  autostart: boolean,
): Promise<PoolShape> {
  checkXmlSize(ctx, 'xml', xml);
  const { name, type, uuid } = parsedArgument('xml', () => parseStoragePoolXml(xml));
  const c = await connectionOf(ctx, host);
  const object = await createDefined<StoragePool>(ctx, {
    kind: 'storage pool',
    host,
    name,
    uuid,
    nameField: 'xml',
    existing: await c.storagePools(),
    persistent,
    autostart,
    // The host-safety policy after the conflicts: a used name or UUID is the answer whatever the directory.
    check: () => safeClientXml(ctx, host, 'pool', 'xml', xml),
    createTransient: () => c.createStoragePool(xml, 'WITH_BUILD'),
    define: () => c.defineStoragePool(xml),
    prepare: { run: (p) => p.build(buildFlags(type)).catch(alreadyBuilt), undo: (p) => p.deleteBacking() },
  });
  return { host, object };
}

/**
 * Directory pools only create their directory; anything that formats a device is built
 * with NO_OVERWRITE so existing data is never destroyed.
 */
function buildFlags(type: string): PoolBuildFlag[] {
  return ['dir', 'fs', 'netfs'].includes(type) ? [] : ['NO_OVERWRITE'];
}

/** A pool whose backing exists (a directory that is there already) needs no build. */
function alreadyBuilt(e: unknown): void {
  if (e instanceof LibvirtError && ['STORAGE_POOL_BUILT', 'NO_SUPPORT', 'OPERATION_INVALID'].includes(e.codeName)) {
    return;
  }
  throw e;
}

async function named(ctx: GatewayContext, host: string | null | undefined, name: string) {
  return pools.find(ctx, hostName(ctx, host), name);
}

const actions = {
  typeName: 'StoragePool',
  kind: 'storage pool',
  nameDescription: 'The pool name.',
  node: StoragePoolNode,
  authScopes: onPoolArg('Storage.Allocate'),
  find: (ctx: GatewayContext, a: { host?: string | null; name: string }) => named(ctx, a.host, a.name),
};

builder.mutationFields((t) => {
  const host = t.arg.string({ description: 'Registry name of the host; the default host when omitted.' });
  return {
    createStoragePool: t.field({
      authScopes: fromInput(
        onNewObject(
          'Storage.Allocate',
          'pool',
          (a: { host?: string | null; xml: string }) => parsedArgument('xml', () => parseStoragePoolXml(a.xml)).name,
        ),
      ),
      type: StoragePoolNode,
      description:
        'Creates a pool from XML: persistent (defined, built when needed, started, autostart as asked; undone on failure) or transient.',
      args: mutationInput('CreateStoragePool', {
        host,
        ...createFromXmlArgs('storage pool', 'Start it when the host boots; ignored when transient. @default true'),
      }),
      resolve: (_r, { input: args }, ctx) =>
        createPool(ctx, hostName(ctx, args.host), args.xml, args.persistent, args.autostart),
    }),
    ...actionFields(t, actions, [
      { verb: 'start', mustBeActive: false, run: (p) => p.start(), description: 'Starts an inactive pool.' },
      {
        verb: 'stop',
        mustBeActive: true,
        run: (p) => p.stop(),
        description: 'Stops an active pool (its volumes stay on disk).',
      },
      {
        verb: 'refresh',
        mustBeActive: true,
        run: (p) => p.refresh(),
        description: 'Rescans an active pool for volumes changed outside libvirt.',
      },
      {
        verb: 'build',
        mustBeActive: false,
        run: async (p) => p.build(buildFlags(parseStoragePoolXml(await p.xml()).type)),
        description:
          'Prepares an inactive pool’s backing (creates its directory, formats its disk…) without overwriting.',
      },
      {
        verb: 'undefine',
        mustBeActive: false,
        run: (p) => p.undefine(),
        removes: true,
        description: 'Removes an inactive pool’s definition; its volumes stay on disk.',
      },
    ]),
    createVolume: t.field({
      authScopes: fromInput(onPoolArg('Storage.Allocate', 'pool')),
      type: VolumeNode,
      description: 'Creates a volume in an active pool from volume XML (name, capacity, format…).',
      args: mutationInput('CreateVolume', {
        host,
        pool: t.arg.string({ required: true, description: 'The name of the pool to create it in.' }),
        xml: t.arg.string({ required: true, description: 'A storage volume XML document.' }),
      }),
      resolve: async (_r, { input: args }, ctx) => {
        await safeClientXml(ctx, hostName(ctx, args.host), 'volume', 'xml', args.xml);
        const { name } = parsedArgument('xml', () => parseVolumeXml(args.xml));
        // A volume name is a file name in its pool: "/" would place it elsewhere (dir pools refuse it; the test driver does not).
        if (name.includes('/')) throw invalidInput('xml', `volume name ${name} must not contain "/"`);
        const s = await named(ctx, args.host, args.pool);
        if (!(await s.object.isActive()))
          throw gatewayError('INVALID_STATE', `storage pool ${args.pool} is not active`);
        const object = await s.object.createVolume(args.xml);
        changed(ctx);
        return { host: s.host, object, pool: s };
      },
    }),
    deleteVolume: t.field({
      authScopes: fromInput(onVolumeRef('Storage.Allocate')),
      type: RemovedObject,
      description: 'Deletes a volume, found by path or key, and its data.',
      args: payloadInput('DeleteVolume', {
        host,
        ref: t.arg({ type: VolumeRef, required: true, description: 'The volume: by path or key.' }),
      }),
      resolve: async (_r, { input: args }, ctx) => {
        const h = hostName(ctx, args.host);
        const vol = (await findVolume(ctx, h, args.ref)).object;
        await vol.delete();
        changed(ctx);
        return { host: h, name: vol.path, deletedId: globalIdOf('Volume', h, vol.key) };
      },
    }),
  };
});
