import type { Connection } from './connection.ts';
import { Domain } from './domain.ts';
import {
  type ConnectCloseReasonName,
  connectCloseReasonName,
  type DomainEventTypeName,
  domainEventDetailName,
  domainEventTypeName,
  type NetworkEventLifecycleTypeName,
  networkEventLifecycleTypeName,
  type StoragePoolEventLifecycleTypeName,
  storagePoolEventLifecycleTypeName,
} from './enums.ts';
import type { RawEvent } from './native.ts';
import { Network } from './network.ts';
import { StoragePool } from './storage-pool.ts';

export interface DomainLifecycleEvent {
  kind: 'domain';
  type: DomainEventTypeName | 'UNKNOWN';
  /** The detail name for that type, e.g. BOOTED, PAUSED, DESTROYED. */
  detail: string;
  domain: Domain;
  receivedAt: Date;
}

export interface NetworkLifecycleEvent {
  kind: 'network';
  type: NetworkEventLifecycleTypeName | 'UNKNOWN';
  network: Network;
  receivedAt: Date;
}

export interface StoragePoolLifecycleEvent {
  kind: 'storagePool';
  type: StoragePoolEventLifecycleTypeName | 'UNKNOWN';
  pool: StoragePool;
  receivedAt: Date;
}

/** libvirt closed the connection under us (daemon gone, keepalive timeout...). */
export interface ConnectionClosedEvent {
  kind: 'close';
  reason: ConnectCloseReasonName | 'UNKNOWN';
  receivedAt: Date;
}

export type LibvirtEvent =
  | DomainLifecycleEvent
  | NetworkLifecycleEvent
  | StoragePoolLifecycleEvent
  | ConnectionClosedEvent;
export type EventListener = (event: LibvirtEvent) => void;

export function toEvent(connection: Connection, raw: RawEvent): LibvirtEvent {
  const receivedAt = new Date();
  switch (raw.kind) {
    case 'domain':
      return {
        kind: 'domain',
        type: domainEventTypeName(raw.event),
        detail: domainEventDetailName(raw.event, raw.detail),
        domain: new Domain(connection, raw.subject),
        receivedAt,
      };
    case 'network':
      return {
        kind: 'network',
        type: networkEventLifecycleTypeName(raw.event),
        network: new Network(connection, raw.subject),
        receivedAt,
      };
    case 'storagePool':
      return {
        kind: 'storagePool',
        type: storagePoolEventLifecycleTypeName(raw.event),
        pool: new StoragePool(connection, raw.subject),
        receivedAt,
      };
    case 'close':
      return { kind: 'close', reason: connectCloseReasonName(raw.event), receivedAt };
  }
}
