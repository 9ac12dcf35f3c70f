// The libvirt enums, flags and field names the code uses, under the names it uses. Every number and
// string comes from enums.generated.ts (scripts/gen-libvirt-enums.ts, from libvirt-api.xml); this file
// only says which C prefix each table drops and, where the code wants a subset, which members it keeps.
import {
  virConnectCloseReason,
  virConnectDomainEventAgentLifecycleReason,
  virConnectDomainEventAgentLifecycleState,
  virConnectDomainEventBlockJobStatus,
  virConnectGetAllDomainStatsFlags,
  virConnectListAllDomainsFlags,
  virConnectListAllInterfacesFlags,
  virConnectListAllNetworksFlags,
  virConnectListAllStoragePoolsFlags,
  virDomainBlockedReason,
  virDomainBlockJobType,
  virDomainCrashedReason,
  virDomainCreateFlags,
  virDomainDefineFlags,
  virDomainDestroyFlagsValues,
  virDomainDeviceModifyFlags,
  virDomainEventCrashedDetailType,
  virDomainEventDefinedDetailType,
  virDomainEventID,
  virDomainEventIOErrorAction,
  virDomainEventPMSuspendedDetailType,
  virDomainEventResumedDetailType,
  virDomainEventShutdownDetailType,
  virDomainEventStartedDetailType,
  virDomainEventStoppedDetailType,
  virDomainEventSuspendedDetailType,
  virDomainEventTrayChangeReason,
  virDomainEventType,
  virDomainEventUndefinedDetailType,
  virDomainEventWatchdogAction,
  virDomainGetJobStatsFlags,
  virDomainGuestInfoTypes,
  virDomainInterfaceAddressesSource,
  virDomainJobType,
  virDomainMemoryModFlags,
  virDomainMetadataType,
  virDomainMigrateFlags,
  virDomainModificationImpact,
  virDomainNostateReason,
  virDomainPausedReason,
  virDomainPMSuspendedReason,
  virDomainRebootFlagValues,
  virDomainRunningReason,
  virDomainSaveRestoreFlags,
  virDomainShutdownFlagValues,
  virDomainShutdownReason,
  virDomainShutoffReason,
  virDomainSnapshotCreateFlags,
  virDomainSnapshotDeleteFlags,
  virDomainSnapshotListFlags,
  virDomainSnapshotRevertFlags,
  virDomainSnapshotXMLFlags,
  virDomainState,
  virDomainStatsTypes,
  virDomainUndefineFlagsValues,
  virDomainVcpuFlags,
  virDomainXMLFlags,
  virInterfaceXMLFlags,
  virIPAddrType,
  virKeycodeSet,
  virNetworkEventLifecycleType,
  virNetworkXMLFlags,
  virStoragePoolBuildFlags,
  virStoragePoolCreateFlags,
  virStoragePoolEventLifecycleType,
  virStoragePoolState,
  virStorageVolCreateFlags,
  virStorageVolDeleteFlags,
  virStorageVolResizeFlags,
  virStorageVolType,
  virStorageVolWipeAlgorithm,
  virStorageXMLFlags,
  virStringMacros,
} from './enums.generated.ts';
import { members, nameOf, pick } from './name-lookup.ts';

// virDomainState — libvirt-libvirt-domain.html#virDomainState
export const DomainState = members(virDomainState, 'VIR_DOMAIN_');
export type DomainStateName = keyof typeof DomainState;
export const domainStateName = nameOf(DomainState);

// virDomainRunningReason — libvirt-libvirt-domain.html#virDomainRunningReason
export const DomainRunningReason = members(virDomainRunningReason, 'VIR_DOMAIN_RUNNING_');
export type DomainRunningReasonName = keyof typeof DomainRunningReason;
export const domainRunningReasonName = nameOf(DomainRunningReason);

// virDomainPausedReason — libvirt-libvirt-domain.html#virDomainPausedReason
export const DomainPausedReason = members(virDomainPausedReason, 'VIR_DOMAIN_PAUSED_');
export type DomainPausedReasonName = keyof typeof DomainPausedReason;
export const domainPausedReasonName = nameOf(DomainPausedReason);

