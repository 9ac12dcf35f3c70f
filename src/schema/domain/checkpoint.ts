import { LibvirtError } from '../../libvirt/index.ts';
import { type CheckpointXml, parseCheckpointXml } from '../../libvirt/xml/backup-xml.ts';
import { builder } from '../core/builder.ts';
import type { GatewayContext } from '../core/context.ts';
import { notFound } from '../core/errors.ts';
import { changed, globalIdOf, payloadInput, RemovedObject } from '../core/mutation-support.ts';
import { DomainNode, DomainRef, type DomainShape, findDomain, onDomainArg } from './domain.ts';
import { type DomainChildArgs, domainChildKey, domainChildRef, loadDomainChildren } from './domain-child-ref.ts';
import { exclusively } from './lifecycle.ts';

// A domain's checkpoints (virDomainCheckpointPtr): what backupDomain starts an incremental backup
// from. Read with Domain.checkpoints or node(id), deleted with deleteDomainCheckpoint.

interface CheckpointShape {
  owner: DomainShape;
  parsed: CheckpointXml;
}

async function checkpointsOf(s: DomainShape): Promise<CheckpointShape[]> {
  return (await s.domain.checkpoints()).map(({ xml }) => ({ owner: s, parsed: parseCheckpointXml(xml) }));
}

const DomainCheckpoint = builder.loadableNodeRef('DomainCheckpoint', {
  id: { resolve: (c: CheckpointShape) => domainChildKey(c.owner.host, c.owner.domain.uuid, c.parsed.name) },
  load: loadDomainChildren(async (_ctx, owner, name) => {
    const found = (await checkpointsOf(owner)).find((c) => c.parsed.name === name);
    if (!found) throw notFound('checkpoint', name, { host: owner.host, domain: owner.domain.name });
    return found;
  }),
});

DomainCheckpoint.implement({
  description:
    'A point an incremental backup starts from (virDomainCheckpointPtr): its disks track what changes from then on.',
  fields: (t) => ({
    name: t.string({
      nullable: false,
      description: 'Its name, unique within its domain.',
      resolve: (c) => c.parsed.name,
    }),
    parent: t.string({
      description: 'The name of the checkpoint before it; null for the first.',
      resolve: (c) => c.parsed.parent ?? null,
    }),
    creationTime: t.field({
      type: 'DateTime',
      description: 'When libvirt made it.',
      resolve: (c) => c.parsed.creationTime ?? null,
    }),
    disks: t.stringList({
      nullable: false,
      description: 'The guest targets (vda…) that track changes since it (a qcow2 bitmap each).',
      resolve: (c) => c.parsed.disks,
    }),
    domain: t.field({
      type: DomainNode,
      nullable: false,
      description: 'The domain it belongs to.',
      resolve: (c) => c.owner,
    }),
  }),
});

/**
 * Each checkpoint after its parent (libvirt lists them in no order, and creation times have
 * one-second steps): the roots, then their children, by creation time within a level.
 */
function oldestFirst(all: CheckpointShape[]): CheckpointShape[] {
  const byTime = [...all].sort(
    (a, b) => (a.parsed.creationTime?.getTime() ?? 0) - (b.parsed.creationTime?.getTime() ?? 0),
  );
  const names = new Set(all.map((c) => c.parsed.name));
  const out: CheckpointShape[] = [];
  let level = byTime.filter((c) => c.parsed.parent === undefined || !names.has(c.parsed.parent));
  while (level.length > 0 && out.length < all.length) {
    out.push(...level);
    const done = new Set(level.map((c) => c.parsed.name));
    level = byTime.filter((c) => c.parsed.parent !== undefined && done.has(c.parsed.parent));
  }
  return out;
}

builder.objectFields(DomainNode, (t) => ({
  checkpoints: t.field({
    type: [DomainCheckpoint],
    nullable: false,
    description: 'The domain’s checkpoints, oldest first (backupDomain makes them).',
    resolve: async (s) => oldestFirst(await checkpointsOf(s)),
  }),
}));

/** VM.Snapshot on the domain the checkpoint belongs to, however the input names it. */
const onCheckpointArg = (parent: unknown, args: { input: DomainChildArgs }, ctx: GatewayContext) => {
  const ref = domainChildRef(ctx, 'DomainCheckpoint', args.input);
  return onDomainArg('VM.Snapshot')(parent, { host: ref.host, domain: ref.domain }, ctx);
};

builder.mutationFields((t) => ({
  deleteDomainCheckpoint: t.field({
    authScopes: onCheckpointArg,
    type: RemovedObject,
    description:
      'Deletes a checkpoint (virDomainCheckpointDelete): its disks’ change bitmaps go, and its children hang from its parent. An incremental backup can no longer start from it. Answers its deletedId.',
    args: payloadInput('DeleteDomainCheckpoint', {
      host: t.arg.string({ description: 'Registry name of the host; the default host when omitted.' }),
      domain: t.arg({ type: DomainRef, description: 'The domain: by name, UUID or runtime id. Give it with name.' }),
      name: t.arg.string({ description: 'The checkpoint’s name, in domain. Give these or id.' }),
      id: t.arg.id({ description: 'The checkpoint’s global ID (its `id`), instead of domain and name.' }),
    }),
    resolve: async (_r, { input }, ctx) => {
      const ref = domainChildRef(ctx, 'DomainCheckpoint', input);
      const owner = await findDomain(ctx, ref.host, ref.domain);
      // Under the domain's lock: a backup starting from it meanwhile would find its bitmaps gone.
      await exclusively(ctx, owner, async () => {
        try {
          await owner.domain.deleteCheckpoint(ref.name);
        } catch (e) {
          if (e instanceof LibvirtError && e.codeName === 'NO_DOMAIN_CHECKPOINT')
            throw notFound('checkpoint', ref.name, { host: owner.host, domain: owner.domain.name }, e);
          throw e;
        }
      });
      changed(ctx);
      return {
        host: owner.host,
        name: ref.name,
        deletedId: globalIdOf('DomainCheckpoint', owner.host, `${owner.domain.uuid}/${ref.name}`),
      };
    },
  }),
}));
