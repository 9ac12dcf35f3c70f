import { invert } from './name-lookup.ts';

// virDomainState — libvirt-libvirt-domain.html#virDomainState
export const DomainState = {
  NOSTATE: 0,
  RUNNING: 1,
  BLOCKED: 2,
  PAUSED: 3,
  SHUTDOWN: 4,
  SHUTOFF: 5,
  CRASHED: 6,
  PMSUSPENDED: 7,
} as const;
export type DomainStateName = keyof typeof DomainState;
const domainStateNames = invert(DomainState);
export function domainStateName(value: number): DomainStateName | 'UNKNOWN' {
  return domainStateNames.get(value) ?? 'UNKNOWN';
}

// virDomainRunningReason — libvirt-libvirt-domain.html#virDomainRunningReason
export const DomainRunningReason = {
  UNKNOWN: 0,
  BOOTED: 1,
  MIGRATED: 2,
  RESTORED: 3,
  FROM_SNAPSHOT: 4,
  UNPAUSED: 5,
  MIGRATION_CANCELED: 6,
  SAVE_CANCELED: 7,
  WAKEUP: 8,
  CRASHED: 9,
  POSTCOPY: 10,
  POSTCOPY_FAILED: 11,
} as const;
export type DomainRunningReasonName = keyof typeof DomainRunningReason;
const domainRunningReasonNames = invert(DomainRunningReason);
export function domainRunningReasonName(value: number): DomainRunningReasonName | 'UNKNOWN' {
  return domainRunningReasonNames.get(value) ?? 'UNKNOWN';
}

// virDomainPausedReason — libvirt-libvirt-domain.html#virDomainPausedReason
export const DomainPausedReason = {
  UNKNOWN: 0,
  USER: 1,
  MIGRATION: 2,
  SAVE: 3,
  DUMP: 4,
  IOERROR: 5,
  WATCHDOG: 6,
  FROM_SNAPSHOT: 7,
  SHUTTING_DOWN: 8,
  SNAPSHOT: 9,
  CRASHED: 10,
  STARTING_UP: 11,
  POSTCOPY: 12,
  POSTCOPY_FAILED: 13,
} as const;
export type DomainPausedReasonName = keyof typeof DomainPausedReason;
const domainPausedReasonNames = invert(DomainPausedReason);
export function domainPausedReasonName(value: number): DomainPausedReasonName | 'UNKNOWN' {
  return domainPausedReasonNames.get(value) ?? 'UNKNOWN';
}

// virDomainShutdownReason — libvirt-libvirt-domain.html#virDomainShutdownReason
export const DomainShutdownReason = {
  UNKNOWN: 0,
  USER: 1,
} as const;
export type DomainShutdownReasonName = keyof typeof DomainShutdownReason;
const domainShutdownReasonNames = invert(DomainShutdownReason);
export function domainShutdownReasonName(value: number): DomainShutdownReasonName | 'UNKNOWN' {
  return domainShutdownReasonNames.get(value) ?? 'UNKNOWN';
}

// virDomainShutoffReason — libvirt-libvirt-domain.html#virDomainShutoffReason
export const DomainShutoffReason = {
  UNKNOWN: 0,
  SHUTDOWN: 1,
  DESTROYED: 2,
  CRASHED: 3,
  MIGRATED: 4,
  SAVED: 5,
  FAILED: 6,
  FROM_SNAPSHOT: 7,
  DAEMON: 8,
} as const;
export type DomainShutoffReasonName = keyof typeof DomainShutoffReason;
const domainShutoffReasonNames = invert(DomainShutoffReason);
export function domainShutoffReasonName(value: number): DomainShutoffReasonName | 'UNKNOWN' {
  return domainShutoffReasonNames.get(value) ?? 'UNKNOWN';
}

// virDomainCrashedReason — libvirt-libvirt-domain.html#virDomainCrashedReason
export const DomainCrashedReason = {
  UNKNOWN: 0,
  PANICKED: 1,
} as const;
export type DomainCrashedReasonName = keyof typeof DomainCrashedReason;
const domainCrashedReasonNames = invert(DomainCrashedReason);
export function domainCrashedReasonName(value: number): DomainCrashedReasonName | 'UNKNOWN' {
  return domainCrashedReasonNames.get(value) ?? 'UNKNOWN';
}

// virDomainBlockedReason — libvirt-libvirt-domain.html#virDomainBlockedReason
export const DomainBlockedReason = {
  UNKNOWN: 0,
} as const;
export type DomainBlockedReasonName = keyof typeof DomainBlockedReason;
const domainBlockedReasonNames = invert(DomainBlockedReason);
export function domainBlockedReasonName(value: number): DomainBlockedReasonName | 'UNKNOWN' {
  return domainBlockedReasonNames.get(value) ?? 'UNKNOWN';
}

// virDomainNostateReason — libvirt-libvirt-domain.html#virDomainNostateReason
export const DomainNostateReason = {
  UNKNOWN: 0,
} as const;
export type DomainNostateReasonName = keyof typeof DomainNostateReason;
const domainNostateReasonNames = invert(DomainNostateReason);
export function domainNostateReasonName(value: number): DomainNostateReasonName | 'UNKNOWN' {
  return domainNostateReasonNames.get(value) ?? 'UNKNOWN';
}

