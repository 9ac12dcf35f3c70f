import type { Privilege } from '../../auth/privileges.ts';
import { decodeCursor, type StreamPosition } from '../../events/event-history.ts';
import type { HubDomainEventDetails, HubEvent, HubEventKind } from '../../events/hub-event.ts';
import { somewhereOnHostArg } from '../core/auth-scopes.ts';
import { builder } from '../core/builder.ts';
import type { GatewayContext } from '../core/context.ts';
import { invalidInput } from '../core/errors.ts';
import { Host, hostName } from '../core/hosts.ts';
import { DomainNode, DomainRef, type DomainRefValue, domainOfGlobalId, findDomain } from '../domain/domain.ts';
import { NetworkNode, networks } from '../network/network.ts';
import { pools, StoragePoolNode } from '../storage/pool.ts';

builder.subscriptionType({
  description:
    'Live events from libvirt hosts, over graphql-ws (WebSocket on the GraphQL path) or SSE (Accept: text/event-stream).',
});

const UUID = /^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$/i;
const bareUuid = (uuid: string) => uuid.replaceAll('-', '').toLowerCase();

const HOST_STATUS_VALUES = {
  HOST_DOWN: {
    description:
      'The gateway lost the host’s connection, or cannot open it; detail says why. The stream stays open; RESYNC follows when the host is back.',
  },
  RESYNC: {
    description:
      'Events flow again after a gap (the host reconnected, another gateway replica took over publishing it, or the events after a resume cursor are no longer kept): events may have been missed, so refetch what you show.',
  },
} as const;

const HOST_WIDE =
  'HOST_DOWN and RESYNC concern the whole host: they are delivered whatever the object and type filters say.';

const DomainEventType = builder.enumType('DomainEventType', {
  description:
    'What happened to a domain: a lifecycle change (virDomainEventType), one of the other events libvirt reports (virDomainEventID), or something about the host’s event stream (HOST_DOWN, RESYNC).',
  values: {
    DEFINED: { description: 'Defined or its definition changed; detail ADDED, UPDATED, RENAMED, FROM_SNAPSHOT.' },
    UNDEFINED: { description: 'Its definition was removed; detail REMOVED, RENAMED.' },
    STARTED: { description: 'Started; detail BOOTED, MIGRATED, RESTORED, FROM_SNAPSHOT, WAKEUP.' },
    SUSPENDED: {
      description:
        'Paused; detail PAUSED, MIGRATED, IOERROR, WATCHDOG, RESTORED, FROM_SNAPSHOT, API_ERROR, POSTCOPY, POSTCOPY_FAILED.',
    },
    RESUMED: { description: 'Resumed; detail UNPAUSED, MIGRATED, FROM_SNAPSHOT, POSTCOPY, POSTCOPY_FAILED.' },
    STOPPED: { description: 'Stopped; detail SHUTDOWN, DESTROYED, CRASHED, MIGRATED, SAVED, FAILED, FROM_SNAPSHOT.' },
    SHUTDOWN: { description: 'The guest finished shutting down (STOPPED follows); detail FINISHED, GUEST, HOST.' },
    PMSUSPENDED: { description: 'The guest suspended itself (power management); detail MEMORY, DISK.' },
    CRASHED: { description: 'The guest crashed; detail PANICKED, CRASHLOADED.' },
    REBOOT: { description: 'The guest rebooted, or was reset (VIR_DOMAIN_EVENT_ID_REBOOT); no details.' },
    DEVICE_ADDED: {
      description: 'A device was hot-plugged and the guest took it (DEVICE_ADDED); details: DomainDeviceEventDetails.',
    },
    DEVICE_REMOVED: {
      description:
        'A device was unplugged and the guest released it (DEVICE_REMOVED); details: DomainDeviceEventDetails.',
    },
    BLOCK_JOB: {
      description:
        'A block job (pull, copy, commit, backup) finished, failed, was canceled or is ready to pivot (BLOCK_JOB_2); details: DomainBlockJobEventDetails.',
    },
    BALLOON_CHANGE: {
      description: 'The memory balloon changed size (BALLOON_CHANGE); details: DomainBalloonEventDetails.',
    },
    MIGRATION_ITERATION: {
      description:
        'A live migration started another pass over the guest’s memory (MIGRATION_ITERATION); details: DomainMigrationIterationEventDetails.',
    },
    AGENT_LIFECYCLE: {
      description:
        'The guest agent connected or disconnected (AGENT_LIFECYCLE); details: DomainAgentLifecycleEventDetails.',
    },
    METADATA_CHANGE: {
      description:
        'The description, title or a metadata element changed (METADATA_CHANGE); details: DomainMetadataEventDetails.',
    },
    TRAY_CHANGE: {
      description: 'A removable disk’s tray opened or closed (TRAY_CHANGE); details: DomainTrayChangeEventDetails.',
    },
    WATCHDOG: { description: 'The guest’s watchdog fired (WATCHDOG); details: DomainWatchdogEventDetails.' },
    IO_ERROR: {
      description: 'A disk hit an I/O error (IO_ERROR_REASON); details: DomainIoErrorEventDetails.',
    },
    ...HOST_STATUS_VALUES,
  } as const,
});

