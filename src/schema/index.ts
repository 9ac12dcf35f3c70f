import { lexicographicSortSchema, printSchema } from 'graphql';
import { builder } from './builder.ts';
import './scalars.ts';
import './host.ts';
import './hypervisor.ts';
import './host-stats.ts';
import './host-interface.ts';
import './network.ts';
import './network-connection.ts';
import './storage-pool.ts';
import './volume.ts';
import './volume-connection.ts';
import './domain.ts';
import './domain-connection.ts';
import './domain-disk.ts';
import './domain-nic.ts';
import './domain-lifecycle.ts';
import './domain-create.ts';
import './domain-devices.ts';
import './domain-resources.ts';
import './domain-stats.ts';
import './domain-snapshot.ts';
import './domain-save.ts';
import './domain-actions.ts';
import './volume-actions.ts';
import './domain-guest.ts';
import './domain-console.ts';
import './network-actions.ts';
import './storage-actions.ts';
import './interface-actions.ts';
import './domain-migration.ts';
import './events.ts';
import './audit.ts';
import './operations.ts';
import './domain-clone.ts';

export const schema = builder.toSchema();

/** The SDL committed in schema/schema.graphql, sorted so it diffs well. */
export function printedSchema(): string {
  return `${printSchema(lexicographicSortSchema(schema))}\n`;
}
