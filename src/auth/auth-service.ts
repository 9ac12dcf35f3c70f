import type { AuthConfig } from '../config/security-schema.ts';
import { AuthError, Authenticator, type Credentials } from './authenticator.ts';
import type { Identity } from './identity.ts';

interface Session {
  credentials: Credentials;
  end(error: AuthError): void;
  timer?: NodeJS.Timeout;
}

/**
 * The gateway's current authenticator, and the long-lived sessions (WebSockets, subscriptions)
 * opened under it. `reload` swaps the configuration (SIGHUP) and ends every session whose
 * credentials no longer authenticate; a JWT session ends when its token expires.
 */
export class AuthService {
  #authenticator: Authenticator;
  readonly #sessions = new Set<Session>();

  constructor(config: AuthConfig) {
    this.#authenticator = new Authenticator(config);
  }

  get enabled(): boolean {
    return this.#authenticator.enabled;
  }

  authenticate(credentials: Credentials): Promise<Identity> {
    return this.#authenticator.authenticate(credentials);
  }

  /** Calls `end` once, when the session's credentials are revoked or expire. Returns the untrack function. */
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
    if (identity.expiresAt !== undefined) {
      session.timer = setTimeout(
        () => session.end(new AuthError('TOKEN_EXPIRED', 'token: the JWT has expired')),
        Math.max(0, identity.expiresAt - Date.now()),
      );
      session.timer.unref();
    }
    this.#sessions.add(session);
    return untrack;
  }

  /** Applies a new auth configuration; throws (keeping the old one) when it is invalid. */
  async reload(config: AuthConfig): Promise<void> {
    this.#authenticator = new Authenticator(config);
    await Promise.all(
      [...this.#sessions].map(async (s) => {
        try {
          await this.#authenticator.authenticate(s.credentials);
        } catch (e) {
          s.end(e instanceof AuthError ? e : new AuthError('INVALID_TOKEN', 'credentials no longer valid'));
        }
      }),
    );
  }

  get sessions(): number {
    return this.#sessions.size;
  }
}