const NetworkEventType = builder.enumType('NetworkEventType', {
  description: 'What happened to a network (virNetworkEventLifecycleType), or to the host’s event stream.',
  values: {
    DEFINED: { description: 'Defined.' },
    UNDEFINED: { description: 'Its definition was removed.' },
    STARTED: { description: 'Started.' },
    STOPPED: { description: 'Stopped.' },
    ...HOST_STATUS_VALUES,
  } as const,
});

const StoragePoolEventType = builder.enumType('StoragePoolEventType', {
  description: 'What happened to a storage pool (virStoragePoolEventLifecycleType), or to the host’s event stream.',
  values: {
    DEFINED: { description: 'Defined.' },
    UNDEFINED: { description: 'Its definition was removed.' },
    STARTED: { description: 'Started.' },
    STOPPED: { description: 'Stopped.' },
    CREATED: { description: 'Built (its storage created).' },
    DELETED: { description: 'Deleted (its storage removed).' },
    ...HOST_STATUS_VALUES,
  } as const,
});

const BlockJobType = builder.enumType('BlockJobType', {
  description: 'What a block job does (virDomainBlockJobType).',
  values: {
    UNKNOWN: { description: 'A kind of job this libvirt does not name.' },
    PULL: { description: 'Pulls the backing chain into the active image.' },
    COPY: { description: 'Copies the disk to a new image (mirror).' },
    COMMIT: { description: 'Commits an image of the chain into its backing file.' },
    ACTIVE_COMMIT: { description: 'Commits the active image into its backing file.' },
    BACKUP: { description: 'A backup job.' },
  } as const,
});

const BlockJobStatus = builder.enumType('BlockJobStatus', {
  description: 'How a block job ended, or that it is ready (virConnectDomainEventBlockJobStatus).',
  values: {
    COMPLETED: { description: 'It finished.' },
    FAILED: { description: 'It failed.' },
    CANCELED: { description: 'It was canceled.' },
    READY: { description: 'Copy or active commit is in sync: it can be pivoted or canceled.' },
    UNKNOWN: { description: 'A status this libvirt does not name.' },
  } as const,
});

const GuestAgentState = builder.enumType('GuestAgentState', {
  description: 'The guest agent’s channel (virConnectDomainEventAgentLifecycleState).',
  values: {
    CONNECTED: { description: 'The agent connected.' },
    DISCONNECTED: { description: 'The agent disconnected.' },
    UNKNOWN: { description: 'A state this libvirt does not name.' },
  } as const,
});

const GuestAgentStateReason = builder.enumType('GuestAgentStateReason', {
  description: 'Why the guest agent’s state changed (virConnectDomainEventAgentLifecycleReason).',
  values: {
    UNKNOWN: { description: 'Not said.' },
    DOMAIN_STARTED: { description: 'The domain started.' },
    CHANNEL: { description: 'The channel’s state changed (the agent started or stopped in the guest).' },
  } as const,
});

const MetadataKind = builder.enumType('MetadataKind', {
  description: 'Which metadata of a domain changed (virDomainMetadataType).',
  values: {
    DESCRIPTION: { description: 'Its description.' },
    TITLE: { description: 'Its title.' },
    ELEMENT: { description: 'An application’s element under <metadata>, named by its namespace URI.' },
    UNKNOWN: { description: 'A kind this libvirt does not name.' },
  } as const,
});