// virDomainPMSuspendedReason — libvirt-libvirt-domain.html#virDomainPMSuspendedReason
export const DomainPMSuspendedReason = {
  UNKNOWN: 0,
} as const;
export type DomainPMSuspendedReasonName = keyof typeof DomainPMSuspendedReason;
const domainPMSuspendedReasonNames = invert(DomainPMSuspendedReason);
export function domainPMSuspendedReasonName(value: number): DomainPMSuspendedReasonName | 'UNKNOWN' {
  return domainPMSuspendedReasonNames.get(value) ?? 'UNKNOWN';
}

export function domainStateReasonName(state: number, reason: number): string {
  switch (state) {
    case DomainState.NOSTATE:
      return domainNostateReasonName(reason);
    case DomainState.RUNNING:
      return domainRunningReasonName(reason);
    case DomainState.BLOCKED:
      return domainBlockedReasonName(reason);
    case DomainState.PAUSED:
      return domainPausedReasonName(reason);
    case DomainState.SHUTDOWN:
      return domainShutdownReasonName(reason);
    case DomainState.SHUTOFF:
      return domainShutoffReasonName(reason);
    case DomainState.CRASHED:
      return domainCrashedReasonName(reason);
    case DomainState.PMSUSPENDED:
      return domainPMSuspendedReasonName(reason);
    default:
      return 'UNKNOWN';
  }
}

// virDomainEventType — libvirt-libvirt-domain.html#virDomainEventType
export const DomainEventType = {
  DEFINED: 0,
  UNDEFINED: 1,
  STARTED: 2,
  SUSPENDED: 3,
  RESUMED: 4,
  STOPPED: 5,
  SHUTDOWN: 6,
  PMSUSPENDED: 7,
  CRASHED: 8,
} as const;
export type DomainEventTypeName = keyof typeof DomainEventType;
const domainEventTypeNames = invert(DomainEventType);
export function domainEventTypeName(value: number): DomainEventTypeName | 'UNKNOWN' {
  return domainEventTypeNames.get(value) ?? 'UNKNOWN';
}

// virDomainEventDefinedDetailType — libvirt-libvirt-domain.html#virDomainEventDefinedDetailType
export const DomainEventDefinedDetailType = {
  ADDED: 0,
  UPDATED: 1,
  RENAMED: 2,
  FROM_SNAPSHOT: 3,
} as const;
export type DomainEventDefinedDetailTypeName = keyof typeof DomainEventDefinedDetailType;
const domainEventDefinedDetailTypeNames = invert(DomainEventDefinedDetailType);
export function domainEventDefinedDetailTypeName(value: number): DomainEventDefinedDetailTypeName | 'UNKNOWN' {
  return domainEventDefinedDetailTypeNames.get(value) ?? 'UNKNOWN';
}

// virDomainEventUndefinedDetailType — libvirt-libvirt-domain.html#virDomainEventUndefinedDetailType
export const DomainEventUndefinedDetailType = {
  REMOVED: 0,
  RENAMED: 1,
} as const;
export type DomainEventUndefinedDetailTypeName = keyof typeof DomainEventUndefinedDetailType;
const domainEventUndefinedDetailTypeNames = invert(DomainEventUndefinedDetailType);
export function domainEventUndefinedDetailTypeName(value: number): DomainEventUndefinedDetailTypeName | 'UNKNOWN' {
  return domainEventUndefinedDetailTypeNames.get(value) ?? 'UNKNOWN';
}

// virDomainEventStartedDetailType — libvirt-libvirt-domain.html#virDomainEventStartedDetailType
export const DomainEventStartedDetailType = {
  BOOTED: 0,
  MIGRATED: 1,
  RESTORED: 2,
  FROM_SNAPSHOT: 3,
  WAKEUP: 4,
} as const;
export type DomainEventStartedDetailTypeName = keyof typeof DomainEventStartedDetailType;
const domainEventStartedDetailTypeNames = invert(DomainEventStartedDetailType);
export function domainEventStartedDetailTypeName(value: number): DomainEventStartedDetailTypeName | 'UNKNOWN' {
  return domainEventStartedDetailTypeNames.get(value) ?? 'UNKNOWN';
}

// virDomainEventSuspendedDetailType — libvirt-libvirt-domain.html#virDomainEventSuspendedDetailType
export const DomainEventSuspendedDetailType = {
  PAUSED: 0,
  MIGRATED: 1,
  IOERROR: 2,
  WATCHDOG: 3,
  RESTORED: 4,
  FROM_SNAPSHOT: 5,
  API_ERROR: 6,
  POSTCOPY: 7,
  POSTCOPY_FAILED: 8,
} as const;
export type DomainEventSuspendedDetailTypeName = keyof typeof DomainEventSuspendedDetailType;
const domainEventSuspendedDetailTypeNames = invert(DomainEventSuspendedDetailType);
export function domainEventSuspendedDetailTypeName(value: number): DomainEventSuspendedDetailTypeName | 'UNKNOWN' {
  return domainEventSuspendedDetailTypeNames.get(value) ?? 'UNKNOWN';
}