// virDomainShutdownReason — libvirt-libvirt-domain.html#virDomainShutdownReason
export const DomainShutdownReason = members(virDomainShutdownReason, 'VIR_DOMAIN_SHUTDOWN_');
export type DomainShutdownReasonName = keyof typeof DomainShutdownReason;
export const domainShutdownReasonName = nameOf(DomainShutdownReason);

// virDomainShutoffReason — libvirt-libvirt-domain.html#virDomainShutoffReason
export const DomainShutoffReason = members(virDomainShutoffReason, 'VIR_DOMAIN_SHUTOFF_');
export type DomainShutoffReasonName = keyof typeof DomainShutoffReason;
export const domainShutoffReasonName = nameOf(DomainShutoffReason);

// virDomainCrashedReason — libvirt-libvirt-domain.html#virDomainCrashedReason
export const DomainCrashedReason = members(virDomainCrashedReason, 'VIR_DOMAIN_CRASHED_');
export type DomainCrashedReasonName = keyof typeof DomainCrashedReason;
export const domainCrashedReasonName = nameOf(DomainCrashedReason);

// virDomainBlockedReason — libvirt-libvirt-domain.html#virDomainBlockedReason
export const DomainBlockedReason = members(virDomainBlockedReason, 'VIR_DOMAIN_BLOCKED_');
export type DomainBlockedReasonName = keyof typeof DomainBlockedReason;
export const domainBlockedReasonName = nameOf(DomainBlockedReason);

// virDomainNostateReason — libvirt-libvirt-domain.html#virDomainNostateReason
export const DomainNostateReason = members(virDomainNostateReason, 'VIR_DOMAIN_NOSTATE_');
export type DomainNostateReasonName = keyof typeof DomainNostateReason;
export const domainNostateReasonName = nameOf(DomainNostateReason);

// virDomainPMSuspendedReason — libvirt-libvirt-domain.html#virDomainPMSuspendedReason
export const DomainPMSuspendedReason = members(virDomainPMSuspendedReason, 'VIR_DOMAIN_PMSUSPENDED_');
export type DomainPMSuspendedReasonName = keyof typeof DomainPMSuspendedReason;
export const domainPMSuspendedReasonName = nameOf(DomainPMSuspendedReason);

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
export const DomainEventType = members(virDomainEventType, 'VIR_DOMAIN_EVENT_');
export type DomainEventTypeName = keyof typeof DomainEventType;
export const domainEventTypeName = nameOf(DomainEventType);

// virDomainEventDefinedDetailType — libvirt-libvirt-domain.html#virDomainEventDefinedDetailType
export const DomainEventDefinedDetailType = members(virDomainEventDefinedDetailType, 'VIR_DOMAIN_EVENT_DEFINED_');
export type DomainEventDefinedDetailTypeName = keyof typeof DomainEventDefinedDetailType;
export const domainEventDefinedDetailTypeName = nameOf(DomainEventDefinedDetailType);

// virDomainEventUndefinedDetailType — libvirt-libvirt-domain.html#virDomainEventUndefinedDetailType
export const DomainEventUndefinedDetailType = members(virDomainEventUndefinedDetailType, 'VIR_DOMAIN_EVENT_UNDEFINED_');
export type DomainEventUndefinedDetailTypeName = keyof typeof DomainEventUndefinedDetailType;
export const domainEventUndefinedDetailTypeName = nameOf(DomainEventUndefinedDetailType);

// virDomainEventStartedDetailType — libvirt-libvirt-domain.html#virDomainEventStartedDetailType
export const DomainEventStartedDetailType = members(virDomainEventStartedDetailType, 'VIR_DOMAIN_EVENT_STARTED_');
export type DomainEventStartedDetailTypeName = keyof typeof DomainEventStartedDetailType;
export const domainEventStartedDetailTypeName = nameOf(DomainEventStartedDetailType);

// virDomainEventSuspendedDetailType — libvirt-libvirt-domain.html#virDomainEventSuspendedDetailType
export const DomainEventSuspendedDetailType = members(virDomainEventSuspendedDetailType, 'VIR_DOMAIN_EVENT_SUSPENDED_');
export type DomainEventSuspendedDetailTypeName = keyof typeof DomainEventSuspendedDetailType;
export const domainEventSuspendedDetailTypeName = nameOf(DomainEventSuspendedDetailType);