const TrayChangeReason = builder.enumType('TrayChangeReason', {
  description: 'What a removable disk’s tray did (virDomainEventTrayChangeReason).',
  values: {
    OPEN: { description: 'It opened.' },
    CLOSE: { description: 'It closed.' },
    UNKNOWN: { description: 'A change this libvirt does not name.' },
  } as const,
});

const WatchdogAction = builder.enumType('WatchdogAction', {
  description: 'What the hypervisor did when the watchdog fired (virDomainEventWatchdogAction).',
  values: {
    NONE: { description: 'Nothing: the watchdog was ignored.' },
    PAUSE: { description: 'The guest’s CPUs were paused.' },
    RESET: { description: 'The guest was reset.' },
    POWEROFF: { description: 'The guest was forcibly powered off.' },
    SHUTDOWN: { description: 'The guest was asked to shut down gracefully.' },
    DEBUG: { description: 'Nothing but a debug message logged.' },
    INJECTNMI: { description: 'A non-maskable interrupt was injected into the guest.' },
    UNKNOWN: { description: 'An action this libvirt does not name.' },
  } as const,
});

const IoErrorAction = builder.enumType('IoErrorAction', {
  description: 'What the hypervisor did on a disk I/O error (virDomainEventIOErrorAction).',
  values: {
    NONE: { description: 'Nothing: the error was ignored.' },
    PAUSE: { description: 'The guest’s CPUs were paused.' },
    REPORT: { description: 'The error was reported to the guest.' },
    UNKNOWN: { description: 'An action this libvirt does not name.' },
  } as const,
});

type Details<T extends HubDomainEventDetails['type']> = Extract<HubDomainEventDetails, { type: T }>;

const DomainDeviceEventDetails = builder
  .objectRef<Details<'DEVICE_ADDED' | 'DEVICE_REMOVED'>>('DomainDeviceEventDetails')
  .implement({
    description: 'DEVICE_ADDED and DEVICE_REMOVED: which device.',
    fields: (t) => ({
      deviceAlias: t.exposeString('deviceAlias', {
        description: 'The device’s alias in the domain’s definition (e.g. virtio-disk1, net1, ua-...).',
      }),
    }),
  });

const DomainBlockJobEventDetails = builder.objectRef<Details<'BLOCK_JOB'>>('DomainBlockJobEventDetails').implement({
  description: 'BLOCK_JOB: which disk’s job, of what kind, and how it ended.',
  fields: (t) => ({
    disk: t.exposeString('disk', { description: 'The disk’s target name (vda, sdb...).' }),
    jobType: t.field({ type: BlockJobType, description: 'What the job does.', resolve: (d) => d.jobType }),
    status: t.field({ type: BlockJobStatus, description: 'How it ended, or READY.', resolve: (d) => d.status }),
  }),
});

const DomainBalloonEventDetails = builder.objectRef<Details<'BALLOON_CHANGE'>>('DomainBalloonEventDetails').implement({
  description: 'BALLOON_CHANGE: the balloon’s new size.',
  fields: (t) => ({
    actualKiB: t.field({
      type: 'BigInt',
      description: 'The memory the guest now has, in KiB.',
      resolve: (d) => BigInt(d.actualKiB),
    }),
  }),
});

const DomainMigrationIterationEventDetails = builder
  .objectRef<Details<'MIGRATION_ITERATION'>>('DomainMigrationIterationEventDetails')
  .implement({
    description: 'MIGRATION_ITERATION: which pass over memory the live migration started.',
    fields: (t) => ({
      iteration: t.exposeInt('iteration', { description: 'The pass’s number, from 1.' }),
    }),
  });

const DomainAgentLifecycleEventDetails = builder
  .objectRef<Details<'AGENT_LIFECYCLE'>>('DomainAgentLifecycleEventDetails')
  .implement({
    description: 'AGENT_LIFECYCLE: the guest agent’s new state and why.',
    fields: (t) => ({
      state: t.field({ type: GuestAgentState, description: 'Connected or not.', resolve: (d) => d.state }),
      stateReason: t.field({
        type: GuestAgentStateReason,
        description: 'Why it changed.',
        resolve: (d) => d.reason,
      }),
    }),
  });

