import { domainDefinitions, LibvirtError } from '../../libvirt/index.ts';
import { inParallelChunks } from '../../libvirt/parallel-chunks.ts';
import type { DomainXml } from '../../libvirt/xml/domain-xml.ts';
import { normalPath } from '../../libvirt/xml/host-safety.ts';
import type { GatewayContext } from './context.ts';
import { connectionOf } from './hosts.ts';
import { perHost } from './request-cache.ts';

/**
 * The paths used as disk sources by domains of the host that the caller may not see: their live
 * definitions and, for running ones, their persistent definitions too (a disk attached for the
 * next boot is in use as well). A `<disk type='volume'>` counts by the path of the volume it
 * names. Read once per request, and only by callers not allowed to audit every domain.
 */
const hiddenDiskPaths = perHost(async (ctx, host): Promise<Set<string>> => {
  const c = await connectionOf(ctx, host);
  const hidden = (await c.domains()).filter((d) => !ctx.identity.can('VM.Audit', host, d.name));
  const reads = [
    ...hidden.map((d) => ({ d, inactive: false })),
    ...hidden.filter((d) => d.id !== -1).map((d) => ({ d, inactive: true })),
  ];
  // Through the connection's definition cache: libvirt is asked every time, a document is parsed once per change.
  const read = await Promise.all(
    [false, true].map((inactive) => {
      const list = reads.filter((r) => r.inactive === inactive).map((r) => r.d);
      return inParallelChunks(list, (chunk) => domainDefinitions(chunk, { inactive }));
    }),
  );
  // A domain undefined since the list has no definition left: it uses nothing. Any other failure
  // fails the read, rather than showing volumes that might be in use.
  const definitions = read.flat().filter((x): x is DomainXml => {
    if (x instanceof LibvirtError && x.codeName === 'NO_DOMAIN') return false;
    if (x instanceof Error) throw x;
    return true;
  });
  const paths = new Set<string>();
  const named: Array<{ pool: string; volume: string }> = [];
  for (const def of definitions) {
    for (const disk of def.disks) {
      if (disk.sourcePath !== undefined) paths.add(normalPath(disk.sourcePath));
      else if (disk.source.pool !== undefined && disk.source.volume !== undefined) {
        named.push({ pool: disk.source.pool, volume: disk.source.volume });
      }
    }
  }
  for (const { pool, volume } of named) {
    try {
      paths.add(normalPath((await (await c.storagePoolByName(pool)).volumeByName(volume)).path));
    } catch (e) {
      if (!(e instanceof LibvirtError && ['NO_STORAGE_POOL', 'NO_STORAGE_VOL'].includes(e.codeName))) throw e;
    }
  }
  return paths;
});

/**
 * Whether the volume at this path is used (as a disk source of any domain definition on the
 * host, inactive ones included) by a domain the caller may not VM.Audit: then the volume does
 * not exist for the caller either. Free for a caller who may audit every domain of the host;
 * otherwise one definition read per domain it cannot see, once per request.
 */
export async function volumeHiddenFrom(ctx: GatewayContext, host: string, volumePath: string): Promise<boolean> {
  if (ctx.identity.canAll('VM.Audit', host)) return false;
  return (await hiddenDiskPaths(ctx, host)).has(normalPath(volumePath));
}
