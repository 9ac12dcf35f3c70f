import { lstat } from 'node:fs/promises';
import { LibvirtError, type SaveRestoreFlag } from '../../libvirt/index.ts';
import { parseDomainXml } from '../../libvirt/xml/domain-xml.ts';
import { canonicalPath, type PathPlace } from '../../libvirt/xml/host-safety.ts';
import { documentElement, parseXmlNodes } from '../../libvirt/xml/xml-codec.ts';
import { absolutePath } from '../../validation/index.ts';
import { somewhereOnHostArg } from '../core/auth-scopes.ts';
import { builder } from '../core/builder.ts';
import type { GatewayContext } from '../core/context.ts';
import { gatewayError, invalidInput } from '../core/errors.ts';
import { checkHostSafety, isLocalHost, safeClientPath } from '../core/host-safety.ts';
import { connectionOf, hostName } from '../core/hosts.ts';
import { fromInput, mutationInput, payloadInput } from '../core/mutation-support.ts';
import { DomainNode, DomainRef, findDomain, onDomainArg } from './domain.ts';
import { ACTIVE_STATES, act, DomainStateChange, reread } from './lifecycle.ts';

builder.objectFields(DomainNode, (t) => ({
  hasManagedSave: t.boolean({
    nullable: false,
    description: 'Whether libvirt holds a managed save image of it: the next start resumes from there.',
    resolve: (s) => s.domain.hasManagedSave(),
  }),
}));

function saveFlags(args: { bypassCache?: boolean | null; running?: boolean | null; paused?: boolean | null }) {
  if (args.running && args.paused) throw invalidInput('paused', 'give at most one of running or paused');
  const flags: SaveRestoreFlag[] = [];
  if (args.bypassCache) flags.push('BYPASS_CACHE');
  if (args.running) flags.push('RUNNING');
  if (args.paused) flags.push('PAUSED');
  return flags;
}

interface RestoreArgs {
  host?: string | null;
  path: string;
}

/** The definition inside a save image, or undefined when the file is none libvirt can read. */
async function saveImageXml(ctx: GatewayContext, host: string, path: string): Promise<string | undefined> {
  const c = await connectionOf(ctx, host);
  return c.saveImageXml(path).catch((e: unknown) => {
    if (e instanceof LibvirtError) return undefined;
    throw e;
  });
}

/**
 * Whether a file is at the (canonical) path already. In a pool, libvirt answers (after a refresh,
 * so a file made behind its back counts too); elsewhere only a local host's filesystem can.
 */
async function fileExists(ctx: GatewayContext, host: string, place: PathPlace): Promise<boolean> {
  const local = isLocalHost(ctx, host);
  if (place.pool) {
    const pool = await (await connectionOf(ctx, host)).storagePoolByName(place.pool.pool);
    await pool.refresh();
    const paths = await Promise.all((await pool.volumes()).map((v) => canonicalPath(v.path, local)));
    return paths.includes(place.canonical);
  }
  if (!local) {
    throw gatewayError(
      'INVALID_INPUT',
      'path: on a host reached over the network a save goes into a storage pool, where libvirt can tell whether the file exists',
      { field: 'path' },
    );
  }
  return lstat(place.canonical).then(
    () => true,
    () => false,
  );
}

/**
 * A save never overwrites a file unless it is a save image of the same domain: not another
 * tenant's disk, not any other file under the storage roots, whatever the path's spelling.
 */
async function refuseOverwrite(ctx: GatewayContext, host: string, place: PathPlace, uuid: string): Promise<void> {
  if (!(await fileExists(ctx, host, place))) return;
  const xml = await saveImageXml(ctx, host, place.canonical);
  if (xml === undefined || parseDomainXml(xml).uuid !== uuid) {
    throw gatewayError(
      'INVALID_INPUT',
      'path: a file is there already and is not a save image of this domain; a save never overwrites it',
      { field: 'path' },
    );
  }
}

/**
 * The domain a save file holds, for restoreDomain. The path passes the host-safety policy and the
 * caller's storage grants first; a file that is no save image is INVALID_INPUT, and one holding a
 * domain the caller may not see is NOT_FOUND, as if there were no file (its name is not told).
 */
async function savedDomain(
  ctx: GatewayContext,
  args: RestoreArgs,
): Promise<{ host: string; path: string; xml: string; name: string }> {
  const host = hostName(ctx, args.host);
  const place = await safeClientPath(ctx, host, 'path', args.path);
  const xml = await saveImageXml(ctx, host, place.canonical);
  if (xml === undefined) {
    throw gatewayError('INVALID_INPUT', `path: ${args.path} is not a save image libvirt can read`, { field: 'path' });
  }
  const name = parseDomainXml(xml).name;
  if (!ctx.identity.can('VM.Audit', host, name)) {
    throw gatewayError('NOT_FOUND', `path: no save image of a domain you may see at ${args.path}`, { field: 'path' });
  }
  if (!ctx.identity.can('VM.PowerMgmt', host, name)) {
    throw gatewayError(
      'FORBIDDEN',
      `${ctx.identity.name} may not restore domain ${name}: it needs VM.PowerMgmt on it`,
      {
        field: 'restoreDomain',
        privilege: 'VM.PowerMgmt',
      },
    );
  }
  return { host, path: place.canonical, xml, name };
}