const DomainMetadataEventDetails = builder
  .objectRef<Details<'METADATA_CHANGE'>>('DomainMetadataEventDetails')
  .implement({
    description: 'METADATA_CHANGE: which metadata changed.',
    fields: (t) => ({
      kind: t.field({
        type: MetadataKind,
        description: 'Description, title or an element.',
        resolve: (d) => d.metadataType,
      }),
      nsUri: t.string({
        description: 'For ELEMENT the namespace URI of the element that changed; otherwise null.',
        resolve: (d) => d.nsUri,
      }),
    }),
  });

const DomainTrayChangeEventDetails = builder
  .objectRef<Details<'TRAY_CHANGE'>>('DomainTrayChangeEventDetails')
  .implement({
    description: 'TRAY_CHANGE: which removable disk’s tray, and what it did.',
    fields: (t) => ({
      deviceAlias: t.exposeString('deviceAlias', { description: 'The disk’s alias in the domain’s definition.' }),
      tray: t.field({ type: TrayChangeReason, description: 'Opened or closed.', resolve: (d) => d.reason }),
    }),
  });

const DomainWatchdogEventDetails = builder.objectRef<Details<'WATCHDOG'>>('DomainWatchdogEventDetails').implement({
  description: 'WATCHDOG: what the hypervisor did about it.',
  fields: (t) => ({
    action: t.field({ type: WatchdogAction, description: 'The action taken.', resolve: (d) => d.action }),
  }),
});

const DomainIoErrorEventDetails = builder.objectRef<Details<'IO_ERROR'>>('DomainIoErrorEventDetails').implement({
  description: 'IO_ERROR: which disk, what the hypervisor did, and why.',
  fields: (t) => ({
    srcPath: t.exposeString('srcPath', {
      description: 'The disk’s source (file or device path); empty if it has none.',
    }),
    deviceAlias: t.exposeString('deviceAlias', { description: 'The disk’s alias in the domain’s definition.' }),
    errorAction: t.field({ type: IoErrorAction, description: 'The action taken.', resolve: (d) => d.action }),
    reason: t.exposeString('reason', {
      description: 'The hypervisor’s cause, e.g. enospc (no space left) or eio; empty if not said.',
    }),
  }),
});

const DETAIL_TYPES = {
  DEVICE_ADDED: DomainDeviceEventDetails,
  DEVICE_REMOVED: DomainDeviceEventDetails,
  BLOCK_JOB: DomainBlockJobEventDetails,
  BALLOON_CHANGE: DomainBalloonEventDetails,
  MIGRATION_ITERATION: DomainMigrationIterationEventDetails,
  AGENT_LIFECYCLE: DomainAgentLifecycleEventDetails,
  METADATA_CHANGE: DomainMetadataEventDetails,
  TRAY_CHANGE: DomainTrayChangeEventDetails,
  WATCHDOG: DomainWatchdogEventDetails,
  IO_ERROR: DomainIoErrorEventDetails,
} as const;

const DomainEventDetails = builder.unionType('DomainEventDetails', {
  description:
    'What a domain event besides lifecycle says; which member follows from the event’s type. Field names differ across members, so one selection can ask for all of them.',
  types: [...new Set(Object.values(DETAIL_TYPES))],
  resolveType: (d: HubDomainEventDetails) => DETAIL_TYPES[d.type as keyof typeof DETAIL_TYPES],
});

type DomainEventTypeName = typeof DomainEventType.$inferType;
type NetworkEventTypeName = typeof NetworkEventType.$inferType;
type StoragePoolEventTypeName = typeof StoragePoolEventType.$inferType;

function isNotFound(error: unknown): boolean {
  return (error as { extensions?: { code?: unknown } } | undefined)?.extensions?.code === 'NOT_FOUND';
}

/** The object as it is now, read with this event's own loaders; null once it is gone (or another object took its name). */
async function current<S extends { object: { uuid: string } }>(
  event: HubEvent,
  find: (name: string) => Promise<S>,
): Promise<S | null> {
  if (event.name === null) return null;
  try {
    const found = await find(event.name);
    return found.object.uuid === event.uuid ? found : null;
  } catch (error) {
    if (isNotFound(error)) return null;
    throw error;
  }
}

