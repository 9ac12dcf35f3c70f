import { dirname, join } from 'node:path';
import { encodeGlobalID } from '@pothos/plugin-relay';
import { Domain, LibvirtError, type SnapshotCreateFlag, type StoragePool } from '../../libvirt/index.ts';
import { parseDomainXml } from '../../libvirt/xml/domain-xml.ts';
import {
  buildSnapshotXml,
  parseSnapshotXml,
  SNAPSHOT_STATES,
  type SnapshotDiskSpec,
  type SnapshotState,
  type SnapshotXml,
} from '../../libvirt/xml/snapshot-xml.ts';
import { domainDescription, snapshotName } from '../../validation/index.ts';
import { builder } from '../core/builder.ts';
import type { GatewayContext } from '../core/context.ts';
import { invalidInput, notFound, parsedArgument } from '../core/errors.ts';
import { filteredListFields, nameFilterFields } from '../core/filtered-list.ts';
import { checkBuiltXml, safeClientXml } from '../core/host-safety.ts';
import { connectionOf, hostName } from '../core/hosts.ts';
import { nameMatcher } from '../core/keyset-connection.ts';
import { changed, clientMutationId, fromInput, mutationInput, payloadInput } from '../core/mutation-support.ts';
import { hostKey, perObject } from '../core/request-cache.ts';
import { volumeBehind } from './disk-volume.ts';
import { DomainNode, DomainRef, type DomainShape, findDomain, onDomainArg } from './domain.ts';
import { type DomainChildArgs, domainChildKey, domainChildRef, loadDomainChildren } from './domain-child-ref.ts';
import { reread } from './lifecycle.ts';

interface SnapshotShape {
  owner: DomainShape;
  xml: string;
  parsed: SnapshotXml;
  current: boolean;
  parent?: SnapshotShape;
  children: SnapshotShape[];
}

/** A domain's snapshots by name, linked into their tree. */
type SnapshotTree = Map<string, SnapshotShape>;

function treeOf(owner: DomainShape, details: Array<{ name: string; xml: string; current: boolean }>): SnapshotTree {
  const tree: SnapshotTree = new Map();
  for (const d of details) {
    tree.set(d.name, { owner, xml: d.xml, parsed: parseSnapshotXml(d.xml), current: d.current, children: [] });
  }
  for (const s of tree.values()) {
    const parent = s.parsed.parent === undefined ? undefined : tree.get(s.parsed.parent);
    if (parent) {
      s.parent = parent;
      parent.children.push(s);
    }
  }
  return tree;
}

/**
 * Every snapshot of every domain a request touches: one binding call for all of them. libvirt has no
 * bulk snapshot call, so libvirt itself still makes one list call per domain and one XML read per snapshot.
 */
const snapshotTree = perObject<DomainShape, SnapshotTree>(
  (s) => hostKey(s.host, s.domain.uuid),
  async (owners) => {
    const lists = await Domain.snapshotDetailsMany(owners.map((o) => o.domain));
    return owners.map((owner, i) => {
      const list = lists[i];
      if (list === undefined || list instanceof LibvirtError) return list ?? new Error('no result');
      return treeOf(owner, list);
    });
  },
);

function snapshotNotFound(owner: DomainShape, name: string, cause?: LibvirtError) {
  return notFound('snapshot', name, { host: owner.host, domain: owner.domain.name }, cause);
}

async function snapshotIn(ctx: GatewayContext, owner: DomainShape, name: string): Promise<SnapshotShape> {
  const found = (await snapshotTree(ctx, owner)).get(name);
  if (!found) throw snapshotNotFound(owner, name);
  return found;
}

type StateValue = Uppercase<SnapshotState> extends infer U ? (U extends string ? U : never) : never;
const enumName = (s: SnapshotState) => s.toUpperCase().replace('-', '_') as StateValue;

