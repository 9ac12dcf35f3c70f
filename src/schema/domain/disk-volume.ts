import { type Connection, Domain, LibvirtError, type StoragePool, Volume } from '../../libvirt/index.ts';
import { type DomainDisk, parseDomainXml } from '../../libvirt/xml/domain-xml.ts';
import { parseVolumeXml } from '../../libvirt/xml/volume-xml.ts';
import type { GatewayContext } from '../core/context.ts';
import { invalidInput, notFound } from '../core/errors.ts';
import { requireOnPool } from '../storage/pool-grants.ts';

/** The pool volume behind a disk: the one a volume disk names, or the one at its source path; undefined when no pool holds it. */
export async function volumeBehind(c: Connection, d: DomainDisk): Promise<Volume | undefined> {
  try {
    if (d.type === 'volume' && d.source.pool !== undefined && d.source.volume !== undefined) {
      return await (await c.storagePoolByName(d.source.pool)).volumeByName(d.source.volume);
    }
    return d.sourcePath === undefined ? undefined : await c.volumeByPath(d.sourcePath);
  } catch (e) {
    if (e instanceof LibvirtError && ['NO_STORAGE_VOL', 'NO_STORAGE_POOL', 'INVALID_ARG'].includes(e.codeName)) {
      return undefined;
    }
    throw e;
  }
}

/** A domain's disk by its guest target (vda…), as the domain runs now (or as defined, when it is off). */
export async function diskOf(host: string, domain: Domain, target: string): Promise<DomainDisk> {
  const disk = parseDomainXml(await domain.xml()).disks.find((d) => d.target.dev === target);
  if (disk === undefined) throw notFound('disk', target, { host, domain: domain.name, field: 'disk' });
  return disk;
}

/** A writable disk's pool volume and pool, after checking that the caller holds `privileges` on that pool. */
export async function diskVolume(
  ctx: GatewayContext,
  host: string,
  c: Connection,
  disk: DomainDisk,
  privileges: Parameters<typeof requireOnPool>[3],
  field: string,
): Promise<{ volume: Volume; pool: StoragePool }> {
  if (disk.device !== 'disk' || disk.readonly || disk.shareable) {
    throw invalidInput(
      'disk',
      `${disk.target.dev} is a ${disk.readonly ? 'read-only ' : ''}${disk.device}; only writable, unshared disks can be changed`,
    );
  }
  const volume = await volumeBehind(c, disk);
  if (!volume) {
    throw invalidInput(
      'disk',
      `${disk.target.dev} (${disk.sourcePath ?? disk.type}) is not a storage volume of a pool`,
    );
  }
  const pool = await volume.pool();
  requireOnPool(ctx, host, pool.name, privileges, field, `the pool of disk ${disk.target.dev}`);
  return { volume, pool };
}

/**
 * Who else reads the image at `path`: other domains whose disks use it (as their source or in
 * their backing chain, live or as defined), and volumes of active pools layered on it, apart from
 * the layers of `self`'s own disk (`ownChain`). Changing or deleting it would change their data.
 */
export async function otherUsersOf(
  c: Connection,
  self: Domain,
  path: string,
  ownChain: readonly string[],
): Promise<string[]> {
  const users = new Set<string>();
  const others = (await c.domains()).filter((d) => d.uuid !== self.uuid);
  const [live, defined] = await Promise.all([Domain.xmlMany(others), Domain.xmlMany(others, { inactive: true })]);
  others.forEach((d, i) => {
    for (const xml of [live[i], defined[i]]) {
      if (typeof xml !== 'string') continue;
      for (const disk of parseDomainXml(xml).disks) {
        const paths = [disk.sourcePath, ...disk.backingChain.map((b) => b.path)];
        if (paths.includes(path)) users.add(`domain ${d.name}`);
      }
    }
  });
  const pools = await c.storagePools('active');
  const volumes = (await Promise.all(pools.map((p) => p.volumes().catch(() => [])))).flat();
  const xmls = await Volume.xmlMany(volumes);
  volumes.forEach((v, i) => {
    const xml = xmls[i];
    if (typeof xml !== 'string' || ownChain.includes(v.path)) return;
    if (parseVolumeXml(xml).backingStore?.path === path) users.add(`volume ${v.path}`);
  });
  return [...users];
}