// virDomainEventResumedDetailType — libvirt-libvirt-domain.html#virDomainEventResumedDetailType
export const DomainEventResumedDetailType = {
  UNPAUSED: 0,
  MIGRATED: 1,
  FROM_SNAPSHOT: 2,
  POSTCOPY: 3,
  POSTCOPY_FAILED: 4,
} as const;
export type DomainEventResumedDetailTypeName = keyof typeof DomainEventResumedDetailType;
const domainEventResumedDetailTypeNames = invert(DomainEventResumedDetailType);
export function domainEventResumedDetailTypeName(value: number): DomainEventResumedDetailTypeName | 'UNKNOWN' {
  return domainEventResumedDetailTypeNames.get(value) ?? 'UNKNOWN';
}

// virDomainEventStoppedDetailType — libvirt-libvirt-domain.html#virDomainEventStoppedDetailType
export const DomainEventStoppedDetailType = {
  SHUTDOWN: 0,
  DESTROYED: 1,
  CRASHED: 2,
  MIGRATED: 3,
  SAVED: 4,
  FAILED: 5,
  FROM_SNAPSHOT: 6,
} as const;
export type DomainEventStoppedDetailTypeName = keyof typeof DomainEventStoppedDetailType;
const domainEventStoppedDetailTypeNames = invert(DomainEventStoppedDetailType);
export function domainEventStoppedDetailTypeName(value: number): DomainEventStoppedDetailTypeName | 'UNKNOWN' {
  return domainEventStoppedDetailTypeNames.get(value) ?? 'UNKNOWN';
}

// virDomainEventShutdownDetailType — libvirt-libvirt-domain.html#virDomainEventShutdownDetailType
export const DomainEventShutdownDetailType = {
  FINISHED: 0,
  GUEST: 1,
  HOST: 2,
} as const;
export type DomainEventShutdownDetailTypeName = keyof typeof DomainEventShutdownDetailType;
const domainEventShutdownDetailTypeNames = invert(DomainEventShutdownDetailType);
export function domainEventShutdownDetailTypeName(value: number): DomainEventShutdownDetailTypeName | 'UNKNOWN' {
  return domainEventShutdownDetailTypeNames.get(value) ?? 'UNKNOWN';
}

// virDomainEventPMSuspendedDetailType — libvirt-libvirt-domain.html#virDomainEventPMSuspendedDetailType
export const DomainEventPMSuspendedDetailType = {
  MEMORY: 0,
  DISK: 1,
} as const;
export type DomainEventPMSuspendedDetailTypeName = keyof typeof DomainEventPMSuspendedDetailType;
const domainEventPMSuspendedDetailTypeNames = invert(DomainEventPMSuspendedDetailType);
export function domainEventPMSuspendedDetailTypeName(value: number): DomainEventPMSuspendedDetailTypeName | 'UNKNOWN' {
  return domainEventPMSuspendedDetailTypeNames.get(value) ?? 'UNKNOWN';
}

// virDomainEventCrashedDetailType — libvirt-libvirt-domain.html#virDomainEventCrashedDetailType
export const DomainEventCrashedDetailType = {
  PANICKED: 0,
  CRASHLOADED: 1,
} as const;
export type DomainEventCrashedDetailTypeName = keyof typeof DomainEventCrashedDetailType;
const domainEventCrashedDetailTypeNames = invert(DomainEventCrashedDetailType);
export function domainEventCrashedDetailTypeName(value: number): DomainEventCrashedDetailTypeName | 'UNKNOWN' {
  return domainEventCrashedDetailTypeNames.get(value) ?? 'UNKNOWN';
}

export function domainEventDetailName(event: number, detail: number): string {
  switch (event) {
    case DomainEventType.DEFINED:
      return domainEventDefinedDetailTypeName(detail);
    case DomainEventType.UNDEFINED:
      return domainEventUndefinedDetailTypeName(detail);
    case DomainEventType.STARTED:
      return domainEventStartedDetailTypeName(detail);
    case DomainEventType.SUSPENDED:
      return domainEventSuspendedDetailTypeName(detail);
    case DomainEventType.RESUMED:
      return domainEventResumedDetailTypeName(detail);
    case DomainEventType.STOPPED:
      return domainEventStoppedDetailTypeName(detail);
    case DomainEventType.SHUTDOWN:
      return domainEventShutdownDetailTypeName(detail);
    case DomainEventType.PMSUSPENDED:
      return domainEventPMSuspendedDetailTypeName(detail);
    case DomainEventType.CRASHED:
      return domainEventCrashedDetailTypeName(detail);
    default:
      return 'UNKNOWN';
  }
}

// virDomainEventID (the ones besides LIFECYCLE that the binding registers) — libvirt-libvirt-domain.html#virDomainEventID
export const DomainEventID = {
  REBOOT: 1,
  WATCHDOG: 3,
  IO_ERROR_REASON: 6,
  TRAY_CHANGE: 10,
  BALLOON_CHANGE: 13,
  DEVICE_REMOVED: 15,
  BLOCK_JOB_2: 16,
  AGENT_LIFECYCLE: 18,
  DEVICE_ADDED: 19,
  MIGRATION_ITERATION: 20,
  METADATA_CHANGE: 23,
} as const;
export type DomainEventIDName = keyof typeof DomainEventID;
const domainEventIDNames = invert(DomainEventID);
export function domainEventIDName(value: number): DomainEventIDName | 'UNKNOWN' {
  return domainEventIDNames.get(value) ?? 'UNKNOWN';
}