const snapshotStateDescriptions: Record<SnapshotState, string> = {
  nostate: 'libvirt reported no state.',
  running: 'The domain was running.',
  blocked: 'The domain was blocked on a resource.',
  paused: 'The domain was paused.',
  shutdown: 'The domain was shutting down.',
  shutoff: 'The domain was stopped.',
  crashed: 'The domain had crashed.',
  pmsuspended: 'The domain was suspended by the guest’s power management.',
  'disk-snapshot': 'A disk-only snapshot: no memory state was saved.',
};

const DomainSnapshotState = builder.enumType('DomainSnapshotState', {
  description: 'The domain’s state when the snapshot was taken; DISK_SNAPSHOT for a disk-only snapshot.',
  values: Object.fromEntries(
    SNAPSHOT_STATES.map((s) => [enumName(s), { value: s, description: snapshotStateDescriptions[s] }]),
  ) as Record<string, { value: SnapshotState; description: string }>,
});

const DomainSnapshot = builder.loadableNodeRef('DomainSnapshot', {
  id: { resolve: (s: SnapshotShape) => domainChildKey(s.owner.host, s.owner.domain.uuid, s.parsed.name) },
  load: loadDomainChildren(snapshotIn),
});

DomainSnapshot.implement({
  description: 'A snapshot of a domain (virDomainSnapshotPtr), named uniquely within its domain.',
  fields: (t) => ({
    name: t.string({
      nullable: false,
      description: 'Its name, unique within its domain.',
      resolve: (s) => s.parsed.name,
    }),
    description: t.string({ description: 'Its free-text description.', resolve: (s) => s.parsed.description ?? null }),
    creationTime: t.field({
      type: 'DateTime',
      description: 'When libvirt took it.',
      resolve: (s) => s.parsed.creationTime ?? null,
    }),
    state: t.field({
      type: DomainSnapshotState,
      description: 'The domain’s state when it was taken: what a revert returns to.',
      resolve: (s) => s.parsed.state ?? null,
    }),
    current: t.boolean({
      nullable: false,
      description: 'Whether it is the domain’s current snapshot (the one the next snapshot builds on).',
      resolve: (s) => s.current,
    }),
    diskOnly: t.boolean({
      nullable: false,
      description: 'Whether it holds disk contents only, without memory or device state.',
      resolve: (s) => s.parsed.diskOnly,
    }),
    parent: t.field({
      type: DomainSnapshot,
      description: 'The snapshot it was taken on top of; null for a root.',
      resolve: (s) => s.parent ?? null,
    }),
    children: t.field({
      type: [DomainSnapshot],
      nullable: false,
      description: 'The snapshots taken on top of this one.',
      resolve: (s) => s.children,
    }),
    domain: t.field({
      type: DomainNode,
      nullable: false,
      description: 'The domain it belongs to.',
      resolve: (s) => s.owner,
    }),
    xml: t.string({
      nullable: false,
      description: 'The snapshot document (libvirt’s formatsnapshot), including the domain definition it saved.',
      resolve: (s) => s.xml,
    }),
  }),
});

builder.objectFields(DomainNode, (t) => ({
  snapshots: t.field({
    type: [DomainSnapshot],
    nullable: false,
    description:
      'The domain’s snapshots: every one, or only the roots of the tree with rootsOnly (walk it with children).',
    args: {
      rootsOnly: t.arg.boolean({
        defaultValue: false,
        required: true,
        description: 'Only the snapshots without a parent (the roots of the tree). @default false',
      }),
    },
    resolve: async (s, args, ctx) => {
      const all = [...(await snapshotTree(ctx, s)).values()];
      return args.rootsOnly ? all.filter((x) => x.parent === undefined) : all;
    },
  }),
  currentSnapshot: t.field({
    type: DomainSnapshot,
    description: 'The current snapshot; null when there is none.',
    resolve: async (s, _a, ctx) => [...(await snapshotTree(ctx, s)).values()].find((x) => x.current) ?? null,
  }),
}));

