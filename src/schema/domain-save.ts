import { LibvirtError, type SaveRestoreFlag } from '../libvirt/index.ts';
import { parseDomainXml } from '../libvirt/xml/domain-xml.ts';
import { documentElement, parseXmlNodes } from '../libvirt/xml/xml-codec.ts';
import { absolutePath } from '../validation/index.ts';
import { builder } from './builder.ts';
import type { GatewayContext } from './context.ts';
import { DomainNode, DomainRef, findDomain, onDomainArg } from './domain.ts';
import { ACTIVE_STATES, act, DomainStateChange, reread } from './domain-lifecycle.ts';
import { gatewayError, invalidInput } from './errors.ts';
import { connectionOf, hostName } from './host.ts';
import { checkHostSafety, safeClientPath } from './host-safety.ts';
import { fromInput, mutationInput } from './mutation-support.ts';

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

/**
 * The domain a save file holds, by name, read once per request: restoreDomain's privilege is on
 * that domain. The path passes the host-safety policy before libvirt opens it.
 */
async function savedDomain(
  ctx: GatewayContext,
  args: RestoreArgs,
): Promise<{ host: string; xml: string; name: string }> {
  const host = hostName(ctx, args.host);
  await safeClientPath(ctx, host, 'path', args.path);
  const c = await connectionOf(ctx, host);
  const xml = await c.saveImageXml(args.path).catch((e: unknown) => {
    if (e instanceof LibvirtError) {
      throw gatewayError('INVALID_INPUT', `path: ${args.path} is not a save file libvirt can read: ${e.message}`, {
        field: 'path',
        libvirtCode: e.codeName,
      });
    }
    throw e;
  });
  return { host, xml, name: parseDomainXml(xml).name };
}

builder.mutationFields((t) => {
  const domainArgs = {
    host: t.arg.string({ description: 'Registry name of the host; the default host when omitted.' }),
    domain: t.arg({ type: DomainRef, required: true, description: 'The domain: by name, UUID or runtime id.' }),
  };
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
  return {
    managedSaveDomain: t.field({
      authScopes: fromInput(onDomainArg('VM.PowerMgmt')),
      type: DomainStateChange,
      nullable: false,
      description:
        'Saves an active domain’s memory and device state to a file libvirt manages and stops it (virDomainManagedSave). startDomain resumes it from there; hasManagedSave tells whether one exists.',
      args: mutationInput('ManagedSaveDomain', { ...domainArgs, bypassCache, running, paused }),
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
      nullable: false,
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
      nullable: false,
      description:
        'Saves an active domain’s memory and device state to a file on its host and stops it (virDomainSaveFlags); restoreDomain brings it back. The path must lie in the host’s storage (its pools’ directories or storage.allowedPaths) and must not be a storage volume.',
      args: mutationInput('SaveDomain', {
        ...domainArgs,
        path: t.arg.string({ required: true, description: 'Absolute path on the host.', validate: absolutePath }),
        bypassCache,
        running,
        paused,
      }),
      resolve: async (_r, { input: args }, ctx) => {
        const flags = saveFlags(args);
        await safeClientPath(ctx, hostName(ctx, args.host), 'path', args.path, { notAVolume: true });
        return act(ctx, args, ACTIVE_STATES, 'only an active domain can be saved', 'SHUTOFF', (d) =>
          d.save(args.path, flags),
        );
      },
    }),
    restoreDomain: t.field({
      // VM.PowerMgmt on the domain the file holds; on the host when the file cannot be read (the resolver then says why).
      authScopes: fromInput(async (_p, args, ctx) => {
        const host = hostName(ctx, args.host);
        const saved = await savedDomain(ctx, args).catch(() => undefined);
        return { privilege: { privilege: 'VM.PowerMgmt' as const, host, ...(saved ? { domain: saved.name } : {}) } };
      }),
      type: DomainStateChange,
      nullable: false,
      description:
        'Starts the domain a save file holds (virDomainRestoreFlags), in the state it was saved in unless running or paused. The path is checked like saveDomain’s, and the domain definition inside the file passes the host-safety policy like a client’s XML.',
      args: mutationInput('RestoreDomain', {
        host: domainArgs.host,
        path: t.arg.string({ required: true, description: 'Absolute path on the host.', validate: absolutePath }),
        bypassCache,
        running,
        paused,
      }),
      resolve: async (_r, { input: args }, ctx) => {
        const flags = saveFlags(args);
        const saved = await savedDomain(ctx, args);
        await checkHostSafety(ctx, saved.host, 'domain', 'path', documentElement(parseXmlNodes(saved.xml)));
        const c = await connectionOf(ctx, saved.host);
        const uuid = parseDomainXml(saved.xml).uuid;
        const before = await (uuid ? c.domainByUuid(uuid) : c.domainByName(saved.name)).catch(() => undefined);
        const previousState = before ? (await before.state()).state : 'SHUTOFF';
        await c.restoreDomain(args.path, flags);
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
