import { type Connection, Domain, LibvirtError, StoragePool, Volume, type VolumeInfo } from '../src/libvirt/index.ts';
import { parseDomainXmls } from '../src/libvirt/xml/domain-xml.ts';

export interface InventoryDomain {
  name: string;
  uuid: string;
  state: string | null;
  vcpus: number | null;
  memoryKiB: string | null;
  maxMemoryKiB: string | null;
  disks: Array<{
    sourcePath: string | null;
    volume: { name: string; capacityBytes: string | null; pool: { name: string } } | null;
  }>;
  interfaces: Array<{ mac: string | null; network: { name: string; active: boolean } | null }>;
}

function ok<T>(value: T | LibvirtError | undefined): T | undefined {
  return value instanceof LibvirtError ? undefined : value;
}

export async function handInventory(c: Connection): Promise<InventoryDomain[]> {
  const [domains, pools, networks, activeNetworks] = await Promise.all([
    c.domains(),
    c.storagePools('active'),
    c.networks(),
    c.networks('active'),
  ]);
  const volumesRound = StoragePool.volumesMany(pools).then(async (lists) => {
    const located = pools.flatMap((pool, i) => ok(lists[i])?.map((volume) => ({ volume, pool: pool.name })) ?? []);
    const infos = await Volume.infoMany(located.map((l) => l.volume));
    return new Map(located.map((l, i) => [l.volume.path, { ...l, info: ok<VolumeInfo>(infos[i]) }]));
  });
  const [infos, xmls, volumes] = await Promise.all([Domain.infoMany(domains), Domain.xmlMany(domains), volumesRound]);
  // The port's reader for libvirt's own documents: libxml2 on the pool, as the gateway reads them.
  const texts = xmls.map((x) => ok(x) ?? '<domain/>');
  const definitions = await parseDomainXmls(texts);
  const active = new Set(activeNetworks.map((n) => n.name));
  const known = new Set(networks.map((n) => n.name));
  return domains.map((d, i) => {
    const info = ok(infos[i]);
    const parsed = definitions[i];
    const def = ok(xmls[i]) === undefined || parsed instanceof Error ? undefined : parsed;
    const state = info?.state ?? 'UNKNOWN';
    return {
      name: d.name,
      uuid: d.uuid,
      state: state === 'UNKNOWN' ? null : state,
      vcpus: info?.vcpus ?? null,
      memoryKiB: info === undefined ? null : String(info.memoryKiB),
      maxMemoryKiB: info === undefined ? null : String(info.maxMemoryKiB),
      disks: (def?.disks ?? []).map((disk) => {
        const v = disk.sourcePath === undefined ? undefined : volumes.get(disk.sourcePath);
        return {
          sourcePath: disk.sourcePath ?? null,
          volume:
            v === undefined
              ? null
              : {
                  name: v.volume.name,
                  capacityBytes: v.info === undefined ? null : String(v.info.capacityBytes),
                  pool: { name: v.pool },
                },
        };
      }),
      interfaces: (def?.interfaces ?? []).map((nic) => {
        const network = nic.source.network;
        return {
          mac: nic.mac ?? null,
          network: network === undefined || !known.has(network) ? null : { name: network, active: active.has(network) },
        };
      }),
    };
  });
}