const SnapshotFilter = builder.inputType('DomainSnapshotFilter', {
  description: 'Which snapshots a connection returns: every condition given must hold.',
  fields: (t) => ({
    ...nameFilterFields(t),
    rootsOnly: t.boolean({ description: 'Only the snapshots without a parent (the roots of the tree) when true.' }),
  }),
});

filteredListFields(DomainNode, {
  kind: 'DomainSnapshot',
  node: DomainSnapshot,
  filter: SnapshotFilter,
  filterDescription: 'Conditions the snapshots must meet.',
  connection: {
    field: 'snapshotConnection',
    description:
      'The domain’s snapshots a page at a time (Relay cursor connection), ordered by name; filter to narrow them.',
    one: 'snapshot',
    many: 'snapshots',
    totalCount: 'How many snapshots match the filter, on every page.',
  },
  read: async (s, filter, ctx) => {
    const named = nameMatcher(filter);
    return [...(await snapshotTree(ctx, s)).values()].filter(
      (x) => named(x.parsed.name) && (!filter?.rootsOnly || x.parent === undefined),
    );
  },
  sortKey: (s) => [s.parsed.name, s.owner.domain.uuid],
  orders: {
    CREATION_TIME: {
      description: 'When libvirt took it (seconds since the epoch).',
      value: async (s) => s.parsed.creationTime?.getTime() ?? 0,
    },
  },
});

const DomainSnapshotInput = builder.inputType('DomainSnapshotInput', {
  description: 'A snapshot described by parameters; the gateway writes its XML.',
  fields: (t) => ({
    name: t.string({
      required: true,
      description: 'Letters, digits, "-", "_" and "."; unique within the domain.',
      validate: snapshotName,
    }),
    description: t.string({ description: 'Free text (at most 4096 characters).', validate: domainDescription }),
    diskOnly: t.boolean({
      defaultValue: false,
      description: 'Disks only, without memory (external overlays on a running domain). @default false',
    }),
    quiesce: t.boolean({
      defaultValue: false,
      description: 'Freeze the guest’s filesystems while the disks are captured (needs a guest agent). @default false',
    }),
  }),
});

function descendants(s: SnapshotShape): SnapshotShape[] {
  return s.children.flatMap((c) => [c, ...descendants(c)]);
}

const DeletedSnapshots = builder
  .objectRef<{ deletedId: string | null; deletedIds: string[]; domain: DomainShape }>('DeletedDomainSnapshots')
  .implement({
    description: 'What deleteDomainSnapshot removed: global IDs for a client cache to evict, and the domain after it.',
    fields: (t) => ({
      deletedId: t.id({
        description: 'The global ID the named snapshot had; null with childrenOnly (it stays).',
        resolve: (p) => p.deletedId,
      }),
      deletedIds: t.idList({
        nullable: false,
        description: 'The global IDs of every snapshot deleted, descendants included.',
        resolve: (p) => p.deletedIds,
      }),
      domain: t.field({
        type: DomainNode,
        nullable: false,
        description: 'The domain afterwards.',
        resolve: (p) => p.domain,
      }),
      clientMutationId: t.string(clientMutationId),
    }),
  });

/**
 * Where a disk-only snapshot puts each disk's overlay: a writable disk backed by a pool volume
 * gets `<domain>-<target>.<snapshot>.qcow2` beside its volume, in its pool's directory, so the
 * overlay is a volume of the same pool (and the same grants cover it). CD-ROMs, read-only and
 * shared disks are left out of the snapshot; other disks get libvirt's default place.
 */
async function overlaysOf(ctx: GatewayContext, owner: DomainShape, snapshot: string) {
  const c = await connectionOf(ctx, owner.host);
  const disks: SnapshotDiskSpec[] = [];
  const pools: StoragePool[] = [];
  for (const disk of parseDomainXml(await owner.domain.xml()).disks) {
    if (disk.device !== 'disk' || disk.readonly || disk.shareable || disk.sourcePath === undefined) {
      disks.push({ name: disk.target.dev, snapshot: 'no' });
      continue;
    }
    const volume = await volumeBehind(c, disk);
    if (!volume) continue;
    const file = join(dirname(volume.path), `${owner.domain.name}-${disk.target.dev}.${snapshot}.qcow2`);
    disks.push({ name: disk.target.dev, snapshot: 'external', file });
    pools.push(await volume.pool());
  }
  return { disks, pools };
}