builder.mutationFields((t) => {
  const domainArgs = {
    host: t.arg.string({ description: 'Registry name of the host; the default host when omitted.' }),
    domain: t.arg({ type: DomainRef, required: true, description: 'The domain: by name, UUID or runtime id.' }),
  };
  const path = t.arg.string({ required: true, description: 'Absolute path on the host.', validate: absolutePath });
  const bypassCache = t.arg.boolean({
    defaultValue: false,
    required: true,
    description: 'Write or read the image without the host’s file cache. @default false',
  });
  const running = t.arg.boolean({
    defaultValue: false,
    required: true,
    description: 'Come back running, whatever the state when it was saved. @default false',
  });
  const paused = t.arg.boolean({
    defaultValue: false,
    required: true,
    description: 'Come back paused, whatever the state when it was saved. @default false',
  });
  /** saveDomain's and restoreDomain's: the image's path and how to write or read it. */
  const imageArgs = { path, bypassCache, running, paused };
  return {
    managedSaveDomain: t.field({
      authScopes: fromInput(onDomainArg('VM.PowerMgmt')),
      type: DomainStateChange,
      description:
        'Saves an active domain’s memory and device state to a file libvirt manages and stops it (virDomainManagedSave). startDomain resumes it from there; hasManagedSave tells whether one exists.',
      args: payloadInput('ManagedSaveDomain', { ...domainArgs, bypassCache, running, paused }),
      resolve: (_r, { input: args }, ctx) => {
        const flags = saveFlags(args);
        return act(ctx, args, ACTIVE_STATES, 'only an active domain can be saved', 'SHUTOFF', (d) =>
          d.managedSave(flags),
        );
      },
    }),
    removeManagedSave: t.field({
      authScopes: fromInput(onDomainArg('VM.PowerMgmt')),
      type: DomainNode,
      description:
        'Discards a domain’s managed save image: its next start boots afresh. NOT_FOUND-free: no image is success.',
      args: mutationInput('RemoveManagedSave', domainArgs),
      resolve: async (_r, { input: args }, ctx) => {
        const host = hostName(ctx, args.host);
        const s = await findDomain(ctx, host, args.domain);
        // No image is success, as described; the qemu driver would fail to unlink the missing file (SYSTEM_ERROR).
        if (await s.domain.hasManagedSave()) await s.domain.removeManagedSave();
        return reread(ctx, host, s.domain);
      },
    }),
    saveDomain: t.field({
      authScopes: fromInput(onDomainArg('VM.PowerMgmt')),
      type: DomainStateChange,
      description:
        'Saves an active domain’s memory and device state to a file on its host and stops it (virDomainSaveFlags); restoreDomain brings it back. The path must lie in a storage pool the caller holds Storage.Use on (the image becomes a volume of it) or, on a local host, under storage.allowedPaths with Storage.Use on the whole host; it never overwrites a file unless that file is a save image of the same domain.',
      args: payloadInput('SaveDomain', {
        ...domainArgs,
        ...imageArgs,
      }),
      resolve: async (_r, { input: args }, ctx) => {
        const flags = saveFlags(args);
        const host = hostName(ctx, args.host);
        const place = await safeClientPath(ctx, host, 'path', args.path);
        return act(ctx, args, ACTIVE_STATES, 'only an active domain can be saved', 'SHUTOFF', async (d) => {
          await refuseOverwrite(ctx, host, place, d.uuid);
          await d.save(place.canonical, flags);
          // The image is a volume of its pool from now on, for lists and for restoreDomain's checks.
          if (place.pool)
            await (await connectionOf(ctx, host)).storagePoolByName(place.pool.pool).then((p) => p.refresh());
        });
      },
    }),
    restoreDomain: t.field({
      // VM.PowerMgmt on some domain of the host; the resolver checks it on the domain the file holds.
      authScopes: fromInput(somewhereOnHostArg('VM.PowerMgmt')),
      type: DomainStateChange,
      description:
        'Starts the domain a save file holds (virDomainRestoreFlags), in the state it was saved in unless running or paused. The path is checked like saveDomain’s, and the domain definition inside the file passes the host-safety policy like a client’s XML.',
      args: payloadInput('RestoreDomain', {
        host: domainArgs.host,
        ...imageArgs,
      }),
      resolve: async (_r, { input: args }, ctx) => {
        const flags = saveFlags(args);
        const saved = await savedDomain(ctx, args);
        const c = await connectionOf(ctx, saved.host);
        const uuid = parseDomainXml(saved.xml).uuid;
        const before = await (uuid ? c.domainByUuid(uuid) : c.domainByName(saved.name)).catch(() => undefined);
        // What the domain's own definition already has (its NICs, its disks) was checked when it
        // was defined: only what the image adds to it needs the caller's Network.Use or Storage.Use.
        const own = before ? documentElement(parseXmlNodes(await before.xml({ inactive: true }))) : undefined;
        await checkHostSafety(ctx, saved.host, 'domain', 'path', documentElement(parseXmlNodes(saved.xml)), own);
        const previousState = before ? (await before.state()).state : 'SHUTOFF';
        await c.restoreDomain(saved.path, flags);
        const after = await reread(
          ctx,
          saved.host,
          uuid ? await c.domainByUuid(uuid) : await c.domainByName(saved.name),
        );
        return { domain: after, previousState, state: (await after.domain.state()).state };
      },
    }),
  };
});