// virDomainBlockJobType — libvirt-libvirt-domain.html#virDomainBlockJobType
export const DomainBlockJobType = {
  UNKNOWN: 0,
  PULL: 1,
  COPY: 2,
  COMMIT: 3,
  ACTIVE_COMMIT: 4,
  BACKUP: 5,
} as const;
export type DomainBlockJobTypeName = keyof typeof DomainBlockJobType;
const domainBlockJobTypeNames = invert(DomainBlockJobType);
export function domainBlockJobTypeName(value: number): DomainBlockJobTypeName {
  return domainBlockJobTypeNames.get(value) ?? 'UNKNOWN';
}

// virConnectDomainEventBlockJobStatus — libvirt-libvirt-domain.html#virConnectDomainEventBlockJobStatus
export const ConnectDomainEventBlockJobStatus = {
  COMPLETED: 0,
  FAILED: 1,
  CANCELED: 2,
  READY: 3,
} as const;
export type ConnectDomainEventBlockJobStatusName = keyof typeof ConnectDomainEventBlockJobStatus;
const connectDomainEventBlockJobStatusNames = invert(ConnectDomainEventBlockJobStatus);
export function connectDomainEventBlockJobStatusName(value: number): ConnectDomainEventBlockJobStatusName | 'UNKNOWN' {
  return connectDomainEventBlockJobStatusNames.get(value) ?? 'UNKNOWN';
}

// virConnectDomainEventAgentLifecycleState — libvirt-libvirt-domain.html#virConnectDomainEventAgentLifecycleState
export const ConnectDomainEventAgentLifecycleState = {
  CONNECTED: 1,
  DISCONNECTED: 2,
} as const;
export type ConnectDomainEventAgentLifecycleStateName = keyof typeof ConnectDomainEventAgentLifecycleState;
const connectDomainEventAgentLifecycleStateNames = invert(ConnectDomainEventAgentLifecycleState);
export function connectDomainEventAgentLifecycleStateName(
  value: number,
): ConnectDomainEventAgentLifecycleStateName | 'UNKNOWN' {
  return connectDomainEventAgentLifecycleStateNames.get(value) ?? 'UNKNOWN';
}

// virConnectDomainEventAgentLifecycleReason — libvirt-libvirt-domain.html#virConnectDomainEventAgentLifecycleReason
export const ConnectDomainEventAgentLifecycleReason = {
  UNKNOWN: 0,
  DOMAIN_STARTED: 1,
  CHANNEL: 2,
} as const;
export type ConnectDomainEventAgentLifecycleReasonName = keyof typeof ConnectDomainEventAgentLifecycleReason;
const connectDomainEventAgentLifecycleReasonNames = invert(ConnectDomainEventAgentLifecycleReason);
export function connectDomainEventAgentLifecycleReasonName(value: number): ConnectDomainEventAgentLifecycleReasonName {
  return connectDomainEventAgentLifecycleReasonNames.get(value) ?? 'UNKNOWN';
}

// virDomainEventTrayChangeReason — libvirt-libvirt-domain.html#virDomainEventTrayChangeReason
export const DomainEventTrayChangeReason = {
  OPEN: 0,
  CLOSE: 1,
} as const;
export type DomainEventTrayChangeReasonName = keyof typeof DomainEventTrayChangeReason;
const domainEventTrayChangeReasonNames = invert(DomainEventTrayChangeReason);
export function domainEventTrayChangeReasonName(value: number): DomainEventTrayChangeReasonName | 'UNKNOWN' {
  return domainEventTrayChangeReasonNames.get(value) ?? 'UNKNOWN';
}

// virDomainEventWatchdogAction — libvirt-libvirt-domain.html#virDomainEventWatchdogAction
export const DomainEventWatchdogAction = {
  NONE: 0,
  PAUSE: 1,
  RESET: 2,
  POWEROFF: 3,
  SHUTDOWN: 4,
  DEBUG: 5,
  INJECTNMI: 6,
} as const;
export type DomainEventWatchdogActionName = keyof typeof DomainEventWatchdogAction;
const domainEventWatchdogActionNames = invert(DomainEventWatchdogAction);
export function domainEventWatchdogActionName(value: number): DomainEventWatchdogActionName | 'UNKNOWN' {
  return domainEventWatchdogActionNames.get(value) ?? 'UNKNOWN';
}

// virDomainEventIOErrorAction — libvirt-libvirt-domain.html#virDomainEventIOErrorAction
export const DomainEventIOErrorAction = {
  NONE: 0,
  PAUSE: 1,
  REPORT: 2,
} as const;
export type DomainEventIOErrorActionName = keyof typeof DomainEventIOErrorAction;
const domainEventIOErrorActionNames = invert(DomainEventIOErrorAction);
export function domainEventIOErrorActionName(value: number): DomainEventIOErrorActionName | 'UNKNOWN' {
  return domainEventIOErrorActionNames.get(value) ?? 'UNKNOWN';
}