/** What seeing each kind's events needs, per object. */
const AUDIT: Record<Exclude<HubEventKind, 'host'>, Privilege> = {
  domain: 'VM.Audit',
  network: 'Network.Audit',
  storagePool: 'Storage.Audit',
};

/** The hosts a subscription listens to: the one named, or every configured host the caller may audit such objects on. */
function hostsOf(ctx: GatewayContext, host: string | null | undefined, kind: Exclude<HubEventKind, 'host'>): string[] {
  if (host != null) return [hostName(ctx, host)];
  return ctx.hosts.names().filter((h) => ctx.identity.canSome(AUDIT[kind], h));
}

/** Where a resuming subscription starts: a cursor of the one host it listens to. */
function resumeAfter(hosts: string[], after: string | null | undefined): StreamPosition | undefined {
  if (after == null) return undefined;
  const position = decodeCursor(after);
  if (position === undefined) throw invalidInput('after', 'is not a cursor of this gateway’s events');
  if (hosts.length !== 1) throw invalidInput('after', 'needs host: a cursor is a position in one host’s stream');
  if (position.host !== hosts[0])
    throw invalidInput('after', `is a cursor of host ${position.host}, not of ${hosts[0]}`);
  return position;
}

/** The events of `kind` that pass the filters, plus every HOST_DOWN and RESYNC of those hosts. */
function eventStream(
  ctx: GatewayContext,
  hosts: string[],
  kind: Exclude<HubEventKind, 'host'>,
  matches: (e: HubEvent) => boolean,
  types: readonly string[] | null | undefined,
  after: string | null | undefined,
): AsyncIterable<HubEvent> {
  const wanted = types == null ? undefined : new Set<string>(types);
  // Only objects the caller may audit: a domain outside its grants sends nothing, not even its name.
  const audits = (e: HubEvent) => ctx.identity.can(AUDIT[kind], e.host, e.name ?? undefined);
  const position = resumeAfter(hosts, after);
  return ctx.events.subscribe(hosts, {
    ...(position && { after: position }),
    accept: (e) => e.kind === 'host' || (e.kind === kind && audits(e) && matches(e) && (wanted?.has(e.type) ?? true)),
    ...(ctx.onSlowConsumer && { onOverflow: ctx.onSlowConsumer }),
  });
}

/** A domain filter: by name or UUID it also matches domains defined later; by runtime id it is resolved now. */
async function domainMatcher(
  ctx: GatewayContext,
  host: string | undefined,
  ref: DomainRefValue | null | undefined,
): Promise<(e: HubEvent) => boolean> {
  if (ref == null) return () => true;
  if (ref.name != null) {
    const name = ref.name;
    return (e) => e.name === name;
  }
  if (ref.uuid != null) {
    if (!UUID.test(ref.uuid)) throw invalidInput('domain.uuid', 'is not a UUID');
    const uuid = bareUuid(ref.uuid);
    return (e) => e.uuid !== null && bareUuid(e.uuid) === uuid;
  }
  if (ref.id != null) {
    // A global ID names its host: events of that domain there (host, when given, must be the same).
    const named = domainOfGlobalId(String(ref.id), 'domain.id');
    if (host !== undefined && host !== named.host) {
      throw invalidInput('domain.id', `names a domain of host ${named.host}, not of host ${host}`);
    }
    const uuid = bareUuid(named.uuid);
    return (e) => e.host === named.host && e.uuid !== null && bareUuid(e.uuid) === uuid;
  }
  if (ref.runtimeId != null) {
    if (host === undefined) throw invalidInput('domain.runtimeId', 'needs host: runtime ids are per host');
    const { uuid } = (await findDomain(ctx, host, ref, 'domain')).domain;
    return (e) => e.uuid === uuid;
  }
  throw invalidInput('domain', 'give exactly one of id, name, uuid or runtimeId');
}

const byName = (name: string | null | undefined) => (e: HubEvent) => name == null || e.name === name;

