import type { Privilege } from '../../auth/privileges.ts';
import { LibvirtError, type StoragePool } from '../../libvirt/index.ts';
import type { GatewayContext } from '../core/context.ts';
import { gatewayError, notFound } from '../core/errors.ts';
import { connectionOf } from '../core/hosts.ts';

/**
 * A pool a mutation names (in `field`), as the caller may see it: NOT_FOUND when the host has none
 * of that name or the caller may not audit it (the same answer, so a hidden pool is not revealed).
 */
export async function visiblePool(
  ctx: GatewayContext,
  host: string,
  name: string,
  field = 'pool',
): Promise<StoragePool> {
  if (!ctx.identity.can('Storage.Audit', host, name)) throw notFound('storage pool', name, { host, field });
  try {
    return await (await connectionOf(ctx, host)).storagePoolByName(name);
  } catch (e) {
    if (e instanceof LibvirtError && e.codeName === 'NO_STORAGE_POOL')
      throw notFound('storage pool', name, { host, field }, e);
    throw e;
  }
}

/**
 * FORBIDDEN unless the caller holds every privilege on the pool, for a mutation (`field`, e.g.
 * `Mutation.cloneDomain`) that reads or makes volumes there. A pool the caller may not audit is
 * named in no answer: `unseen` says what to call it instead (e.g. "the pool of disk vda").
 */
export function requireOnPool(
  ctx: GatewayContext,
  host: string,
  pool: string,
  privileges: readonly Privilege[],
  field: string,
  unseen: string,
): void {
  const seen = ctx.identity.can('Storage.Audit', host, pool);
  const where = seen ? `pool ${pool}` : unseen;
  for (const privilege of privileges) {
    if (!ctx.identity.can(privilege, host, pool)) {
      throw gatewayError('FORBIDDEN', `${ctx.identity.name} lacks ${privilege} on ${where} for ${field}`, {
        privilege,
        host,
        ...(seen ? { pool } : {}),
        field,
      });
    }
  }
}
