import { X509Certificate } from 'node:crypto';
import { Gauge, type Registry } from 'prom-client';

/**
 * virtql_tls_certificate_expiry_timestamp_seconds: when the serving certificate (the first of the
 * configured chain) stops being valid, for the certificate-expiry alert. Read once, at start.
 */
export function collectCertificateExpiry(registry: Registry, certificate: Buffer): void {
  let notAfter: number;
  try {
    notAfter = Date.parse(new X509Certificate(certificate).validTo) / 1000;
  } catch {
    return;
  }
  const gauge = new Gauge({
    name: 'virtql_tls_certificate_expiry_timestamp_seconds',
    help: 'When the HTTPS certificate the gateway serves expires (Unix time).',
    registers: [registry],
  });
  gauge.set(notAfter);
}
