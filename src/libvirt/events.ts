import type { Connection } from './connection.ts';
import { Domain } from './domain.ts';
import {
  type ConnectCloseReasonName,
  type ConnectDomainEventAgentLifecycleReasonName,
  type ConnectDomainEventAgentLifecycleStateName,
  type ConnectDomainEventBlockJobStatusName,
  connectCloseReasonName,
  connectDomainEventAgentLifecycleReasonName,
  connectDomainEventAgentLifecycleStateName,
  connectDomainEventBlockJobStatusName,
  type DomainBlockJobTypeName,
  type DomainEventIOErrorActionName,
  type DomainEventTrayChangeReasonName,
  type DomainEventTypeName,
  type DomainEventWatchdogActionName,
  type DomainMetadataTypeName,
  domainBlockJobTypeName,
  domainEventDetailName,
  domainEventIDName,
  domainEventIOErrorActionName,
  domainEventTrayChangeReasonName,
  domainEventTypeName,
  domainEventWatchdogActionName,
  domainMetadataTypeName,
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

/** What a domain event other than lifecycle says, by its type (named after libvirt's VIR_DOMAIN_EVENT_ID_*). */
export type DomainEventDetails =
  | { type: 'REBOOT' }
  | { type: 'DEVICE_ADDED' | 'DEVICE_REMOVED'; deviceAlias: string }
  | {
      type: 'BLOCK_JOB';
      /** The disk's target (vda...), as BLOCK_JOB_2 reports it. */
      disk: string;
      jobType: DomainBlockJobTypeName;
      status: ConnectDomainEventBlockJobStatusName | 'UNKNOWN';
    }
  | { type: 'BALLOON_CHANGE'; actualKiB: bigint }
  | { type: 'MIGRATION_ITERATION'; iteration: number }
  | {
      type: 'AGENT_LIFECYCLE';
      state: ConnectDomainEventAgentLifecycleStateName | 'UNKNOWN';
      reason: ConnectDomainEventAgentLifecycleReasonName;
    }
  | { type: 'METADATA_CHANGE'; metadataType: DomainMetadataTypeName | 'UNKNOWN'; nsUri: string | null }
  | { type: 'TRAY_CHANGE'; deviceAlias: string; reason: DomainEventTrayChangeReasonName | 'UNKNOWN' }
  | { type: 'WATCHDOG'; action: DomainEventWatchdogActionName | 'UNKNOWN' }
  | {
      type: 'IO_ERROR';
      srcPath: string;
      deviceAlias: string;
      action: DomainEventIOErrorActionName | 'UNKNOWN';
      reason: string;
    };
export type DomainDetailEventType = DomainEventDetails['type'];

/** A domain event besides lifecycle: reboot, devices, block jobs, balloon, migration, agent, metadata, tray, watchdog, I/O error. */
export interface DomainDetailEvent {
  kind: 'domainDetail';
  type: DomainDetailEventType;
  details: DomainEventDetails;
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
  | DomainDetailEvent
  | NetworkLifecycleEvent
  | StoragePoolLifecycleEvent
  | ConnectionClosedEvent;
export type EventListener = (event: LibvirtEvent) => void;

type RawDomainEvent = Extract<RawEvent, { kind: 'domain' }>;

/** The details of a domain event other than lifecycle; undefined for an id this port does not know. */
function domainEventDetails(raw: RawDomainEvent): DomainEventDetails | undefined {
  const text = (i: number) => raw.strings[i] ?? '';
  const name = domainEventIDName(raw.id);
  switch (name) {
    case 'REBOOT':
      return { type: 'REBOOT' };
    case 'DEVICE_ADDED':
    case 'DEVICE_REMOVED':
      return { type: name, deviceAlias: text(0) };
    case 'BLOCK_JOB_2':
      return {
        type: 'BLOCK_JOB',
        disk: text(0),
        jobType: domainBlockJobTypeName(raw.event),
        status: connectDomainEventBlockJobStatusName(raw.detail),
      };
    case 'BALLOON_CHANGE':
      return { type: 'BALLOON_CHANGE', actualKiB: raw.big ?? 0n };
    case 'MIGRATION_ITERATION':
      return { type: 'MIGRATION_ITERATION', iteration: raw.event };
    case 'AGENT_LIFECYCLE':
      return {
        type: 'AGENT_LIFECYCLE',
        state: connectDomainEventAgentLifecycleStateName(raw.event),
        reason: connectDomainEventAgentLifecycleReasonName(raw.detail),
      };
    case 'METADATA_CHANGE':
      return {
        type: 'METADATA_CHANGE',
        metadataType: domainMetadataTypeName(raw.event),
        nsUri: raw.strings[0] ?? null,
      };
    case 'TRAY_CHANGE':
      return { type: 'TRAY_CHANGE', deviceAlias: text(0), reason: domainEventTrayChangeReasonName(raw.event) };
    case 'WATCHDOG':
      return { type: 'WATCHDOG', action: domainEventWatchdogActionName(raw.event) };
    case 'IO_ERROR_REASON':
      return {
        type: 'IO_ERROR',
        srcPath: text(0),
        deviceAlias: text(1),
        action: domainEventIOErrorActionName(raw.event),
        reason: text(2),
      };
    case 'UNKNOWN':
      return undefined;
  }
}

export function toEvent(connection: Connection, raw: RawEvent): LibvirtEvent {
  const receivedAt = new Date();
  switch (raw.kind) {
    case 'domain': {
      const details = raw.id === 0 ? undefined : domainEventDetails(raw);
      if (details !== undefined) {
        const domain = new Domain(connection, raw.subject);
        return { kind: 'domainDetail', type: details.type, details, domain, receivedAt };
      }
      const lifecycle = raw.id === 0;
      return {
        kind: 'domain',
        type: lifecycle ? domainEventTypeName(raw.event) : 'UNKNOWN',
        detail: lifecycle ? domainEventDetailName(raw.event, raw.detail) : 'UNKNOWN',
        domain: new Domain(connection, raw.subject),
        receivedAt,
      };
    }
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
