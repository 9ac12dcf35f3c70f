// The libvirt enums, flags and field names the code uses, under the names it uses. Every number and
// string comes from enums.generated.ts (scripts/gen-libvirt-enums.ts, from libvirt-api.xml), which also
// names the tables (scripts/libvirt-enum-names.json says which C prefix each drops); this file adds
// the tables where the code wants a subset of libvirt's members, and lookups across two tables.
import {
  DomainEventType,
  DomainState,
  domainBlockedReasonName,
  domainCrashedReasonName,
  domainEventCrashedDetailTypeName,
  domainEventDefinedDetailTypeName,
  domainEventPMSuspendedDetailTypeName,
  domainEventResumedDetailTypeName,
  domainEventShutdownDetailTypeName,
  domainEventStartedDetailTypeName,
  domainEventStoppedDetailTypeName,
  domainEventSuspendedDetailTypeName,
  domainEventUndefinedDetailTypeName,
  domainNostateReasonName,
  domainPausedReasonName,
  domainPMSuspendedReasonName,
  domainRunningReasonName,
  domainShutdownReasonName,
  domainShutoffReasonName,
  virDomainBackupBeginFlags,
  virDomainBlockCommitFlags,
  virDomainBlockCopyFlags,
  virDomainBlockJobAbortFlags,
  virDomainBlockResizeFlags,
  virDomainEventID,
  virDomainGetJobStatsFlags,
  virStringMacros,
} from './enums.generated.ts';
import { members, nameOf, pick } from './name-lookup.ts';

export * from './enums.generated.ts';

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

// VIR_MIGRATE_PARAM_* — libvirt-libvirt-domain.html#VIR_MIGRATE_PARAM_URI
export const VIR_MIGRATE_PARAM_URI = virStringMacros.VIR_MIGRATE_PARAM_URI;
export const VIR_MIGRATE_PARAM_DEST_NAME = virStringMacros.VIR_MIGRATE_PARAM_DEST_NAME;
export const VIR_MIGRATE_PARAM_BANDWIDTH = virStringMacros.VIR_MIGRATE_PARAM_BANDWIDTH;
export const VIR_MIGRATE_PARAM_BANDWIDTH_POSTCOPY = virStringMacros.VIR_MIGRATE_PARAM_BANDWIDTH_POSTCOPY;
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

// Block job flags — libvirt-libvirt-domain.html#virDomainBlockCopyFlags
export const DomainBlockCopyFlags = members(virDomainBlockCopyFlags, 'VIR_DOMAIN_BLOCK_COPY_');
export const DomainBlockCommitFlags = members(virDomainBlockCommitFlags, 'VIR_DOMAIN_BLOCK_COMMIT_');
export const DomainBlockJobAbortFlags = members(virDomainBlockJobAbortFlags, 'VIR_DOMAIN_BLOCK_JOB_ABORT_');
export const DomainBlockResizeFlags = members(virDomainBlockResizeFlags, 'VIR_DOMAIN_BLOCK_RESIZE_');
export const DomainBackupBeginFlags = members(virDomainBackupBeginFlags, 'VIR_DOMAIN_BACKUP_BEGIN_');
export const DomainGetJobStatsFlags = members(virDomainGetJobStatsFlags, 'VIR_DOMAIN_JOB_STATS_');
