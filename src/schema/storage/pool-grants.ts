import type { Privilege } from '../../auth/privileges.ts';
import type { GatewayContext } from '../core/context.ts';
import { gatewayError } from '../core/errors.ts';

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
