import type { IncomingMessage } from 'node:http';
import type { TLSSocket } from 'node:tls';
import type { Credentials } from './authenticator.ts';

/** The fingerprint of a client certificate that the TLS layer verified against the configured CA. */
export function verifiedCertificate(req: IncomingMessage | undefined): string | undefined {
  const socket = req?.socket as Partial<TLSSocket> | undefined;
  if (!socket?.authorized || typeof socket.getPeerCertificate !== 'function') return undefined;
  const fingerprint = socket.getPeerCertificate().fingerprint256;
  return fingerprint ? fingerprint.replaceAll(':', '').toLowerCase() : undefined;
}

export function credentialsOf(authorization: string | null | undefined, req: IncomingMessage | undefined): Credentials {
  const certificate = verifiedCertificate(req);
  return { authorization: authorization ?? null, ...(certificate ? { certificate } : {}) };
}
