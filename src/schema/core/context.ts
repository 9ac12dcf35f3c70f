import type { Logger } from 'pino';
import type { Identity } from '../../auth/identity.ts';
import type { ImagesConfig } from '../../config/transfer-schema.ts';
import type { ConsoleTickets } from '../../console/console-tickets.ts';
import type { EventHub } from '../../events/event-hub.ts';
import type { ObjectLocks } from '../../hosts/object-locks.ts';
import type { Connection } from '../../libvirt/index.ts';
import type { HostSafetyConfig } from '../../libvirt/xml/host-safety.ts';
import type { OperationTracker } from '../../operations/operation-tracker.ts';
import type { StatsSamplers } from '../../stats/stats-samplers.ts';
import type { VolumeTransfers } from '../../transfer/volume-transfers.ts';

/** What the schema needs of the host registry: named libvirt connections. */
export interface HostSource {
  readonly defaultName: string;
  names(): string[];
  has(name: string): boolean;
  uri(name: string): string;
  connection(name: string): Promise<Connection>;
  status(name: string): { connected: boolean; lastError?: string };
}

/** Per-request context. Loaders hang off it through Pothos' context caches, so they live per request. */
export interface GatewayContext {
  hosts: HostSource;
  /** Live libvirt events, for subscriptions. */
  events: EventHub;
  /** Long actions (migrations) running in the background. */
  operations: OperationTracker;
  /** Per-object locks (shared through Redis by replicas) that serialise lifecycle actions on one domain. @default this process's */
  locks?: ObjectLocks;
  /** Shared per-host stats samplers, for the domainStats subscription. */
  stats: StatsSamplers;
  /** Set by the transport that can drop a subscriber which stopped reading (graphql-ws closes its socket). */
  onSlowConsumer?: (error: Error) => void;
  /** Who is calling: what the scopes and list filters check. */
  identity: Identity;
  /** The request's id (its x-request-id, or a new one), which every line of `log` carries. */
  requestId: string;
  log: Logger;
  /** Where openConsole's tickets are kept, and the WebSocket path that takes them. */
  consoles?: { tickets: ConsoleTickets; path: string };
  /** Where createStreamTicket issues an EventSource's ticket and URL (HTTP requests only: the ticket seals their credentials). */
  streamTickets?: {
    issue(
      request: Request,
      query: string,
      variables: Record<string, unknown> | null,
    ): Promise<{ ticket: string; url: string; expiresAt: Date }>;
  };
  /** Where uploadVolume and downloadVolume issue their URLs (and importVolume records its audit). */
  transfers?: VolumeTransfers;
  /** Where importVolume may fetch from. @default nowhere */
  images?: ImagesConfig;
  /** The operator's allowUnsafeClientUris: whether client-given URIs may run programs or read files. */
  allowUnsafeClientUris?: boolean;
  /** The operator's storage roots, allowed XML elements and XML size cap. @default defaultHostSafety() */
  hostSafety?: HostSafetyConfig;
}