// virDomainEventResumedDetailType — libvirt-libvirt-domain.html#virDomainEventResumedDetailType
export const DomainEventResumedDetailType = members(virDomainEventResumedDetailType, 'VIR_DOMAIN_EVENT_RESUMED_');
export type DomainEventResumedDetailTypeName = keyof typeof DomainEventResumedDetailType;
export const domainEventResumedDetailTypeName = nameOf(DomainEventResumedDetailType);

// virDomainEventStoppedDetailType — libvirt-libvirt-domain.html#virDomainEventStoppedDetailType
export const DomainEventStoppedDetailType = members(virDomainEventStoppedDetailType, 'VIR_DOMAIN_EVENT_STOPPED_');
export type DomainEventStoppedDetailTypeName = keyof typeof DomainEventStoppedDetailType;
export const domainEventStoppedDetailTypeName = nameOf(DomainEventStoppedDetailType);

// virDomainEventShutdownDetailType — libvirt-libvirt-domain.html#virDomainEventShutdownDetailType
export const DomainEventShutdownDetailType = members(virDomainEventShutdownDetailType, 'VIR_DOMAIN_EVENT_SHUTDOWN_');
export type DomainEventShutdownDetailTypeName = keyof typeof DomainEventShutdownDetailType;
export const domainEventShutdownDetailTypeName = nameOf(DomainEventShutdownDetailType);

// virDomainEventPMSuspendedDetailType — libvirt-libvirt-domain.html#virDomainEventPMSuspendedDetailType
export const DomainEventPMSuspendedDetailType = members(
  virDomainEventPMSuspendedDetailType,
  'VIR_DOMAIN_EVENT_PMSUSPENDED_',
);
export type DomainEventPMSuspendedDetailTypeName = keyof typeof DomainEventPMSuspendedDetailType;
export const domainEventPMSuspendedDetailTypeName = nameOf(DomainEventPMSuspendedDetailType);

// virDomainEventCrashedDetailType — libvirt-libvirt-domain.html#virDomainEventCrashedDetailType
export const DomainEventCrashedDetailType = members(virDomainEventCrashedDetailType, 'VIR_DOMAIN_EVENT_CRASHED_');
export type DomainEventCrashedDetailTypeName = keyof typeof DomainEventCrashedDetailType;
export const domainEventCrashedDetailTypeName = nameOf(DomainEventCrashedDetailType);

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
export const DomainEventID = pick(members(virDomainEventID, 'VIR_DOMAIN_EVENT_ID_'), [
  'REBOOT',
  'WATCHDOG',
  'IO_ERROR_REASON',
  'TRAY_CHANGE',
  'BALLOON_CHANGE',
  'DEVICE_REMOVED',
  'BLOCK_JOB_2',
  'AGENT_LIFECYCLE',
  'DEVICE_ADDED',
  'MIGRATION_ITERATION',
  'METADATA_CHANGE',
]);
export type DomainEventIDName = keyof typeof DomainEventID;
export const domainEventIDName = nameOf(DomainEventID);

// virDomainBlockJobType — libvirt-libvirt-domain.html#virDomainBlockJobType
export const DomainBlockJobType = members(virDomainBlockJobType, 'VIR_DOMAIN_BLOCK_JOB_TYPE_');
export type DomainBlockJobTypeName = keyof typeof DomainBlockJobType;
export const domainBlockJobTypeName = nameOf(DomainBlockJobType);

// virConnectDomainEventBlockJobStatus — libvirt-libvirt-domain.html#virConnectDomainEventBlockJobStatus
export const ConnectDomainEventBlockJobStatus = members(virConnectDomainEventBlockJobStatus, 'VIR_DOMAIN_BLOCK_JOB_');
export type ConnectDomainEventBlockJobStatusName = keyof typeof ConnectDomainEventBlockJobStatus;
export const connectDomainEventBlockJobStatusName = nameOf(ConnectDomainEventBlockJobStatus);