// virNetworkEventLifecycleType — libvirt-libvirt-network.html#virNetworkEventLifecycleType
export const NetworkEventLifecycleType = {
  DEFINED: 0,
  UNDEFINED: 1,
  STARTED: 2,
  STOPPED: 3,
} as const;
export type NetworkEventLifecycleTypeName = keyof typeof NetworkEventLifecycleType;
const networkEventLifecycleTypeNames = invert(NetworkEventLifecycleType);
export function networkEventLifecycleTypeName(value: number): NetworkEventLifecycleTypeName | 'UNKNOWN' {
  return networkEventLifecycleTypeNames.get(value) ?? 'UNKNOWN';
}

// virStoragePoolEventLifecycleType — libvirt-libvirt-storage.html#virStoragePoolEventLifecycleType
export const StoragePoolEventLifecycleType = {
  DEFINED: 0,
  UNDEFINED: 1,
  STARTED: 2,
  STOPPED: 3,
  CREATED: 4,
  DELETED: 5,
} as const;
export type StoragePoolEventLifecycleTypeName = keyof typeof StoragePoolEventLifecycleType;
const storagePoolEventLifecycleTypeNames = invert(StoragePoolEventLifecycleType);
export function storagePoolEventLifecycleTypeName(value: number): StoragePoolEventLifecycleTypeName | 'UNKNOWN' {
  return storagePoolEventLifecycleTypeNames.get(value) ?? 'UNKNOWN';
}

// virStoragePoolState — libvirt-libvirt-storage.html#virStoragePoolState
export const StoragePoolState = {
  INACTIVE: 0,
  BUILDING: 1,
  RUNNING: 2,
  DEGRADED: 3,
  INACCESSIBLE: 4,
} as const;
export type StoragePoolStateName = keyof typeof StoragePoolState;
const storagePoolStateNames = invert(StoragePoolState);
export function storagePoolStateName(value: number): StoragePoolStateName | 'UNKNOWN' {
  return storagePoolStateNames.get(value) ?? 'UNKNOWN';
}

// virStorageVolType — libvirt-libvirt-storage.html#virStorageVolType
export const StorageVolType = {
  FILE: 0,
  BLOCK: 1,
  DIR: 2,
  NETWORK: 3,
  NETDIR: 4,
  PLOOP: 5,
} as const;
export type StorageVolTypeName = keyof typeof StorageVolType;
const storageVolTypeNames = invert(StorageVolType);
export function storageVolTypeName(value: number): StorageVolTypeName | 'UNKNOWN' {
  return storageVolTypeNames.get(value) ?? 'UNKNOWN';
}

// virConnectListAllDomainsFlags — libvirt-libvirt-domain.html#virConnectListAllDomainsFlags
export const ConnectListAllDomainsFlags = {
  ACTIVE: 1,
  INACTIVE: 2,
  PERSISTENT: 4,
  TRANSIENT: 8,
  RUNNING: 16,
  PAUSED: 32,
  SHUTOFF: 64,
  OTHER: 128,
  MANAGEDSAVE: 256,
  NO_MANAGEDSAVE: 512,
  AUTOSTART: 1024,
  NO_AUTOSTART: 2048,
  HAS_SNAPSHOT: 4096,
  NO_SNAPSHOT: 8192,
  HAS_CHECKPOINT: 16384,
  NO_CHECKPOINT: 32768,
} as const;

// virConnectListAllNetworksFlags — libvirt-libvirt-network.html#virConnectListAllNetworksFlags
export const ConnectListAllNetworksFlags = {
  INACTIVE: 1,
  ACTIVE: 2,
  PERSISTENT: 4,
  TRANSIENT: 8,
  AUTOSTART: 16,
  NO_AUTOSTART: 32,
} as const;

// virConnectListAllStoragePoolsFlags — libvirt-libvirt-storage.html#virConnectListAllStoragePoolsFlags
export const ConnectListAllStoragePoolsFlags = {
  INACTIVE: 1,
  ACTIVE: 2,
  PERSISTENT: 4,
  TRANSIENT: 8,
  AUTOSTART: 16,
  NO_AUTOSTART: 32,
  DIR: 64,
  FS: 128,
  NETFS: 256,
  LOGICAL: 512,
  DISK: 1024,
  ISCSI: 2048,
  SCSI: 4096,
  MPATH: 8192,
  RBD: 16384,
  SHEEPDOG: 32768,
  GLUSTER: 65536,
  ZFS: 131072,
  VSTORAGE: 262144,
  ISCSI_DIRECT: 524288,
} as const;

// virConnectListAllInterfacesFlags — libvirt-libvirt-interface.html#virConnectListAllInterfacesFlags
export const ConnectListAllInterfacesFlags = {
  INACTIVE: 1,
  ACTIVE: 2,
} as const;

// virDomainModificationImpact — libvirt-libvirt-domain.html#virDomainModificationImpact
export const DomainModificationImpact = {
  CURRENT: 0,
  LIVE: 1,
  CONFIG: 2,
} as const;

// virDomainDeviceModifyFlags — libvirt-libvirt-domain.html#virDomainDeviceModifyFlags
export const DomainDeviceModifyFlags = {
  CURRENT: 0,
  LIVE: 1,
  CONFIG: 2,
  FORCE: 4,
} as const;