/** The snapshot again after a change, read afresh. */
async function reloaded(ctx: GatewayContext, owner: DomainShape, name: string): Promise<SnapshotShape> {
  changed(ctx);
  const fresh = await reread(ctx, owner.host, owner.domain);
  return snapshotIn(ctx, fresh, name);
}

/** The domain and name a revert or delete names: domain and name (on host), or the snapshot's global ID alone. */
const snapshotRef = (ctx: GatewayContext, args: DomainChildArgs) => domainChildRef(ctx, 'DomainSnapshot', args);

/** VM.Snapshot on the domain the snapshot belongs to, however the input names it. */
const onSnapshotArg = (parent: unknown, args: { input: DomainChildArgs }, ctx: GatewayContext) => {
  const ref = snapshotRef(ctx, args.input);
  return onDomainArg('VM.Snapshot')(parent, { host: ref.host, domain: ref.domain }, ctx);
};

/** The named snapshot's libvirt handle; NOT_FOUND when the domain has none by that name. */
async function lookup(owner: DomainShape, name: string) {
  try {
    return await owner.domain.snapshotByName(name);
  } catch (e) {
    if (e instanceof LibvirtError && e.codeName === 'NO_DOMAIN_SNAPSHOT') throw snapshotNotFound(owner, name, e);
    throw e;
  }
}