// virConnectDomainEventAgentLifecycleState — libvirt-libvirt-domain.html#virConnectDomainEventAgentLifecycleState
export const ConnectDomainEventAgentLifecycleState = members(
  virConnectDomainEventAgentLifecycleState,
  'VIR_CONNECT_DOMAIN_EVENT_AGENT_LIFECYCLE_STATE_',
);
export type ConnectDomainEventAgentLifecycleStateName = keyof typeof ConnectDomainEventAgentLifecycleState;
export const connectDomainEventAgentLifecycleStateName = nameOf(ConnectDomainEventAgentLifecycleState);

// virConnectDomainEventAgentLifecycleReason — libvirt-libvirt-domain.html#virConnectDomainEventAgentLifecycleReason
export const ConnectDomainEventAgentLifecycleReason = members(
  virConnectDomainEventAgentLifecycleReason,
  'VIR_CONNECT_DOMAIN_EVENT_AGENT_LIFECYCLE_REASON_',
);
export type ConnectDomainEventAgentLifecycleReasonName = keyof typeof ConnectDomainEventAgentLifecycleReason;
export const connectDomainEventAgentLifecycleReasonName = nameOf(ConnectDomainEventAgentLifecycleReason);

// virDomainEventTrayChangeReason — libvirt-libvirt-domain.html#virDomainEventTrayChangeReason
export const DomainEventTrayChangeReason = members(virDomainEventTrayChangeReason, 'VIR_DOMAIN_EVENT_TRAY_CHANGE_');
export type DomainEventTrayChangeReasonName = keyof typeof DomainEventTrayChangeReason;
export const domainEventTrayChangeReasonName = nameOf(DomainEventTrayChangeReason);

// virDomainEventWatchdogAction — libvirt-libvirt-domain.html#virDomainEventWatchdogAction
export const DomainEventWatchdogAction = members(virDomainEventWatchdogAction, 'VIR_DOMAIN_EVENT_WATCHDOG_');
export type DomainEventWatchdogActionName = keyof typeof DomainEventWatchdogAction;
export const domainEventWatchdogActionName = nameOf(DomainEventWatchdogAction);

// virDomainEventIOErrorAction — libvirt-libvirt-domain.html#virDomainEventIOErrorAction
export const DomainEventIOErrorAction = members(virDomainEventIOErrorAction, 'VIR_DOMAIN_EVENT_IO_ERROR_');
export type DomainEventIOErrorActionName = keyof typeof DomainEventIOErrorAction;
export const domainEventIOErrorActionName = nameOf(DomainEventIOErrorAction);

// virNetworkEventLifecycleType — libvirt-libvirt-network.html#virNetworkEventLifecycleType
export const NetworkEventLifecycleType = members(virNetworkEventLifecycleType, 'VIR_NETWORK_EVENT_');
export type NetworkEventLifecycleTypeName = keyof typeof NetworkEventLifecycleType;
export const networkEventLifecycleTypeName = nameOf(NetworkEventLifecycleType);

// virStoragePoolEventLifecycleType — libvirt-libvirt-storage.html#virStoragePoolEventLifecycleType
export const StoragePoolEventLifecycleType = members(virStoragePoolEventLifecycleType, 'VIR_STORAGE_POOL_EVENT_');
export type StoragePoolEventLifecycleTypeName = keyof typeof StoragePoolEventLifecycleType;
export const storagePoolEventLifecycleTypeName = nameOf(StoragePoolEventLifecycleType);

// virStoragePoolState — libvirt-libvirt-storage.html#virStoragePoolState
export const StoragePoolState = members(virStoragePoolState, 'VIR_STORAGE_POOL_');
export type StoragePoolStateName = keyof typeof StoragePoolState;
export const storagePoolStateName = nameOf(StoragePoolState);

// virStorageVolType — libvirt-libvirt-storage.html#virStorageVolType
export const StorageVolType = members(virStorageVolType, 'VIR_STORAGE_VOL_');
export type StorageVolTypeName = keyof typeof StorageVolType;
export const storageVolTypeName = nameOf(StorageVolType);

// virConnectListAllDomainsFlags — libvirt-libvirt-domain.html#virConnectListAllDomainsFlags
export const ConnectListAllDomainsFlags = members(virConnectListAllDomainsFlags, 'VIR_CONNECT_LIST_DOMAINS_');

