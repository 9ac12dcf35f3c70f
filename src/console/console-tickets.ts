import type { IdentityKind } from '../auth/identity.ts';
import {
  createMemoryTicketStore as createMemoryStore,
  createRedisTicketStore as createRedisStore,
  type TicketStore as GenericTicketStore,
  newTicket,
} from '../security/ticket-store.ts';

export type ConsoleKind = 'SERIAL' | 'VNC';

/** What a console ticket lets its holder open, and for whom it was issued. */
export interface ConsoleGrant {
  /** Identity.key of the caller of openConsole: a WebSocket that presents other credentials is refused. */
  identityKey: string;
  identityName: string;
  identityKind: IdentityKind;
  /** When the caller's JWT expires (ms since the epoch): the console closes then. */
  identityExpiresAt?: number;
  host: string;
  domainUuid: string;
  domainName: string;
  kind: ConsoleKind;
  /** The serial or console device alias; null for the first console (or the first display). */
  device: string | null;
  /** The peer address of the openConsole request, for the audit records. */
  source: string | null;
  /** ms since the epoch. */
  expiresAt: number;
}

/** Console tickets: single use, kept as digests (see ../security/ticket-store.ts). */
export type TicketStore = GenericTicketStore<ConsoleGrant>;

export function createMemoryTicketStore(now: () => number = Date.now): TicketStore {
  return createMemoryStore<ConsoleGrant>(now);
}

/** In Redis, so the replica that answers the WebSocket need not be the one that issued the ticket. */
export function createRedisTicketStore(url: string, now: () => number = Date.now): TicketStore {
  return createRedisStore<ConsoleGrant>(url, 'console-ticket', now);
}

/** What openConsole needs: a ticket for a grant, stored for `ttlSeconds`. */
export interface ConsoleTickets {
  issue(grant: Omit<ConsoleGrant, 'expiresAt'>): Promise<{ ticket: string; expiresAt: Date }>;
}

export function createConsoleTickets(
  store: TicketStore,
  ttlSeconds: number,
  now: () => number = Date.now,
): ConsoleTickets {
  return {
    async issue(grant) {
      const ticket = newTicket();
      const expiresAt = now() + ttlSeconds * 1000;
      await store.put(ticket, { ...grant, expiresAt });
      return { ticket, expiresAt: new Date(expiresAt) };
    },
  };
}