builder.mutationFields((t) => {
  const host = t.arg.string({ description: 'Registry name of the host; the default host when omitted.' });
  const domain = t.arg({ type: DomainRef, required: true, description: 'The domain: by name, UUID or runtime id.' });
  // revert and delete take the snapshot by domain and name, or by its global ID alone.
  const ofDomain = t.arg({
    type: DomainRef,
    description: 'The domain: by name, UUID or runtime id. Give it with name.',
  });
  const name = t.arg.string({ description: 'The snapshot’s name, in domain. Give these or id.' });
  const id = t.arg.id({ description: 'The snapshot’s global ID (its `id`), instead of domain and name.' });
  return {
    createDomainSnapshot: t.field({
      authScopes: fromInput(onDomainArg('VM.Snapshot')),
      type: DomainSnapshot,
      description:
        'Takes a snapshot from parameters (snapshot) or from a snapshot document (xml, checked by the host-safety policy); give exactly one. It becomes the current snapshot.',
      args: mutationInput('CreateDomainSnapshot', {
        host,
        domain,
        snapshot: t.arg({ type: DomainSnapshotInput, description: 'The snapshot by parameters.' }),
        xml: t.arg.string({ description: 'A complete snapshot document (libvirt’s formatsnapshot).' }),
      }),
      resolve: async (_r, { input: args }, ctx) => {
        if ((args.snapshot == null) === (args.xml == null))
          throw invalidInput('snapshot', 'give exactly one of snapshot or xml');
        const h = hostName(ctx, args.host);
        const owner = await findDomain(ctx, h, args.domain);
        let xml: string;
        let overlayPools: StoragePool[] = [];
        const flags: SnapshotCreateFlag[] = [];
        if (args.xml != null) {
          await safeClientXml(ctx, h, 'snapshot', 'xml', args.xml);
          parsedArgument('xml', () => parseSnapshotXml(args.xml as string));
          xml = args.xml;
        } else {
          const input = args.snapshot as NonNullable<typeof args.snapshot>;
          const overlays = input.diskOnly ? await overlaysOf(ctx, owner, input.name) : undefined;
          overlayPools = overlays?.pools ?? [];
          xml = buildSnapshotXml({
            name: input.name,
            description: input.description ?? undefined,
            diskOnly: input.diskOnly ?? false,
            ...(overlays ? { disks: overlays.disks } : {}),
          });
          await checkBuiltXml(ctx, h, 'snapshot', 'snapshot', xml);
          if (input.diskOnly) flags.push('DISK_ONLY');
          if (input.quiesce) flags.push('QUIESCE');
        }
        const created = await owner.domain.createSnapshot(xml, flags);
        // The overlays are new files in their pools' directories: listed as volumes from now on.
        for (const pool of overlayPools) await pool.refresh().catch(() => undefined);
        return reloaded(ctx, owner, created.name);
      },
    }),
    revertDomainSnapshot: t.field({
      authScopes: onSnapshotArg,
      type: DomainNode,
      description:
        'Returns the domain to a snapshot; the snapshot becomes current. running or paused choose the state after revert (default: the state the snapshot holds); force allows reverts libvirt deems risky.',
      args: mutationInput('RevertDomainSnapshot', {
        host,
        domain: ofDomain,
        name,
        id,
        running: t.arg.boolean({
          defaultValue: false,
          required: true,
          description: 'Leave the domain running after the revert. @default false',
        }),
        paused: t.arg.boolean({
          defaultValue: false,
          required: true,
          description: 'Leave the domain paused after the revert. @default false',
        }),
        force: t.arg.boolean({
          defaultValue: false,
          required: true,
          description: 'Revert even where libvirt deems it risky (VIR_DOMAIN_SNAPSHOT_REVERT_FORCE). @default false',
        }),
      }),
      resolve: async (_r, { input: args }, ctx) => {
        if (args.running && args.paused) throw invalidInput('paused', 'give at most one of running or paused');
        const ref = snapshotRef(ctx, args);
        const owner = await findDomain(ctx, ref.host, ref.domain);
        const snapshot = await lookup(owner, ref.name);
        await snapshot.revert([
          ...(args.running ? (['RUNNING'] as const) : []),
          ...(args.paused ? (['PAUSED'] as const) : []),
          ...(args.force ? (['FORCE'] as const) : []),
        ]);
        return reread(ctx, owner.host, owner.domain);
      },
    }),
    deleteDomainSnapshot: t.field({
      authScopes: onSnapshotArg,
      type: DeletedSnapshots,
      description:
        'Deletes a snapshot (its children then hang from its parent); with children, its descendants too; with childrenOnly, only its descendants. Answers the global IDs deleted and the domain.',
      args: payloadInput('DeleteDomainSnapshot', {
        host,
        domain: ofDomain,
        name,
        id,
        children: t.arg.boolean({
          defaultValue: false,
          required: true,
          description: 'Delete its descendants with it. @default false',
        }),
        childrenOnly: t.arg.boolean({
          defaultValue: false,
          required: true,
          description: 'Delete only its descendants, keeping it. @default false',
        }),
      }),
      resolve: async (_r, { input: args }, ctx) => {
        if (args.children && args.childrenOnly) {
          throw invalidInput('childrenOnly', 'give at most one of children or childrenOnly');
        }
        const ref = snapshotRef(ctx, args);
        const owner = await findDomain(ctx, ref.host, ref.domain);
        const snapshot = await lookup(owner, ref.name);
        const named = await snapshotIn(ctx, owner, ref.name);
        const gone = [
          ...(args.childrenOnly ? [] : [named]),
          ...(args.children || args.childrenOnly ? descendants(named) : []),
        ];
        await snapshot.delete([
          ...(args.children ? (['CHILDREN'] as const) : []),
          ...(args.childrenOnly ? (['CHILDREN_ONLY'] as const) : []),
        ]);
        const ids = gone.map((s) =>
          encodeGlobalID('DomainSnapshot', domainChildKey(owner.host, owner.domain.uuid, s.parsed.name)),
        );
        return {
          deletedId: args.childrenOnly ? null : (ids[0] as string),
          deletedIds: ids,
          domain: await reread(ctx, owner.host, owner.domain),
        };
      },
    }),
  };
});
