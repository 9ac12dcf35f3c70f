import { createCipheriv, createDecipheriv, createHash, createHmac, randomBytes } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { createGraphQLError, type Plugin } from 'graphql-yoga';
import type { AuthService } from '../auth/auth-service.ts';
import { AuthError, type Credentials } from '../auth/authenticator.ts';
import type { Identity } from '../auth/identity.ts';
import { adoptIdentity } from '../auth/use-authentication.ts';
import { unforgedGet } from './create-gate.ts';
import { type Expiring, newTicket, TICKET_SHAPE, type TicketStore } from './ticket-store.ts';

/** The URL parameter an EventSource sends its ticket in. */
export const STREAM_TICKET_PARAM = 'ticket';

/**
 * What a stream ticket stands for: one document (and its variables) for one identity, once. The
 * caller's credentials are kept sealed with a key derived from the ticket, which the store never
 * holds (it keys by another digest of it): a dump of the store, Redis included, opens nothing.
 */
export interface StreamGrant extends Expiring {
  identityKey: string;
  /** SHA-256 (hex) of the document's text. */
  document: string;
  /** SHA-256 (hex) of the variables as canonical JSON ({} when none). */
  variables: string;
  /** The credentials, AES-256-GCM under a key derived from the ticket: iv, tag, ciphertext (base64url). */
  sealed: string;
}

/** Why a request carrying a ticket is refused: 401 by default, 403 when the browser says another site sent it. */
export interface TicketRefusal {
  status?: 401 | 403;
  code: string;
  message: string;
}

const sha256Hex = (text: string) => createHash('sha256').update(text).digest('hex');

/** JSON with object keys sorted, so `{"a":1,"b":2}` and `{"b":2,"a":1}` bind alike. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value ?? null);
}

const variablesHash = (variables: unknown) => sha256Hex(canonicalJson(variables ?? {}));

const sealKey = (ticket: string) => createHmac('sha256', ticket).update('virtql stream-ticket credentials').digest();

function seal(ticket: string, credentials: Credentials): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', sealKey(ticket), iv);
  const plain = JSON.stringify({
    authorization: credentials.authorization ?? null,
    certificate: credentials.certificate,
  });
  const body = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
  return Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64url');
}

function unseal(ticket: string, sealed: string): Credentials | undefined {
  try {
    const raw = Buffer.from(sealed, 'base64url');
    const decipher = createDecipheriv('aes-256-gcm', sealKey(ticket), raw.subarray(0, 12));
    decipher.setAuthTag(raw.subarray(12, 28));
    const plain = Buffer.concat([decipher.update(raw.subarray(28)), decipher.final()]).toString('utf8');
    const { authorization, certificate } = JSON.parse(plain) as { authorization: string | null; certificate?: string };
    return { authorization, ...(certificate ? { certificate } : {}) };
  } catch {
    return undefined;
  }
}

export interface StreamTicketsOptions {
  store: TicketStore<StreamGrant>;
  auth: AuthService;
  /** @default 60 */
  ttlSeconds?: number;
  now?: () => number;
}

export interface IssueInput {
  identity: Identity;
  credentials: Credentials;
  query: string;
  variables?: Record<string, unknown> | null;
}

/**
 * Tickets that let a browser's EventSource (which cannot send Authorization) run one query or
 * subscription as the identity that asked for it: single use, short-lived, bound to the document
 * and its variables, taken on GET /graphql only, and only from the gateway's own pages or listed
 * origins. The stream then ends when those credentials are revoked, as any SSE stream does.
 */
export function createStreamTickets(options: StreamTicketsOptions) {
  const { store, auth } = options;
  const now = options.now ?? Date.now;
  const ttlMs = (options.ttlSeconds ?? 60) * 1000;
  /** The grant a request's ticket carried, for the document check once the request is parsed. */
  const redeemed = new WeakMap<Request, StreamGrant>();

  return {
    async issue(input: IssueInput): Promise<{ ticket: string; expiresAt: Date }> {
      const ticket = newTicket();
      const expiresAt = now() + ttlMs;
      await store.put(ticket, {
        identityKey: input.identity.key,
        document: sha256Hex(input.query),
        variables: variablesHash(input.variables),
        sealed: seal(ticket, input.credentials),
        expiresAt,
      });
      return { ticket, expiresAt: new Date(expiresAt) };
    },

    /**
     * The gate's authentication of a request that carries `?ticket=`: the ticket is used up
     * whatever follows, then the request must be a GET no other site made, and the sealed
     * credentials must still authenticate the identity the ticket was issued to.
     */
    async admit(request: Request, req: IncomingMessage | undefined): Promise<TicketRefusal | undefined> {
      if (request.method !== 'GET') {
        return {
          code: 'UNAUTHENTICATED',
          message: 'a stream ticket is taken on GET only (an EventSource URL); send Authorization instead',
        };
      }
      if (request.headers.has('authorization')) {
        return { code: 'INVALID_TOKEN', message: 'send a stream ticket or credentials, not both' };
      }
      const ticket = new URL(request.url).searchParams.get(STREAM_TICKET_PARAM) ?? '';
      const grant = TICKET_SHAPE.test(ticket) ? await store.take(ticket) : undefined;
      if (!grant) return { code: 'UNAUTHENTICATED', message: 'the stream ticket is unknown, expired or already used' };
      if (!unforgedGet(request)) {
        return {
          status: 403,
          code: 'FORBIDDEN',
          message: 'a stream ticket is not taken from a request another site made',
        };
      }
      const credentials = unseal(ticket, grant.sealed);
      if (!credentials) return { code: 'INVALID_TOKEN', message: 'the stream ticket cannot be opened' };
      let identity: Identity;
      try {
        identity = await auth.authenticate(credentials);
      } catch (e) {
        if (e instanceof AuthError) return { code: e.code, message: `the stream ticket's credentials: ${e.message}` };
        throw e;
      }
      if (identity.key !== grant.identityKey) {
        return { code: 'INVALID_TOKEN', message: 'the stream ticket was issued to another identity' };
      }
      adoptIdentity(request, identity, credentials, req);
      redeemed.set(request, grant);
      return undefined;
    },

    /** Runs after the trusted-documents rule: the document about to run must be the one the ticket names. */
    plugin: {
      onParams({ request, params }) {
        const grant = redeemed.get(request);
        if (!grant) return;
        const document = typeof params.query === 'string' ? sha256Hex(params.query) : '';
        if (document !== grant.document || variablesHash(params.variables) !== grant.variables) {
          throw createGraphQLError('this stream ticket was issued for another document or other variables', {
            extensions: { code: 'FORBIDDEN', http: { status: 403 } },
          });
        }
      },
    } satisfies Plugin,
  };
}

export type StreamTickets = ReturnType<typeof createStreamTickets>;