// virDomainVcpuFlags — libvirt-libvirt-domain.html#virDomainVcpuFlags
export const DomainVcpuFlags = {
  CURRENT: 0,
  LIVE: 1,
  CONFIG: 2,
  MAXIMUM: 4,
  GUEST: 8,
  HOTPLUGGABLE: 16,
} as const;

// virDomainMemoryModFlags — libvirt-libvirt-domain.html#virDomainMemoryModFlags
export const DomainMemoryModFlags = {
  CURRENT: 0,
  LIVE: 1,
  CONFIG: 2,
  MAXIMUM: 4,
} as const;

// virDomainXMLFlags — libvirt-libvirt-domain.html#virDomainXMLFlags
export const DomainXMLFlags = {
  SECURE: 1,
  INACTIVE: 2,
  UPDATE_CPU: 4,
  MIGRATABLE: 8,
} as const;

// virDomainUndefineFlagsValues — libvirt-libvirt-domain.html#virDomainUndefineFlagsValues
export const DomainUndefineFlagsValues = {
  MANAGED_SAVE: 1,
  SNAPSHOTS_METADATA: 2,
  NVRAM: 4,
  KEEP_NVRAM: 8,
  CHECKPOINTS_METADATA: 16,
  TPM: 32,
  KEEP_TPM: 64,
} as const;

// virDomainDestroyFlagsValues — libvirt-libvirt-domain.html#virDomainDestroyFlagsValues
export const DomainDestroyFlagsValues = {
  DEFAULT: 0,
  GRACEFUL: 1,
  REMOVE_LOGS: 2,
} as const;

// virDomainShutdownFlagValues — libvirt-libvirt-domain.html#virDomainShutdownFlagValues
export const DomainShutdownFlagValues = {
  DEFAULT: 0,
  ACPI_POWER_BTN: 1,
  GUEST_AGENT: 2,
  INITCTL: 4,
  SIGNAL: 8,
  PARAVIRT: 16,
} as const;

// virDomainRebootFlagValues — libvirt-libvirt-domain.html#virDomainRebootFlagValues
export const DomainRebootFlagValues = {
  DEFAULT: 0,
  ACPI_POWER_BTN: 1,
  GUEST_AGENT: 2,
  INITCTL: 4,
  SIGNAL: 8,
  PARAVIRT: 16,
} as const;

// virDomainMigrateFlags — libvirt-libvirt-domain.html#virDomainMigrateFlags
export const DomainMigrateFlags = {
  LIVE: 1,
  PEER2PEER: 2,
  TUNNELLED: 4,
  PERSIST_DEST: 8,
  UNDEFINE_SOURCE: 16,
  PAUSED: 32,
  NON_SHARED_DISK: 64,
  NON_SHARED_INC: 128,
  CHANGE_PROTECTION: 256,
  UNSAFE: 512,
  OFFLINE: 1024,
  COMPRESSED: 2048,
  ABORT_ON_ERROR: 4096,
  AUTO_CONVERGE: 8192,
  RDMA_PIN_ALL: 16384,
  POSTCOPY: 32768,
  TLS: 65536,
  PARALLEL: 131072,
  NON_SHARED_SYNCHRONOUS_WRITES: 262144,
  POSTCOPY_RESUME: 524288,
  ZEROCOPY: 1048576,
} as const;

// virStoragePoolBuildFlags — libvirt-libvirt-storage.html#virStoragePoolBuildFlags
export const StoragePoolBuildFlags = {
  NEW: 0,
  REPAIR: 1,
  RESIZE: 2,
  NO_OVERWRITE: 4,
  OVERWRITE: 8,
} as const;

// virStorageVolCreateFlags — libvirt-libvirt-storage.html#virStorageVolCreateFlags
export const StorageVolCreateFlags = {
  PREALLOC_METADATA: 1,
  REFLINK: 2,
  VALIDATE: 4,
} as const;

// virStorageVolDeleteFlags — libvirt-libvirt-storage.html#virStorageVolDeleteFlags
export const StorageVolDeleteFlags = {
  NORMAL: 0,
  ZEROED: 1,
  WITH_SNAPSHOTS: 2,
} as const;

// virDomainStatsTypes — libvirt-libvirt-domain.html#virDomainStatsTypes
export const DomainStatsTypes = {
  STATE: 1,
  CPU_TOTAL: 2,
  BALLOON: 4,
  VCPU: 8,
  INTERFACE: 16,
  BLOCK: 32,
  PERF: 64,
  IOTHREAD: 128,
  MEMORY: 256,
  DIRTYRATE: 512,
  VM: 1024,
} as const;

// virConnectGetAllDomainStatsFlags — libvirt-libvirt-domain.html#virConnectGetAllDomainStatsFlags
export const ConnectGetAllDomainStatsFlags = {
  ACTIVE: 1,
  INACTIVE: 2,
  PERSISTENT: 4,
  TRANSIENT: 8,
  RUNNING: 16,
  PAUSED: 32,
  SHUTOFF: 64,
  OTHER: 128,
  NOWAIT: 536870912,
  BACKING: 1073741824,
  ENFORCE_STATS: 2147483648,
} as const;