// virConnectListAllNetworksFlags — libvirt-libvirt-network.html#virConnectListAllNetworksFlags
export const ConnectListAllNetworksFlags = members(virConnectListAllNetworksFlags, 'VIR_CONNECT_LIST_NETWORKS_');

// virConnectListAllStoragePoolsFlags — libvirt-libvirt-storage.html#virConnectListAllStoragePoolsFlags
export const ConnectListAllStoragePoolsFlags = members(
  virConnectListAllStoragePoolsFlags,
  'VIR_CONNECT_LIST_STORAGE_POOLS_',
);

// virConnectListAllInterfacesFlags — libvirt-libvirt-interface.html#virConnectListAllInterfacesFlags
export const ConnectListAllInterfacesFlags = members(virConnectListAllInterfacesFlags, 'VIR_CONNECT_LIST_INTERFACES_');

// virDomainModificationImpact — libvirt-libvirt-domain.html#virDomainModificationImpact
export const DomainModificationImpact = members(virDomainModificationImpact, 'VIR_DOMAIN_AFFECT_');

// virDomainDeviceModifyFlags — libvirt-libvirt-domain.html#virDomainDeviceModifyFlags
export const DomainDeviceModifyFlags = members(virDomainDeviceModifyFlags, 'VIR_DOMAIN_DEVICE_MODIFY_');

// virDomainVcpuFlags — libvirt-libvirt-domain.html#virDomainVcpuFlags
export const DomainVcpuFlags = members(virDomainVcpuFlags, 'VIR_DOMAIN_VCPU_');

// virDomainMemoryModFlags — libvirt-libvirt-domain.html#virDomainMemoryModFlags
export const DomainMemoryModFlags = members(virDomainMemoryModFlags, 'VIR_DOMAIN_MEM_');

// virDomainXMLFlags — libvirt-libvirt-domain.html#virDomainXMLFlags
export const DomainXMLFlags = members(virDomainXMLFlags, 'VIR_DOMAIN_XML_');

// virDomainUndefineFlagsValues — libvirt-libvirt-domain.html#virDomainUndefineFlagsValues
export const DomainUndefineFlagsValues = members(virDomainUndefineFlagsValues, 'VIR_DOMAIN_UNDEFINE_');

// virDomainDestroyFlagsValues — libvirt-libvirt-domain.html#virDomainDestroyFlagsValues
export const DomainDestroyFlagsValues = members(virDomainDestroyFlagsValues, 'VIR_DOMAIN_DESTROY_');

// virDomainShutdownFlagValues — libvirt-libvirt-domain.html#virDomainShutdownFlagValues
export const DomainShutdownFlagValues = members(virDomainShutdownFlagValues, 'VIR_DOMAIN_SHUTDOWN_');

// virDomainRebootFlagValues — libvirt-libvirt-domain.html#virDomainRebootFlagValues
export const DomainRebootFlagValues = members(virDomainRebootFlagValues, 'VIR_DOMAIN_REBOOT_');

// virDomainMigrateFlags — libvirt-libvirt-domain.html#virDomainMigrateFlags
export const DomainMigrateFlags = members(virDomainMigrateFlags, 'VIR_MIGRATE_');

// virStoragePoolBuildFlags — libvirt-libvirt-storage.html#virStoragePoolBuildFlags
export const StoragePoolBuildFlags = members(virStoragePoolBuildFlags, 'VIR_STORAGE_POOL_BUILD_');

// virStorageVolCreateFlags — libvirt-libvirt-storage.html#virStorageVolCreateFlags
export const StorageVolCreateFlags = members(virStorageVolCreateFlags, 'VIR_STORAGE_VOL_CREATE_');

// virStorageVolDeleteFlags — libvirt-libvirt-storage.html#virStorageVolDeleteFlags
export const StorageVolDeleteFlags = members(virStorageVolDeleteFlags, 'VIR_STORAGE_VOL_DELETE_');

// virDomainStatsTypes — libvirt-libvirt-domain.html#virDomainStatsTypes
export const DomainStatsTypes = members(virDomainStatsTypes, 'VIR_DOMAIN_STATS_');

