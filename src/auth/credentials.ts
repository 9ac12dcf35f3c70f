import type { IncomingMessage } from 'node:http';
import type { TLSSocket } from 'node:tls';
import type { Credentials } from './authenticator.ts';

/**
 * What the TLS layer made of the client certificate, if one was presented: its SHA-256
 * fingerprint once verified against the configured CA, else why it was not verified.
 */
export function clientCertificate(
  req: IncomingMessage | undefined,
): Pick<Credentials, 'certificate' | 'rejectedCertificate'> {
  const socket = req?.socket as Partial<TLSSocket> | undefined;
  if (typeof socket?.getPeerCertificate !== 'function') return {};
  const fingerprint = socket.getPeerCertificate().fingerprint256;
  if (!fingerprint) return {};
  if (!socket.authorized) return { rejectedCertificate: String(socket.authorizationError ?? 'not verified') };
  return { certificate: fingerprint.replaceAll(':', '').toLowerCase() };
}

export function credentialsOf(authorization: string | null | undefined, req: IncomingMessage | undefined): Credentials {
  return { authorization: authorization ?? null, ...clientCertificate(req) };
}