// virDomainJobType — libvirt-libvirt-domain.html#virDomainJobType
export const DomainJobType = {
  NONE: 0,
  BOUNDED: 1,
  UNBOUNDED: 2,
  COMPLETED: 3,
  FAILED: 4,
  CANCELLED: 5,
} as const;
export type DomainJobTypeName = keyof typeof DomainJobType;
const domainJobTypeNames = invert(DomainJobType);
export function domainJobTypeName(value: number): DomainJobTypeName | 'UNKNOWN' {
  return domainJobTypeNames.get(value) ?? 'UNKNOWN';
}

// virDomainGetJobStatsFlags — libvirt-libvirt-domain.html#virDomainGetJobStatsFlags
export const DomainGetJobStatsFlags = {
  COMPLETED: 1,
  KEEP_COMPLETED: 2,
} as const;

// virConnectCloseReason — libvirt-libvirt-common.html#virConnectCloseReason
export const ConnectCloseReason = {
  ERROR: 0,
  EOF: 1,
  KEEPALIVE: 2,
  CLIENT: 3,
} as const;
export type ConnectCloseReasonName = keyof typeof ConnectCloseReason;
const connectCloseReasonNames = invert(ConnectCloseReason);
export function connectCloseReasonName(value: number): ConnectCloseReasonName | 'UNKNOWN' {
  return connectCloseReasonNames.get(value) ?? 'UNKNOWN';
}

// virNetworkXMLFlags — libvirt-libvirt-network.html#virNetworkXMLFlags
export const NetworkXMLFlags = {
  INACTIVE: 1,
} as const;

// virStorageXMLFlags — libvirt-libvirt-storage.html#virStorageXMLFlags
export const StorageXMLFlags = {
  INACTIVE: 1,
} as const;

// virInterfaceXMLFlags — libvirt-libvirt-interface.html#virInterfaceXMLFlags
export const InterfaceXMLFlags = {
  INACTIVE: 1,
} as const;

// virStoragePoolCreateFlags — libvirt-libvirt-storage.html#virStoragePoolCreateFlags
export const StoragePoolCreateFlags = {
  NORMAL: 0,
  WITH_BUILD: 1,
  WITH_BUILD_OVERWRITE: 2,
  WITH_BUILD_NO_OVERWRITE: 4,
} as const;

// virDomainDefineFlags — libvirt-libvirt-domain.html#virDomainDefineFlags
export const DomainDefineFlags = {
  VALIDATE: 1,
} as const;

// virDomainCreateFlags — libvirt-libvirt-domain.html#virDomainCreateFlags
export const DomainCreateFlags = {
  NONE: 0,
  START_PAUSED: 1,
  START_AUTODESTROY: 2,
  START_BYPASS_CACHE: 4,
  START_FORCE_BOOT: 8,
  START_VALIDATE: 16,
  START_RESET_NVRAM: 32,
} as const;

// VIR_MIGRATE_PARAM_* — libvirt-libvirt-domain.html#VIR_MIGRATE_PARAM_URI
export const VIR_MIGRATE_PARAM_URI = 'migrate_uri';
export const VIR_MIGRATE_PARAM_DEST_NAME = 'destination_name';
export const VIR_MIGRATE_PARAM_BANDWIDTH = 'bandwidth';
export const VIR_MIGRATE_PARAM_DEST_XML = 'destination_xml';
export const VIR_MIGRATE_PARAM_PERSIST_XML = 'persistent_xml';

// VIR_DOMAIN_JOB_* — libvirt-libvirt-domain.html#VIR_DOMAIN_JOB_OPERATION
export const DomainJobField = {
  OPERATION: 'operation',
  TIME_ELAPSED: 'time_elapsed',
  TIME_ELAPSED_NET: 'time_elapsed_net',
  TIME_REMAINING: 'time_remaining',
  DOWNTIME: 'downtime',
  DOWNTIME_NET: 'downtime_net',
  SETUP_TIME: 'setup_time',
  DATA_TOTAL: 'data_total',
  DATA_PROCESSED: 'data_processed',
  DATA_REMAINING: 'data_remaining',
  MEMORY_TOTAL: 'memory_total',
  MEMORY_PROCESSED: 'memory_processed',
  MEMORY_REMAINING: 'memory_remaining',
  MEMORY_CONSTANT: 'memory_constant',
  MEMORY_NORMAL: 'memory_normal',
  MEMORY_NORMAL_BYTES: 'memory_normal_bytes',
  MEMORY_BPS: 'memory_bps',
  MEMORY_DIRTY_RATE: 'memory_dirty_rate',
  MEMORY_PAGE_SIZE: 'memory_page_size',
  MEMORY_ITERATION: 'memory_iteration',
  MEMORY_POSTCOPY_REQS: 'memory_postcopy_requests',
  DISK_TOTAL: 'disk_total',
  DISK_PROCESSED: 'disk_processed',
  DISK_REMAINING: 'disk_remaining',
  DISK_BPS: 'disk_bps',
  COMPRESSION_CACHE: 'compression_cache',
  COMPRESSION_BYTES: 'compression_bytes',
  COMPRESSION_PAGES: 'compression_pages',
  COMPRESSION_CACHE_MISSES: 'compression_cache_misses',
  COMPRESSION_OVERFLOW: 'compression_overflow',
  AUTO_CONVERGE_THROTTLE: 'auto_converge_throttle',
  SUCCESS: 'success',
  ERRMSG: 'errmsg',
  DISK_TEMP_USED: 'disk_temp_used',
  DISK_TEMP_TOTAL: 'disk_temp_total',
} as const;