// virConnectGetAllDomainStatsFlags — libvirt-libvirt-domain.html#virConnectGetAllDomainStatsFlags
export const ConnectGetAllDomainStatsFlags = members(
  virConnectGetAllDomainStatsFlags,
  'VIR_CONNECT_GET_ALL_DOMAINS_STATS_',
);

// virDomainJobType — libvirt-libvirt-domain.html#virDomainJobType
export const DomainJobType = members(virDomainJobType, 'VIR_DOMAIN_JOB_');
export type DomainJobTypeName = keyof typeof DomainJobType;
export const domainJobTypeName = nameOf(DomainJobType);

// virDomainGetJobStatsFlags — libvirt-libvirt-domain.html#virDomainGetJobStatsFlags
export const DomainGetJobStatsFlags = members(virDomainGetJobStatsFlags, 'VIR_DOMAIN_JOB_STATS_');

// virConnectCloseReason — libvirt-libvirt-common.html#virConnectCloseReason
export const ConnectCloseReason = members(virConnectCloseReason, 'VIR_CONNECT_CLOSE_REASON_');
export type ConnectCloseReasonName = keyof typeof ConnectCloseReason;
export const connectCloseReasonName = nameOf(ConnectCloseReason);

// virNetworkXMLFlags — libvirt-libvirt-network.html#virNetworkXMLFlags
export const NetworkXMLFlags = members(virNetworkXMLFlags, 'VIR_NETWORK_XML_');

// virStorageXMLFlags — libvirt-libvirt-storage.html#virStorageXMLFlags
export const StorageXMLFlags = members(virStorageXMLFlags, 'VIR_STORAGE_XML_');

// virInterfaceXMLFlags — libvirt-libvirt-interface.html#virInterfaceXMLFlags
export const InterfaceXMLFlags = members(virInterfaceXMLFlags, 'VIR_INTERFACE_XML_');

// virStoragePoolCreateFlags — libvirt-libvirt-storage.html#virStoragePoolCreateFlags
export const StoragePoolCreateFlags = members(virStoragePoolCreateFlags, 'VIR_STORAGE_POOL_CREATE_');

// virDomainDefineFlags — libvirt-libvirt-domain.html#virDomainDefineFlags
export const DomainDefineFlags = members(virDomainDefineFlags, 'VIR_DOMAIN_DEFINE_');

// virDomainCreateFlags — libvirt-libvirt-domain.html#virDomainCreateFlags
export const DomainCreateFlags = members(virDomainCreateFlags, 'VIR_DOMAIN_');

// VIR_MIGRATE_PARAM_* — libvirt-libvirt-domain.html#VIR_MIGRATE_PARAM_URI
export const VIR_MIGRATE_PARAM_URI = virStringMacros.VIR_MIGRATE_PARAM_URI;
export const VIR_MIGRATE_PARAM_DEST_NAME = virStringMacros.VIR_MIGRATE_PARAM_DEST_NAME;
export const VIR_MIGRATE_PARAM_BANDWIDTH = virStringMacros.VIR_MIGRATE_PARAM_BANDWIDTH;
export const VIR_MIGRATE_PARAM_DEST_XML = virStringMacros.VIR_MIGRATE_PARAM_DEST_XML;
export const VIR_MIGRATE_PARAM_PERSIST_XML = virStringMacros.VIR_MIGRATE_PARAM_PERSIST_XML;

// VIR_DOMAIN_JOB_* — libvirt-libvirt-domain.html#VIR_DOMAIN_JOB_OPERATION
export const DomainJobField = pick(members(virStringMacros, 'VIR_DOMAIN_JOB_'), [
  'OPERATION',
  'TIME_ELAPSED',
  'TIME_ELAPSED_NET',
  'TIME_REMAINING',
  'DOWNTIME',
  'DOWNTIME_NET',
  'SETUP_TIME',
  'DATA_TOTAL',
  'DATA_PROCESSED',
  'DATA_REMAINING',
  'MEMORY_TOTAL',
  'MEMORY_PROCESSED',
  'MEMORY_REMAINING',
  'MEMORY_CONSTANT',
  'MEMORY_NORMAL',
  'MEMORY_NORMAL_BYTES',
  'MEMORY_BPS',
  'MEMORY_DIRTY_RATE',
  'MEMORY_PAGE_SIZE',
  'MEMORY_ITERATION',
  'MEMORY_POSTCOPY_REQS',
  'DISK_TOTAL',
  'DISK_PROCESSED',
  'DISK_REMAINING',
  'DISK_BPS',
  'COMPRESSION_CACHE',
  'COMPRESSION_BYTES',
  'COMPRESSION_PAGES',
  'COMPRESSION_CACHE_MISSES',
  'COMPRESSION_OVERFLOW',
  'AUTO_CONVERGE_THROTTLE',
  'SUCCESS',
  'ERRMSG',
  'DISK_TEMP_USED',
  'DISK_TEMP_TOTAL',
]);

