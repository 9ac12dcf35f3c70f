import type { Connection, DomainStatsType } from '../libvirt/connection.ts';
import { Domain } from '../libvirt/domain.ts';
import { type DomainStatsRecord, parseDomainStats } from '../libvirt/domain-stats.ts';
import { StoragePoolState } from '../libvirt/enums.ts';
import { LibvirtError } from '../libvirt/errors.ts';
import { StoragePool } from '../libvirt/storage-pool.ts';
import { parseDomainXml } from '../libvirt/xml/domain-xml.ts';

export interface DomainReading {
  name: string;
  uuid: string;
  stats: DomainStatsRecord;
  /** The host bridge behind each interface, by its host-side device (vnet0): prometheus-libvirt-exporter's source_bridge. */
  bridges: ReadonlyMap<string, string>;
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
    bridges: NO_BRIDGES as ReadonlyMap<string, string>,
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
  await readBridges(connection, rows, domains);
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

const NO_BRIDGES: ReadonlyMap<string, string> = new Map();

/** Per connection: each domain's bridges, with the interface devices they were read for. */
const bridgeCache = new WeakMap<Connection, Map<string, { devices: string; bridges: ReadonlyMap<string, string> }>>();

/**
 * The bridges of the domains' interfaces, from their XML (the stats do not carry them). Read again,
 * in one batch call, only for domains whose interface devices changed since (started, hot-plugged),
 * so a scrape does not fetch every domain's XML.
 */
async function readBridges(
  connection: Connection,
  rows: ReadonlyArray<{ domain: Domain }>,
  domains: DomainReading[],
): Promise<void> {
  let cache = bridgeCache.get(connection);
  if (cache === undefined) {
    cache = new Map();
    bridgeCache.set(connection, cache);
  }
  const stale: number[] = [];
  const seen = new Set<string>();
  domains.forEach((d, i) => {
    seen.add(d.uuid);
    const devices = d.stats.nics.flatMap((n) => (n.name === undefined ? [] : [n.name])).join(',');
    if (devices === '') return;
    const cached = cache.get(d.uuid);
    if (cached?.devices === devices) d.bridges = cached.bridges;
    else stale.push(i);
  });
  for (const uuid of cache.keys()) if (!seen.has(uuid)) cache.delete(uuid);
  if (stale.length === 0) return;
  const xmls = await Domain.xmlMany(stale.map((i) => (rows[i] as (typeof rows)[number]).domain));
  stale.forEach((at, i) => {
    const xml = xmls[i];
    const d = domains[at];
    if (d === undefined || xml === undefined || xml instanceof LibvirtError) return;
    const bridges = new Map<string, string>();
    try {
      for (const nic of parseDomainXml(xml).interfaces) {
        if (nic.targetDev !== undefined && nic.source.bridge !== undefined)
          bridges.set(nic.targetDev, nic.source.bridge);
      }
    } catch {
      return;
    }
    d.bridges = bridges;
    cache.set(d.uuid, {
      devices: d.stats.nics.flatMap((n) => (n.name === undefined ? [] : [n.name])).join(','),
      bridges,
    });
  });
}
