import type {
  DomainDetailEventType,
  DomainEventDetails,
  DomainEventTypeName,
  LibvirtEvent,
  NetworkEventLifecycleTypeName,
  StoragePoolEventLifecycleTypeName,
} from '../libvirt/index.ts';

/**
 * What a host says about its own stream: HOST_DOWN when its connection is lost (or cannot be
 * opened), RESYNC when events flow again after a gap, so subscribers refetch.
 */
export type HostStatusType = 'HOST_DOWN' | 'RESYNC';

/**
 * One event as it travels through the pub/sub: plain JSON (it crosses Redis between
 * replicas), naming the object by UUID and name; subscribers look the object up themselves.
 */
export type HubEvent =
  | (ObjectEvent<'domain', DomainEventTypeName | DomainDetailEventType> & { details?: HubDomainEventDetails })
  | ObjectEvent<'network', NetworkEventLifecycleTypeName>
  | ObjectEvent<'storagePool', StoragePoolEventLifecycleTypeName>
  | HostStatusEvent;

/** A domain event's details as JSON: the balloon's size is a decimal string (JSON has no 64-bit integers). */
export type HubDomainEventDetails =
  | Exclude<DomainEventDetails, { type: 'BALLOON_CHANGE' }>
  | { type: 'BALLOON_CHANGE'; actualKiB: string };

export interface ObjectEvent<K extends string, T extends string> {
  kind: K;
  host: string;
  type: T;
  name: string;
  uuid: string;
  /** libvirt's detail name (domains only), e.g. BOOTED, DESTROYED. */
  detail: string | null;
  /** ISO 8601, when the gateway received it. */
  timestamp: string;
  /** Its position in the host's stream (event-history.ts), set when it is published. */
  cursor?: string;
}

export interface HostStatusEvent {
  kind: 'host';
  host: string;
  type: HostStatusType;
  name: null;
  uuid: null;
  /** Why the host is down, or what brought it back. */
  detail: string | null;
  timestamp: string;
  cursor?: string;
}

export type HubEventKind = Exclude<HubEvent['kind'], 'host'>;

/** An object event's JSON, keys in the order every event has them (`details` before the timestamp). */
function objectEvent<K extends string, T extends string, X extends object>(
  kind: K,
  host: string,
  type: T,
  object: { name: string; uuid: string },
  detail: string | null,
  timestamp: string,
  extra?: X,
): ObjectEvent<K, T> & X {
  return { kind, host, type, name: object.name, uuid: object.uuid, detail, ...(extra as X), timestamp };
}

/** The JSON form of a libvirt event; undefined for the connection's close (the registry reports that) and for types this libvirt port does not know. */
export function toHubEvent(host: string, event: LibvirtEvent): HubEvent | undefined {
  const timestamp = event.receivedAt.toISOString();
  switch (event.kind) {
    case 'domain':
      if (event.type === 'UNKNOWN') return undefined;
      return objectEvent(
        'domain',
        host,
        event.type,
        event.domain,
        event.detail === 'UNKNOWN' ? null : event.detail,
        timestamp,
      );
    case 'domainDetail': {
      const d = event.details;
      const details = d.type === 'BALLOON_CHANGE' ? { type: d.type, actualKiB: d.actualKiB.toString() } : d;
      return objectEvent('domain', host, event.type, event.domain, null, timestamp, { details });
    }
    case 'network':
      if (event.type === 'UNKNOWN') return undefined;
      return objectEvent('network', host, event.type, event.network, null, timestamp);
    case 'storagePool':
      if (event.type === 'UNKNOWN') return undefined;
      return objectEvent('storagePool', host, event.type, event.pool, null, timestamp);
    case 'close':
      return undefined;
  }
}

export function hostStatusEvent(host: string, type: HostStatusType, detail: string | null): HostStatusEvent {
  return { kind: 'host', host, type, name: null, uuid: null, detail, timestamp: new Date().toISOString() };
}
