import { createHash, randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import type { IdentityKind } from '../auth/identity.ts';

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

/** Single-use tickets: `take` hands a grant out once, and never after it expired. */
export interface TicketStore {
  put(ticket: string, grant: ConsoleGrant): Promise<void>;
  take(ticket: string): Promise<ConsoleGrant | undefined>;
  close(): Promise<void>;
}

/** The store keeps a digest of each ticket, never the ticket: a dump of Redis opens no console. */
const digest = (ticket: string) => createHash('sha256').update(ticket).digest('base64url');

/** 32 random bytes, URL-safe: 256 bits nobody guesses within a ticket's seconds of life. */
export function newTicket(): string {
  return randomBytes(32).toString('base64url');
}

/** Tickets of this process only. */
export function createMemoryTicketStore(now: () => number = Date.now): TicketStore {
  const grants = new Map<string, ConsoleGrant>();
  const sweep = () => {
    const at = now();
    for (const [k, g] of grants) if (g.expiresAt <= at) grants.delete(k);
  };
  return {
    async put(ticket, grant) {
      sweep();
      grants.set(digest(ticket), grant);
    },
    async take(ticket) {
      const key = digest(ticket);
      const grant = grants.get(key);
      grants.delete(key);
      return grant && grant.expiresAt > now() ? grant : undefined;
    },
    async close() {
      grants.clear();
    },
  };
}

/**
 * Tickets in Redis, so the replica that answers the WebSocket need not be the one that issued
 * the ticket. GETDEL (Redis 6.2+) makes the take atomic: two replicas cannot both accept it.
 */
export function createRedisTicketStore(url: string, now: () => number = Date.now): TicketStore {
  const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 2 });
  const key = (ticket: string) => `virtql:console-ticket:${digest(ticket)}`;
  return {
    async put(ticket, grant) {
      await redis.set(key(ticket), JSON.stringify(grant), 'PX', Math.max(1, grant.expiresAt - now()));
    },
    async take(ticket) {
      const value = await redis.getdel(key(ticket));
      if (value === null) return undefined;
      const grant = JSON.parse(value) as ConsoleGrant;
      return grant.expiresAt > now() ? grant : undefined;
    },
    async close() {
      redis.disconnect();
    },
  };
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