// virDomainSnapshotCreateFlags — libvirt-libvirt-domain-snapshot.html#virDomainSnapshotCreateFlags
export const DomainSnapshotCreateFlags = {
  REDEFINE: 1,
  CURRENT: 2,
  NO_METADATA: 4,
  HALT: 8,
  DISK_ONLY: 16,
  REUSE_EXT: 32,
  QUIESCE: 64,
  ATOMIC: 128,
  LIVE: 256,
  VALIDATE: 512,
} as const;

// virDomainSnapshotXMLFlags — libvirt-libvirt-domain-snapshot.html#virDomainSnapshotXMLFlags
export const DomainSnapshotXMLFlags = {
  SECURE: 1,
} as const;

// virDomainSnapshotListFlags — libvirt-libvirt-domain-snapshot.html#virDomainSnapshotListFlags
export const DomainSnapshotListFlags = {
  ROOTS: 1,
  DESCENDANTS: 1,
  METADATA: 2,
  LEAVES: 4,
  NO_LEAVES: 8,
  NO_METADATA: 16,
  INACTIVE: 32,
  ACTIVE: 64,
  DISK_ONLY: 128,
  INTERNAL: 256,
  EXTERNAL: 512,
  TOPOLOGICAL: 1024,
} as const;

// virDomainSnapshotRevertFlags — libvirt-libvirt-domain-snapshot.html#virDomainSnapshotRevertFlags
export const DomainSnapshotRevertFlags = {
  RUNNING: 1,
  PAUSED: 2,
  FORCE: 4,
  RESET_NVRAM: 8,
} as const;

// virDomainSnapshotDeleteFlags — libvirt-libvirt-domain-snapshot.html#virDomainSnapshotDeleteFlags
export const DomainSnapshotDeleteFlags = {
  CHILDREN: 1,
  METADATA_ONLY: 2,
  CHILDREN_ONLY: 4,
} as const;

// virDomainSaveRestoreFlags — libvirt-libvirt-domain.html#virDomainSaveRestoreFlags
export const DomainSaveRestoreFlags = {
  BYPASS_CACHE: 1,
  RUNNING: 2,
  PAUSED: 4,
  RESET_NVRAM: 8,
} as const;

// virDomainMetadataType — libvirt-libvirt-domain.html#virDomainMetadataType
export const DomainMetadataType = {
  DESCRIPTION: 0,
  TITLE: 1,
  ELEMENT: 2,
} as const;
export type DomainMetadataTypeName = keyof typeof DomainMetadataType;
const domainMetadataTypeNames = invert(DomainMetadataType);
export function domainMetadataTypeName(value: number): DomainMetadataTypeName | 'UNKNOWN' {
  return domainMetadataTypeNames.get(value) ?? 'UNKNOWN';
}

// virKeycodeSet — libvirt-libvirt-domain.html#virKeycodeSet
export const KeycodeSet = {
  LINUX: 0,
  XT: 1,
  ATSET1: 2,
  ATSET2: 3,
  ATSET3: 4,
  OSX: 5,
  XT_KBD: 6,
  USB: 7,
  WIN32: 8,
  QNUM: 9,
} as const;

// virDomainInterfaceAddressesSource — libvirt-libvirt-domain.html#virDomainInterfaceAddressesSource
export const DomainInterfaceAddressesSource = {
  LEASE: 0,
  AGENT: 1,
  ARP: 2,
} as const;

// virIPAddrType — libvirt-libvirt-network.html#virIPAddrType
export const IPAddrType = {
  IPV4: 0,
  IPV6: 1,
} as const;
export type IPAddrTypeName = keyof typeof IPAddrType;
const ipAddrTypeNames = invert(IPAddrType);
export function ipAddrTypeName(value: number): IPAddrTypeName | 'UNKNOWN' {
  return ipAddrTypeNames.get(value) ?? 'UNKNOWN';
}

// virDomainGuestInfoTypes — libvirt-libvirt-domain.html#virDomainGuestInfoTypes
export const DomainGuestInfoTypes = {
  USERS: 1,
  OS: 2,
  TIMEZONE: 4,
  HOSTNAME: 8,
  FILESYSTEM: 16,
  DISKS: 32,
  INTERFACES: 64,
} as const;

// virStorageVolResizeFlags — libvirt-libvirt-storage.html#virStorageVolResizeFlags
export const StorageVolResizeFlags = {
  ALLOCATE: 1,
  DELTA: 2,
  SHRINK: 4,
} as const;

// virStorageVolWipeAlgorithm — libvirt-libvirt-storage.html#virStorageVolWipeAlgorithm
export const StorageVolWipeAlgorithm = {
  ZERO: 0,
  NNSA: 1,
  DOD: 2,
  BSI: 3,
  GUTMANN: 4,
  SCHNEIER: 5,
  PFITZNER7: 6,
  PFITZNER33: 7,
  RANDOM: 8,
  TRIM: 9,
} as const;
