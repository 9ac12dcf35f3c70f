import type { AuthConfig } from '../config/security-schema.ts';
import { AuthError, Authenticator, type Credentials } from './authenticator.ts';
import type { Identity } from './identity.ts';

/** setTimeout's longest delay, about 24.8 days. */
const MAX_TIMER_MS = 2 ** 31 - 1;

interface Session {
  credentials: Credentials;
  end(error: AuthError): void;
  timer?: NodeJS.Timeout;
}

/** Ends the session at `expiresAt` (ms since the epoch), re-arming past setTimeout's longest delay. */
function endAtExpiry(session: Session, expiresAt: number): void {
  const remaining = expiresAt - Date.now();
  if (remaining <= 0) {
    session.end(new AuthError('TOKEN_EXPIRED', 'token: the JWT has expired'));
    return;
  }
  // A longer delay would make setTimeout fire at once, ending a month-long JWT's session immediately.
  session.timer = setTimeout(() => endAtExpiry(session, expiresAt), Math.min(remaining, MAX_TIMER_MS));
  session.timer.unref();
}

/**
 * The gateway's current authenticator, and the long-lived sessions (WebSockets, subscriptions)
 * opened under it. `reload` swaps the configuration (SIGHUP) and ends every session whose
 * credentials no longer authenticate; a JWT session ends when its token expires.
 */
export class AuthService {
  #authenticator: Authenticator;
  readonly #sessions = new Set<Session>();
  /** Which configuration each identity was resolved under. */
  readonly #issuedBy = new WeakMap<Identity, Authenticator>();

  constructor(config: AuthConfig) {
    this.#authenticator = new Authenticator(config);
  }

  get enabled(): boolean {
    return this.#authenticator.enabled;
  }

  async authenticate(credentials: Credentials): Promise<Identity> {
    const authenticator = this.#authenticator;
    const identity = await authenticator.authenticate(credentials);
    this.#issuedBy.set(identity, authenticator);
    return identity;
  }

  /**
   * Calls `end` once, when the session's credentials are revoked or expire. Returns the untrack
   * function. An identity resolved under a configuration that a reload has since replaced is
   * checked again, so a session opened while a reload ran is not missed.
   */
  track(credentials: Credentials, identity: Identity, end: (error: AuthError) => void): () => void {
    const session: Session = {
      credentials,
      end: (error) => {
        untrack();
        end(error);
      },
    };
    const untrack = () => {
      clearTimeout(session.timer);
      this.#sessions.delete(session);
    };
    this.#sessions.add(session);
    if (identity.expiresAt !== undefined) endAtExpiry(session, identity.expiresAt);
    if (this.#issuedBy.get(identity) !== this.#authenticator) void this.#recheck(session);
    return untrack;
  }

  /**
   * Applies a new auth configuration; throws (keeping the old one) when it is invalid, or when it
   * has no identity left while the current one has: every caller would become the anonymous
   * admin on an address chosen at start for authenticated use (0.0.0.0 by default).
   */
  async reload(config: AuthConfig): Promise<void> {
    const next = new Authenticator(config);
    if (this.enabled && !next.enabled) {
      throw new Error(
        'auth: the new configuration has no tokens, jwt or certificates, which would let anyone in as admin; restart the gateway to run without identities',
      );
    }
    this.#authenticator = next;
    await Promise.all([...this.#sessions].map((s) => this.#recheck(s)));
  }

  async #recheck(session: Session): Promise<void> {
    if (!this.#sessions.has(session)) return;
    try {
      await this.#authenticator.authenticate(session.credentials);
    } catch (e) {
      if (!this.#sessions.has(session)) return;
      session.end(e instanceof AuthError ? e : new AuthError('INVALID_TOKEN', 'credentials no longer valid'));
    }
  }

  get sessions(): number {
    return this.#sessions.size;
  }
}