const LifecycleEvent = builder.interfaceRef<HubEvent>('LifecycleEvent').implement({
  description: 'What every event of a host’s stream carries.',
  fields: (t) => ({
    host: t.field({
      type: Host,
      nullable: false,
      description: 'The host it happened on.',
      resolve: (e) => ({ name: e.host }),
    }),
    timestamp: t.field({
      type: 'DateTime',
      nullable: false,
      description: 'When the gateway received it.',
      resolve: (e) => new Date(e.timestamp),
    }),
    cursor: t.string({
      description:
        'Its position in the host’s stream: pass the last one received as `after` to resume there. Null for a HOST_DOWN sent to one subscriber when it subscribed.',
      resolve: (e) => e.cursor ?? null,
    }),
  }),
});

const DomainEvent = builder.objectRef<HubEvent>('DomainEvent').implement({
  description: `A domain event (lifecycle, or one of the others with its details), or a host-wide HOST_DOWN / RESYNC. ${HOST_WIDE}`,
  interfaces: [LifecycleEvent],
  fields: (t) => ({
    domain: t.field({
      type: DomainNode,
      description:
        'The domain as it is now, read when the event is delivered; null once it no longer exists (after UNDEFINED, or STOPPED of a transient domain) and for HOST_DOWN and RESYNC.',
      resolve: async (e, _args, ctx) => {
        if (e.uuid === null) return null;
        try {
          return await findDomain(ctx, e.host, { uuid: e.uuid });
        } catch (error) {
          if (isNotFound(error)) return null;
          throw error;
        }
      },
    }),
    domainName: t.string({
      description: 'The domain’s name when the event happened; null for HOST_DOWN and RESYNC.',
      resolve: (e) => e.name,
    }),
    domainUuid: t.string({
      description: 'The domain’s UUID; null for HOST_DOWN and RESYNC.',
      resolve: (e) => e.uuid,
    }),
    type: t.field({
      type: DomainEventType,
      nullable: false,
      description: 'What happened.',
      resolve: (e) => e.type as DomainEventTypeName,
    }),
    detail: t.string({
      description:
        'libvirt’s detail name for a lifecycle type, e.g. BOOTED, PAUSED, DESTROYED; for HOST_DOWN why the host is unreachable; for RESYNC what brought it back (RECONNECTED, PUBLISHER_CHANGED, HISTORY_EXPIRED); null for the other types (see details).',
      resolve: (e) => e.detail,
    }),
    details: t.field({
      type: DomainEventDetails,
      description:
        'What an event besides lifecycle says (device alias, block job, balloon size, migration pass, agent state, metadata, tray, watchdog action, I/O error); null for lifecycle types, REBOOT, HOST_DOWN and RESYNC.',
      resolve: (e) => (e.kind === 'domain' && e.details?.type !== 'REBOOT' ? (e.details ?? null) : null),
    }),
  }),
});

const NetworkEvent = builder.objectRef<HubEvent>('NetworkEvent').implement({
  description: `A virtual network lifecycle event, or a host-wide HOST_DOWN / RESYNC. ${HOST_WIDE}`,
  interfaces: [LifecycleEvent],
  fields: (t) => ({
    network: t.field({
      type: NetworkNode,
      description:
        'The network as it is now, read when the event is delivered; null once it no longer exists and for HOST_DOWN and RESYNC.',
      resolve: (e, _args, ctx) => current(e, (name) => networks.find(ctx, e.host, name)),
    }),
    networkName: t.string({
      description: 'The network’s name; null for HOST_DOWN and RESYNC.',
      resolve: (e) => e.name,
    }),
    networkUuid: t.string({
      description: 'The network’s UUID; null for HOST_DOWN and RESYNC.',
      resolve: (e) => e.uuid,
    }),
    type: t.field({
      type: NetworkEventType,
      nullable: false,
      description: 'What happened.',
      resolve: (e) => e.type as NetworkEventTypeName,
    }),
    detail: t.string({
      description: 'For HOST_DOWN why the host is unreachable, for RESYNC what brought it back; otherwise null.',
      resolve: (e) => e.detail,
    }),
  }),
});

