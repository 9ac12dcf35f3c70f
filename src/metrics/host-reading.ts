import type { Connection, DomainStatsType } from '../libvirt/connection.ts';
import { Domain } from '../libvirt/domain.ts';
import { type DomainStatsRecord, parseDomainStats } from '../libvirt/domain-stats.ts';
import { StoragePoolState } from '../libvirt/enums.ts';
import { LibvirtError } from '../libvirt/errors.ts';
import { StoragePool } from '../libvirt/storage-pool.ts';

export interface DomainReading {
  name: string;
  uuid: string;
  stats: DomainStatsRecord;
}

export interface PoolReading {
  name: string;
  /** virStoragePoolState. */
  state: number;
  capacityBytes: number;
  allocationBytes: number;
  availableBytes: number;
}

export interface HostReading {
  domains: DomainReading[];
  pools: PoolReading[];
  networks: Array<{ name: string; active: boolean }>;
}

const GROUPS: DomainStatsType[] = ['STATE', 'CPU_TOTAL', 'BALLOON', 'VCPU', 'INTERFACE', 'BLOCK'];

const lacksBasics = ({ stats }: DomainReading) =>
  stats.cpu.timeNs === undefined || stats.balloon.currentKiB === undefined || stats.vcpu.current === undefined;

/**
 * Everything /metrics shows of one host: one bulk stats call for every domain, the pool and
 * network lists, and one batch call for the pools' sizes. Drivers whose stats lack CPU time or
 * memory (the test driver reports state only) get them from one batch virDomainGetInfo call.
 */
export async function readHost(connection: Connection): Promise<HostReading> {
  const [rows, pools, networks, active] = await Promise.all([
    // NOWAIT: a domain busy in a job reports what it can instead of holding up the whole host.
    connection.allDomainStats(GROUPS, 'all', { enforce: false, nowait: true }),
    connection.storagePools(),
    connection.networks(),
    connection.networks('active'),
  ]);
  const domains = rows.map(({ domain, params }) => ({
    name: domain.name,
    uuid: domain.uuid,
    stats: parseDomainStats(params),
  }));
  const lacking = domains.flatMap((d, i) => (lacksBasics(d) ? [i] : []));
  const [infos, poolInfos] = await Promise.all([
    lacking.length > 0 ? Domain.infoMany(lacking.map((i) => (rows[i] as (typeof rows)[number]).domain)) : [],
    pools.length > 0 ? StoragePool.infoMany(pools) : [],
  ]);
  lacking.forEach((at, i) => {
    const info = infos[i];
    const stats = domains[at]?.stats;
    if (info === undefined || info instanceof LibvirtError || stats === undefined) return;
    stats.cpu.timeNs ??= info.cpuTimeNs;
    stats.balloon.currentKiB ??= info.memoryKiB;
    stats.balloon.maximumKiB ??= info.maxMemoryKiB;
    stats.vcpu.current ??= info.vcpus;
  });
  const activeNames = new Set(active.map((n) => n.name));
  return {
    domains,
    pools: pools.flatMap((pool, i) => {
      const info = poolInfos[i];
      if (info === undefined || info instanceof LibvirtError) return [];
      return [
        {
          name: pool.name,
          state: info.state === 'UNKNOWN' ? -1 : StoragePoolState[info.state],
          capacityBytes: Number(info.capacityBytes),
          allocationBytes: Number(info.allocationBytes),
          availableBytes: Number(info.availableBytes),
        },
      ];
    }),
    networks: networks.map((n) => ({ name: n.name, active: activeNames.has(n.name) })),
  };
}
