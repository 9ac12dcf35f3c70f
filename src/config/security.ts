import { readFile } from 'node:fs/promises';
import { isIP } from 'node:net';
import { resolve } from 'node:path';
import { resolveRoles } from '../auth/privileges.ts';
import { defaultHostSafety, type HostSafetyConfig } from '../libvirt/xml/host-safety.ts';
import type { ConfigProblem } from './config-error.ts';
import type { ConfigFile } from './config-schema.ts';
import { type PersistedDocuments, readPersistedDocuments } from './persisted-documents.ts';
import {
  type AuditConfig,
  type AuthConfig,
  auditSchema,
  authSchema,
  type ConsolesConfig,
  type CorsConfig,
  consolesSchema,
  corsSchema,
  type LimitsConfig,
  limitsSchema,
  type MetricsConfig,
  metricsSchema,
  type TracingConfig,
} from './security-schema.ts';
import { type ImagesConfig, imagesSchema, type TransfersConfig, transfersSchema } from './transfer-schema.ts';

/** TLS material, read from the configured files. */
export interface TlsMaterial {
  cert: Buffer;
  key: Buffer;
  /** Client certificates signed by this CA may authenticate. */
  clientCa?: Buffer;
}

/** Who may call, from where, and how much. */
export interface SecurityConfig {
  auth: AuthConfig;
  tls?: TlsMaterial;
  cors: CorsConfig;
  limits: LimitsConfig;
  audit: AuditConfig;
  graphiql: boolean;
  /** Where GraphiQL keeps its headers (the credentials): this tab only, or the browser. @default 'tab' */
  graphiqlCredentials?: 'tab' | 'browser';
  introspection: boolean;
  /** Trusted documents (persistedDocuments). @default none: every valid document runs */
  persistedDocuments?: PersistedDocuments;
  insecure: boolean;
  /** What client XML and paths may reach on the hosts (allowUnsafeXml, storage, xml). @default defaultHostSafety() */
  hostSafety?: HostSafetyConfig;
  /** Who may read /metrics and how fresh its libvirt figures are. @default metricsSchema defaults */
  metrics?: MetricsConfig;
  /** Console tickets and WebSocket bounds. @default consolesSchema defaults */
  consoles?: ConsolesConfig;
  /** Where importVolume may fetch images from. @default nowhere */
  images?: ImagesConfig;
  /** Transfer URLs of uploadVolume and downloadVolume. @default transfersSchema defaults */
  transfers?: TransfersConfig;
  /** OpenTelemetry spans over OTLP/HTTP. @default none: no tracing, nothing of OpenTelemetry loaded */
  tracing?: TracingConfig;
}

/** What a gateway without security configuration gets: no identities, no TLS, no cross origin, default limits. */
export function defaultSecurity(): SecurityConfig {
  return {
    auth: authSchema.parse({}),
    cors: corsSchema.parse({}),
    limits: limitsSchema.parse({}),
    audit: auditSchema.parse({}),
    metrics: metricsSchema.parse({}),
    consoles: consolesSchema.parse({}),
    images: imagesSchema.parse({}),
    transfers: transfersSchema.parse({}),
    graphiql: true,
    introspection: true,
    insecure: false,
    hostSafety: defaultHostSafety(),
  };
}

export function hasIdentities(auth: AuthConfig): boolean {
  return auth.tokens.length > 0 || auth.certificates.length > 0 || auth.jwt !== undefined;
}

export function isLoopback(address: string): boolean {
  if (address === 'localhost') return true;
  if (isIP(address) === 4) return address.startsWith('127.');
  return address === '::1';
}

/** The address to bind: the configured one, else all interfaces with identities and loopback without. */
export function bindAddress(configured: string | undefined, auth: AuthConfig): string {
  return configured ?? (hasIdentities(auth) ? '0.0.0.0' : '127.0.0.1');
}

/** Checks the security settings as a whole and reads the TLS files. */
export async function resolveSecurity(
  file: ConfigFile,
  host: string,
  baseDir: string,
  problems: ConfigProblem[],
): Promise<SecurityConfig> {
  const { auth } = file;
  if (!hasIdentities(auth) && !isLoopback(host) && !file.insecure) {
    problems.push({
      path: 'host',
      reason: `listening on ${host} without authentication is refused: configure auth.tokens, auth.jwt or auth.certificates (npm run token -- NAME), or set insecure: true`,
    });
  }
  const roles = resolveRoles(auth.roles);
  problems.push(...roles.problems.map((p) => ({ path: `auth.${p.path}`, reason: p.reason })));
  auth.grants.forEach((g, i) => {
    if (!roles.roles.has(g.role)) {
      problems.push({ path: `auth.grants[${i}].role`, reason: `no role named ${JSON.stringify(g.role)}` });
    }
  });
  if (auth.certificates.length > 0 && !file.tls?.clientCa) {
    problems.push({ path: 'auth.certificates', reason: 'need tls.clientCa to verify client certificates' });
  }
  let tls: TlsMaterial | undefined;
  if (file.tls) {
    const read = async (key: 'cert' | 'key' | 'clientCa'): Promise<Buffer | undefined> => {
      const path = file.tls?.[key];
      if (path === undefined) return undefined;
      try {
        return await readFile(resolve(baseDir, path));
      } catch (e) {
        problems.push({ path: `tls.${key}`, reason: `cannot read ${path}: ${(e as NodeJS.ErrnoException).code ?? e}` });
        return undefined;
      }
    };
    const [cert, key, clientCa] = await Promise.all([read('cert'), read('key'), read('clientCa')]);
    if (cert && key) tls = { cert, key, ...(clientCa ? { clientCa } : {}) };
  }
  const persistedDocuments = file.persistedDocuments
    ? await readPersistedDocuments(file.persistedDocuments, baseDir, problems)
    : undefined;
  return {
    auth,
    ...(tls ? { tls } : {}),
    cors: file.cors,
    limits: file.limits,
    audit: file.audit,
    metrics: file.metrics,
    consoles: file.consoles,
    images: file.images,
    transfers: file.transfers,
    ...(file.tracing ? { tracing: file.tracing } : {}),
    graphiql: file.graphiql,
    graphiqlCredentials: file.graphiqlCredentials,
    introspection: file.introspection,
    ...(persistedDocuments ? { persistedDocuments } : {}),
    insecure: file.insecure,
    hostSafety: {
      allowUnsafeXml: file.allowUnsafeXml,
      allowedPaths: file.storage.allowedPaths,
      maxXmlBytes: file.xml.maxBytes,
      allow: file.xml.allow,
    },
  };
}
