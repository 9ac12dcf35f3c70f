import type { IdentityKind } from '../auth/identity.ts';

/** One root mutation field as it ran: who asked, from where, what, on which host, and how it ended. */
export interface AuditRecord {
  /** When the field started, ISO 8601. */
  time: string;
  identity: { name: string; kind: IdentityKind };
  /** The peer address of the HTTP request or WebSocket; null in-process. */
  source: string | null;
  /** The `host` argument, or the default host when it was omitted. */
  host: string;
  /** The mutation field's name. */
  operation: string;
  /** The arguments as given, with XML bodies and secrets reduced to a digest and size. */
  arguments: Record<string, unknown>;
  /** `ok`, or the error's `extensions.code`. */
  result: string;
  durationMs: number;
}
