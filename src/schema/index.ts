import { lexicographicSortSchema, printSchema } from 'graphql';
import { builder } from './core/builder.ts';
import { echoClientMutationIds } from './core/client-mutation-id.ts';
import './core/scalars.ts';
import './host/host.ts';
import './host/hypervisor.ts';
import './host/stats.ts';
import './host/devices.ts';
import './host-interface/host-interface.ts';
import './network/network.ts';
import './network/connection.ts';
import './storage/pool.ts';
import './storage/volume.ts';
import './storage/volume-connection.ts';
import './domain/domain.ts';
import './domain/connection.ts';
import './domain/disk.ts';
import './domain/nic.ts';
import './domain/lifecycle.ts';
import './domain/create.ts';
import './domain/devices.ts';
import './domain/hostdev.ts';
import './domain/resources.ts';
import './domain/update.ts';
import './domain/stats.ts';
import './domain/snapshot.ts';
import './domain/save.ts';
import './domain/actions.ts';
import './storage/volume-actions.ts';
import './storage/volume-transfer.ts';
import './storage/volume-import.ts';
import './domain/guest.ts';
import './domain/console.ts';
import './network/actions.ts';
import './storage/actions.ts';
import './host-interface/actions.ts';
import './domain/migration.ts';
import './events/events.ts';
import './audit/audit.ts';
import './operations/operations.ts';
import './operations/post-copy.ts';
import './domain/clone.ts';
import './secret/secret.ts';
import './secret/actions.ts';
import './domain/block-job.ts';
import './domain/disk-move.ts';
import './domain/disk-flatten.ts';
import './domain/disk-resize.ts';
import './domain/backup.ts';
import './domain/checkpoint.ts';
import './viewer/viewer.ts';
import './stream-ticket/stream-ticket.ts';

export const schema = echoClientMutationIds(builder.toSchema());

/** The SDL committed in schema/schema.graphql, sorted so it diffs well. */
export function printedSchema(): string {
  return `${printSchema(lexicographicSortSchema(schema))}\n`;
}
