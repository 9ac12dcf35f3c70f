import type { Connection, Domain, StoragePool, Volume } from '../../libvirt/index.ts';
import { type ClonedSource, cloneDomainXml } from '../../libvirt/xml/domain-clone-xml.ts';
import type { DomainXml } from '../../libvirt/xml/domain-xml.ts';
import type { GatewayContext } from '../core/context.ts';
import { gatewayError, invalidInput } from '../core/errors.ts';
import { checkBuiltXml } from '../core/host-safety.ts';
import { changed } from '../core/mutation-support.ts';

/** Where a cloneDomain or restoreDomainBackup operation is. */
export interface CloneProgressShape {
  /** COPYING_DISKS, DEFINING, DONE, or UNDOING after a failure. */
  step: 'COPYING_DISKS' | 'DEFINING' | 'DONE' | 'UNDOING';
  disksDone: number;
  disksTotal: number;
  /** The guest target of the disk being copied. */
  currentDisk?: string;
}

/** A failed clone's or restore's error, with where it stopped. */
export type CloneFailure = Error & { cloneProgress?: CloneProgressShape };

/** One new volume made from an existing one: a full copy (virStorageVolCreateXMLFrom) or a qcow2 overlay on it. */
export interface PlannedCopy {
  /** The guest target (vda…) the new volume serves in the new domain. */
  disk: string;
  source: Volume;
  /** The pool the new volume is made in. */
  pool: StoragePool;
  /** The new volume's XML (buildVolumeXml). */
  volumeXml: string;
  /** An overlay on the source (its XML names it as backing store) instead of a copy. */
  linked: boolean;
  /** The new domain names it as `<disk type='volume'>` (else by its file path). */
  asVolume: boolean;
}

/** What copyDisksThenDefine made. */
export interface CopiedDisks {
  volumes: Volume[];
  domain?: Domain;
}

/**
 * Makes each planned volume in turn, then (with `define`) defines a domain edited from `define.xml`
 * by cloneDomainXml (the new name, no UUID or MACs, the disks on the new volumes). Every built XML
 * passes the host-safety policy. When a step fails or `cancelled()` turns true between steps, what
 * was made is removed (domain undefined, volumes deleted) and the error, carrying the progress, is thrown.
 */
export async function copyDisksThenDefine(
  ctx: GatewayContext,
  host: string,
  c: Connection,
  copies: readonly PlannedCopy[],
  define: { xml: string; name: string } | undefined,
  progress: CloneProgressShape,
  cancelled: () => boolean,
  what: string,
): Promise<CopiedDisks> {
  const made: Volume[] = [];
  let defined: Domain | undefined;
  try {
    const sources = new Map<string, ClonedSource>();
    for (const copy of copies) {
      if (cancelled()) throw gatewayError('INVALID_STATE', `${what} was cancelled`);
      progress.currentDisk = copy.disk;
      await checkBuiltXml(ctx, host, 'volume', 'name', copy.volumeXml);
      const volume = copy.linked
        ? await copy.pool.createVolume(copy.volumeXml)
        : await copy.pool.cloneVolume(copy.volumeXml, copy.source);
      made.push(volume);
      sources.set(copy.disk, copy.asVolume ? { pool: copy.pool.name, volume: volume.name } : { file: volume.path });
      progress.disksDone += 1;
    }
    if (cancelled()) throw gatewayError('INVALID_STATE', `${what} was cancelled`);
    progress.currentDisk = undefined;
    if (define) {
      progress.step = 'DEFINING';
      const xml = cloneDomainXml(define.xml, { name: define.name, disks: sources });
      await checkBuiltXml(ctx, host, 'domain', 'domain', xml);
      defined = await c.defineDomain(xml);
    }
    progress.step = 'DONE';
    changed(ctx);
    return { volumes: made, ...(defined ? { domain: defined } : {}) };
  } catch (e) {
    progress.step = 'UNDOING';
    await defined?.undefine().catch(() => undefined);
    for (const v of made.reverse()) await v.delete().catch(() => undefined);
    if (e instanceof Error) (e as CloneFailure).cloneProgress = { ...progress };
    throw e;
  }
}

/**
 * FORBIDDEN unless the caller holds VM.Allocate on the new domain's name too (a grant limited to
 * name globs must cover it); INVALID_INPUT (`field`) when the host has a domain of that name.
 */
export async function requireNewDomainName(
  ctx: GatewayContext,
  host: string,
  c: Connection,
  name: string,
  mutation: string,
  field: string,
): Promise<void> {
  if (!ctx.identity.can('VM.Allocate', host, name)) {
    throw gatewayError('FORBIDDEN', `${ctx.identity.name} lacks VM.Allocate on domain ${name}`, {
      privilege: 'VM.Allocate',
      host,
      domain: name,
      field: mutation,
    });
  }
  const exists = await c.domainByName(name).then(
    () => true,
    () => false,
  );
  if (exists) throw invalidInput(field, `a domain named ${name} already exists on host ${host}`);
}

/** UNSUPPORTED for a domain that keeps UEFI variables (NVRAM): a copy would share its file with the source. */
export function refuseUefiVariables(parsed: DomainXml, domain: string, mutation: string): void {
  if (parsed.os.nvram !== undefined || parsed.os.loaderType === 'pflash') {
    throw gatewayError('UNSUPPORTED', `domain ${domain} keeps UEFI variables (NVRAM); ${mutation} does not copy them`);
  }
}
