import { createHash, randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';

/** What a ticket stands for; it is worth nothing after `expiresAt` (ms since the epoch). */
export interface Expiring {
  expiresAt: number;
}

/** Single-use tickets: `take` hands a grant out once, and never after it expired. */
export interface TicketStore<G extends Expiring> {
  put(ticket: string, grant: G): Promise<void>;
  take(ticket: string): Promise<G | undefined>;
  close(): Promise<void>;
}

/** The store keeps a digest of each ticket, never the ticket: a dump of the store opens nothing. */
const digest = (ticket: string) => createHash('sha256').update(ticket).digest('base64url');

/** 32 random bytes, URL-safe: 256 bits nobody guesses within a ticket's seconds of life. */
export function newTicket(): string {
  return randomBytes(32).toString('base64url');
}

/** What newTicket gives, exactly: anything else is no ticket (and is not looked up). */
export const TICKET_SHAPE = /^[A-Za-z0-9_-]{43}$/;

/** Tickets of this process only. */
export function createMemoryTicketStore<G extends Expiring>(now: () => number = Date.now): TicketStore<G> {
  const grants = new Map<string, G>();
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
 * Tickets in Redis under `virtql:<kind>:`, so the replica that takes a ticket need not be the one
 * that issued it. GETDEL (Redis 6.2+) makes the take atomic: two replicas cannot both accept it.
 * Grants go as JSON.
 */
export function createRedisTicketStore<G extends Expiring>(
  url: string,
  kind: string,
  now: () => number = Date.now,
): TicketStore<G> {
  const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 2 });
  const key = (ticket: string) => `virtql:${kind}:${digest(ticket)}`;
  return {
    async put(ticket, grant) {
      await redis.set(key(ticket), JSON.stringify(grant), 'PX', Math.max(1, grant.expiresAt - now()));
    },
    async take(ticket) {
      const value = await redis.getdel(key(ticket));
      if (value === null) return undefined;
      const grant = JSON.parse(value) as G;
      return grant.expiresAt > now() ? grant : undefined;
    },
    async close() {
      redis.disconnect();
    },
  };
}
