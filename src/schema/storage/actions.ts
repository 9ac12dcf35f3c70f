import { LibvirtError, type PoolBuildFlag, type StoragePool } from '../../libvirt/index.ts';
import { parseStoragePoolXml } from '../../libvirt/xml/storage-pool-xml.ts';
import { parseVolumeXml } from '../../libvirt/xml/volume-xml.ts';
import { onNewObject } from '../core/auth-scopes.ts';
import { builder } from '../core/builder.ts';
import type { GatewayContext } from '../core/context.ts';
import { refuseUsedUuid, withoutOtherNames } from '../core/define-conflicts.ts';
import { gatewayError, invalidInput, parsedArgument } from '../core/errors.ts';
import { safeClientXml } from '../core/host-safety.ts';
import { connectionOf, hostName } from '../core/hosts.ts';
import {
  actOn,
  allOrNothing,
  changed,
  createFromXmlArgs,
  fromInput,
  mutationInput,
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
  const existing = await c.storagePools();
  if (existing.some((p) => p.name === name)) {
    throw invalidInput('xml', `a storage pool named ${name} already exists on host ${host}`);
  }
  // libvirt's answers to a used UUID or source name the pool that has it, which the caller may not see.
  refuseUsedUuid(uuid, existing);
  // The host-safety policy after the conflicts: a used name or UUID is the answer whatever the directory.
  await safeClientXml(ctx, host, 'pool', 'xml', xml);
  const scrub = withoutOtherNames('storage pool', name, existing);
  let pool: StoragePool | undefined;
  if (!persistent) {
    pool = await c.createStoragePool(xml, 'WITH_BUILD').catch(scrub);
  } else {
    const p = () => pool as StoragePool;
    await allOrNothing([
      {
        run: async () => (pool = await c.defineStoragePool(xml).catch(scrub)),
        undo: () => pool?.undefine() ?? Promise.resolve(),
      },
      { run: () => p().build(buildFlags(type)).catch(alreadyBuilt), undo: () => p().deleteBacking() },
      { run: () => p().start(), undo: () => p().stop() },
      { run: () => (autostart ? p().setAutostart(true) : Promise.resolve()) },
    ]);
  }
  changed(ctx);
  return { host, object: pool as StoragePool };
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

function poolAction(
  ctx: GatewayContext,
  args: { host?: string | null; name: string },
  mustBeActive: boolean | undefined,
  action: (p: StoragePool) => Promise<unknown>,
): Promise<PoolShape> {
  return actOn(ctx, named(ctx, args.host, args.name), `storage pool ${args.name}`, mustBeActive, action);
}

builder.mutationFields((t) => {
  const host = t.arg.string({ description: 'Registry name of the host; the default host when omitted.' });
  const name = t.arg.string({ required: true, description: 'The pool name.' });
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
      nullable: false,
      description:
        'Creates a pool from XML: persistent (defined, built when needed, started, autostart as asked; undone on failure) or transient.',
      args: mutationInput('CreateStoragePool', {
        host,
        ...createFromXmlArgs('storage pool', 'Start it when the host boots; ignored when transient. @default true'),
      }),
      resolve: (_r, { input: args }, ctx) =>
        createPool(ctx, hostName(ctx, args.host), args.xml, args.persistent, args.autostart),
    }),
    startStoragePool: t.field({
      authScopes: fromInput(onPoolArg('Storage.Allocate')),
      type: StoragePoolNode,
      nullable: false,
      description: 'Starts an inactive pool.',
      args: mutationInput('StartStoragePool', { host, name }),
      resolve: (_r, { input: args }, ctx) => poolAction(ctx, args, false, (p) => p.start()),
    }),
    stopStoragePool: t.field({
      authScopes: fromInput(onPoolArg('Storage.Allocate')),
      type: StoragePoolNode,
      nullable: false,
      description: 'Stops an active pool (its volumes stay on disk).',
      args: mutationInput('StopStoragePool', { host, name }),
      resolve: (_r, { input: args }, ctx) => poolAction(ctx, args, true, (p) => p.stop()),
    }),
    refreshStoragePool: t.field({
      authScopes: fromInput(onPoolArg('Storage.Allocate')),
      type: StoragePoolNode,
      nullable: false,
      description: 'Rescans an active pool for volumes changed outside libvirt.',
      args: mutationInput('RefreshStoragePool', { host, name }),
      resolve: (_r, { input: args }, ctx) => poolAction(ctx, args, true, (p) => p.refresh()),
    }),
    buildStoragePool: t.field({
      authScopes: fromInput(onPoolArg('Storage.Allocate')),
      type: StoragePoolNode,
      nullable: false,
      description:
        'Prepares an inactive pool’s backing (creates its directory, formats its disk…) without overwriting.',
      args: mutationInput('BuildStoragePool', { host, name }),
      resolve: async (_r, { input: args }, ctx) => {
        const type = parseStoragePoolXml(await (await named(ctx, args.host, args.name)).object.xml()).type;
        return poolAction(ctx, args, false, (p) => p.build(buildFlags(type)));
      },
    }),
    undefineStoragePool: t.field({
      authScopes: fromInput(onPoolArg('Storage.Allocate')),
      type: RemovedObject,
      nullable: false,
      description: 'Removes an inactive pool’s definition; its volumes stay on disk.',
      args: mutationInput('UndefineStoragePool', { host, name }),
      resolve: async (_r, { input: args }, ctx) => {
        const s = await poolAction(ctx, args, false, (p) => p.undefine());
        return { host: s.host, name: s.object.name, uuid: s.object.uuid };
      },
    }),
    createVolume: t.field({
      authScopes: fromInput(onPoolArg('Storage.Allocate', 'pool')),
      type: VolumeNode,
      nullable: false,
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
      nullable: false,
      description: 'Deletes a volume, found by path or key, and its data.',
      args: mutationInput('DeleteVolume', {
        host,
        ref: t.arg({ type: VolumeRef, required: true, description: 'The volume: by path or key.' }),
      }),
      resolve: async (_r, { input: args }, ctx) => {
        const h = hostName(ctx, args.host);
        const vol = (await findVolume(ctx, h, args.ref)).object;
        await vol.delete();
        changed(ctx);
        return { host: h, name: vol.path };
      },
    }),
  };
});