// virDomainSnapshotCreateFlags — libvirt-libvirt-domain-snapshot.html#virDomainSnapshotCreateFlags
export const DomainSnapshotCreateFlags = members(virDomainSnapshotCreateFlags, 'VIR_DOMAIN_SNAPSHOT_CREATE_');

// virDomainSnapshotXMLFlags — libvirt-libvirt-domain-snapshot.html#virDomainSnapshotXMLFlags
export const DomainSnapshotXMLFlags = members(virDomainSnapshotXMLFlags, 'VIR_DOMAIN_SNAPSHOT_XML_');

// virDomainSnapshotListFlags — libvirt-libvirt-domain-snapshot.html#virDomainSnapshotListFlags
export const DomainSnapshotListFlags = members(virDomainSnapshotListFlags, 'VIR_DOMAIN_SNAPSHOT_LIST_');

// virDomainSnapshotRevertFlags — libvirt-libvirt-domain-snapshot.html#virDomainSnapshotRevertFlags
export const DomainSnapshotRevertFlags = members(virDomainSnapshotRevertFlags, 'VIR_DOMAIN_SNAPSHOT_REVERT_');

// virDomainSnapshotDeleteFlags — libvirt-libvirt-domain-snapshot.html#virDomainSnapshotDeleteFlags
export const DomainSnapshotDeleteFlags = members(virDomainSnapshotDeleteFlags, 'VIR_DOMAIN_SNAPSHOT_DELETE_');

// virDomainSaveRestoreFlags — libvirt-libvirt-domain.html#virDomainSaveRestoreFlags
export const DomainSaveRestoreFlags = members(virDomainSaveRestoreFlags, 'VIR_DOMAIN_SAVE_');

// virDomainMetadataType — libvirt-libvirt-domain.html#virDomainMetadataType
export const DomainMetadataType = members(virDomainMetadataType, 'VIR_DOMAIN_METADATA_');
export type DomainMetadataTypeName = keyof typeof DomainMetadataType;
export const domainMetadataTypeName = nameOf(DomainMetadataType);

// virKeycodeSet — libvirt-libvirt-domain.html#virKeycodeSet
export const KeycodeSet = members(virKeycodeSet, 'VIR_KEYCODE_SET_');

// virDomainInterfaceAddressesSource — libvirt-libvirt-domain.html#virDomainInterfaceAddressesSource
export const DomainInterfaceAddressesSource = members(
  virDomainInterfaceAddressesSource,
  'VIR_DOMAIN_INTERFACE_ADDRESSES_SRC_',
);

// virIPAddrType — libvirt-libvirt-network.html#virIPAddrType
export const IPAddrType = members(virIPAddrType, 'VIR_IP_ADDR_TYPE_');
export type IPAddrTypeName = keyof typeof IPAddrType;
export const ipAddrTypeName = nameOf(IPAddrType);

// virDomainGuestInfoTypes — libvirt-libvirt-domain.html#virDomainGuestInfoTypes
export const DomainGuestInfoTypes = members(virDomainGuestInfoTypes, 'VIR_DOMAIN_GUEST_INFO_');

// virStorageVolResizeFlags — libvirt-libvirt-storage.html#virStorageVolResizeFlags
export const StorageVolResizeFlags = members(virStorageVolResizeFlags, 'VIR_STORAGE_VOL_RESIZE_');

// virStorageVolWipeAlgorithm — libvirt-libvirt-storage.html#virStorageVolWipeAlgorithm
export const StorageVolWipeAlgorithm = members(virStorageVolWipeAlgorithm, 'VIR_STORAGE_VOL_WIPE_ALG_');