const StoragePoolEvent = builder.objectRef<HubEvent>('StoragePoolEvent').implement({
  description: `A storage pool lifecycle event, or a host-wide HOST_DOWN / RESYNC. ${HOST_WIDE}`,
  interfaces: [LifecycleEvent],
  fields: (t) => ({
    pool: t.field({
      type: StoragePoolNode,
      description:
        'The pool as it is now, read when the event is delivered; null once it no longer exists and for HOST_DOWN and RESYNC.',
      resolve: (e, _args, ctx) => current(e, (name) => pools.find(ctx, e.host, name)),
    }),
    poolName: t.string({
      description: 'The pool’s name; null for HOST_DOWN and RESYNC.',
      resolve: (e) => e.name,
    }),
    poolUuid: t.string({
      description: 'The pool’s UUID; null for HOST_DOWN and RESYNC.',
      resolve: (e) => e.uuid,
    }),
    type: t.field({
      type: StoragePoolEventType,
      nullable: false,
      description: 'What happened.',
      resolve: (e) => e.type as StoragePoolEventTypeName,
    }),
    detail: t.string({
      description: 'For HOST_DOWN why the host is unreachable, for RESYNC what brought it back; otherwise null.',
      resolve: (e) => e.detail,
    }),
  }),
});

const HOST_ARG =
  'Registry name of the host; omit it for every configured host (each event names its host). An unreachable host sends HOST_DOWN first.';
const TYPES_ARG = 'Only these types; all when omitted. HOST_DOWN and RESYNC come regardless.';
const AFTER_ARG =
  'Resume: the cursor of the last event received (needs host, the cursor’s). First come the events missed since, with the same filters and grants as live ones, then live events, none twice; a RESYNC (detail HISTORY_EXPIRED) instead of the missed events when the gateway no longer keeps them all (config events.history), or they are more than a subscriber may have waiting (limits.eventQueue). A string that is not a cursor of this host is an INVALID_INPUT error.';

builder.subscriptionFields((t) => ({
  domainEvents: t.field({
    type: DomainEvent,
    authScopes: somewhereOnHostArg('VM.Audit'),
    nullable: false,
    description: `Domain events as libvirt reports them (lifecycle, reboot, devices, block jobs, balloon, migration passes, guest agent, metadata, tray, watchdog, I/O errors), over graphql-ws or SSE. ${HOST_WIDE}`,
    args: {
      host: t.arg.string({ description: HOST_ARG }),
      domain: t.arg({
        type: DomainRef,
        description:
          'Only this domain. By name or UUID it may be one defined later; by runtime id it must be running now, and needs host.',
      }),
      types: t.arg({ type: [DomainEventType], description: TYPES_ARG }),
      after: t.arg.string({ description: AFTER_ARG }),
    },
    subscribe: async (_root, args, ctx) => {
      const hosts = hostsOf(ctx, args.host, 'domain');
      const matches = await domainMatcher(ctx, args.host == null ? undefined : hosts[0], args.domain);
      return eventStream(ctx, hosts, 'domain', matches, args.types, args.after);
    },
    resolve: (e) => e,
  }),
  networkEvents: t.field({
    type: NetworkEvent,
    authScopes: somewhereOnHostArg('Network.Audit'),
    nullable: false,
    description: `Virtual network lifecycle events, over graphql-ws or SSE. ${HOST_WIDE}`,
    args: {
      host: t.arg.string({ description: HOST_ARG }),
      name: t.arg.string({ description: 'Only the network of this name (it may be defined later).' }),
      types: t.arg({ type: [NetworkEventType], description: TYPES_ARG }),
      after: t.arg.string({ description: AFTER_ARG }),
    },
    subscribe: (_root, args, ctx) =>
      eventStream(ctx, hostsOf(ctx, args.host, 'network'), 'network', byName(args.name), args.types, args.after),
    resolve: (e) => e,
  }),
  storagePoolEvents: t.field({
    type: StoragePoolEvent,
    authScopes: somewhereOnHostArg('Storage.Audit'),
    nullable: false,
    description: `Storage pool lifecycle events, over graphql-ws or SSE. ${HOST_WIDE}`,
    args: {
      host: t.arg.string({ description: HOST_ARG }),
      name: t.arg.string({ description: 'Only the pool of this name (it may be defined later).' }),
      types: t.arg({ type: [StoragePoolEventType], description: TYPES_ARG }),
      after: t.arg.string({ description: AFTER_ARG }),
    },
    subscribe: (_root, args, ctx) =>
      eventStream(
        ctx,
        hostsOf(ctx, args.host, 'storagePool'),
        'storagePool',
        byName(args.name),
        args.types,
        args.after,
      ),
    resolve: (e) => e,
  }),
}));
