import type { IncomingMessage } from 'node:http';
import type { AuthService } from '../auth/auth-service.ts';
import { AuthError } from '../auth/authenticator.ts';
import { credentialsOf } from '../auth/credentials.ts';
import { isLoopback } from '../config/security.ts';
import { isLoopbackHost } from '../security/loopback-host.ts';

export type MetricsRefusal = { status: 401 | 403; code: string; message: string };

const remoteIsLoopback = (req: IncomingMessage | undefined) => {
  const address = req?.socket.remoteAddress;
  // In-process requests (yoga.fetch) have no socket.
  return address === undefined || isLoopback(address.replace(/^::ffff:/, ''));
};

/**
 * Who may read /metrics on the GraphQL port: an identity holding Sys.Audit on some host. Without
 * identities (development) every caller is the anonymous admin, so only loopback callers that
 * name a loopback host (no DNS rebinding) may. Resolves to undefined when allowed.
 */
export async function refuseMetrics(
  auth: AuthService,
  request: Request,
  req: IncomingMessage | undefined,
): Promise<MetricsRefusal | undefined> {
  if (!auth.enabled) {
    const host = request.headers.get('host') ?? new URL(request.url).host;
    if (remoteIsLoopback(req) && isLoopbackHost(host)) return undefined;
    return { status: 403, code: 'FORBIDDEN', message: 'without identities /metrics answers loopback callers only' };
  }
  try {
    const identity = await auth.authenticate(credentialsOf(request.headers.get('authorization'), req));
    if (identity.canAnywhere('Sys.Audit')) return undefined;
    return { status: 403, code: 'FORBIDDEN', message: '/metrics needs the Sys.Audit privilege' };
  } catch (e) {
    if (e instanceof AuthError) return { status: 401, code: e.code, message: e.message };
    throw e;
  }
}
