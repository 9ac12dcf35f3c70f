import { z } from 'zod';

const int = (min: number) => z.number().int({ error: 'must be an integer' }).min(min, `must be at least ${min}`);
const nonEmpty = z.string().min(1, 'must not be empty');
const globs = z.array(nonEmpty).min(1, 'must list at least one name or glob');

/** An API token as the config stores it: only the SHA-256 hex digest of the secret. */
const tokenSchema = z.strictObject({
  name: nonEmpty,
  sha256: z.string().regex(/^[0-9a-f]{64}$/, 'must be 64 lowercase hex digits (npm run token -- NAME prints it)'),
  groups: z.array(nonEmpty).default([]),
});

const jwtSchema = z
  .strictObject({
    issuer: nonEmpty,
    audience: nonEmpty,
    /** Where the signing keys are published (OIDC `jwks_uri`). */
    jwksUrl: z.url({ error: 'must be a URL' }).optional(),
    /** A PEM public key (SPKI) instead of a JWKS URL. */
    publicKey: nonEmpty.optional(),
    /** The claim naming the identity. */
    identityClaim: nonEmpty.default('sub'),
    /** The claim (a string or a list of strings) whose values are groups that grants name. */
    groupsClaim: nonEmpty.default('groups'),
    algorithms: z.array(nonEmpty).default(['RS256', 'ES256', 'EdDSA']),
  })
  .refine((j) => (j.jwksUrl === undefined) !== (j.publicKey === undefined), {
    error: 'give exactly one of jwksUrl or publicKey',
  });

const certificateSchema = z.strictObject({
  name: nonEmpty,
  /** SHA-256 fingerprint of the client certificate, hex with or without colons. */
  fingerprint256: z
    .string()
    .transform((s) => s.replaceAll(':', '').toLowerCase())
    .pipe(z.string().regex(/^[0-9a-f]{64}$/, 'must be a SHA-256 fingerprint')),
  groups: z.array(nonEmpty).default([]),
});

const grantSchema = z
  .strictObject({
    /** An identity name (token, certificate or JWT subject). */
    identity: nonEmpty.optional(),
    /** A group: from a token's or certificate's `groups`, or the JWT groups claim. */
    group: nonEmpty.optional(),
    role: nonEmpty,
    /** Host names or globs (`kvm*`). */
    hosts: globs.default(['*']),
    /**
     * Domain-name globs. With any of domains, pools or networks set the grant is narrowed: it
     * gives only VM privileges on matching domains, Storage privileges on matching pools and
     * Network privileges on matching networks, and no others.
     */
    domains: globs.optional(),
    /** Storage-pool-name globs: the grant's Storage privileges apply to these pools (and their volumes) only. */
    pools: globs.optional(),
    /** Network-name globs: the grant's Network privileges apply to these networks only. */
    networks: globs.optional(),
  })
  .refine((g) => (g.identity === undefined) !== (g.group === undefined), {
    error: 'give exactly one of identity or group',
  });

export const authSchema = z
  .strictObject({
    tokens: z.array(tokenSchema).default([]),
    jwt: jwtSchema.optional(),
    certificates: z.array(certificateSchema).default([]),
    /** Operator-defined roles: name → privileges (or other roles' names). */
    roles: z.record(nonEmpty, z.array(nonEmpty)).default({}),
    grants: z.array(grantSchema).default([]),
  })
  .prefault({});

export const tlsSchema = z.strictObject({
  cert: nonEmpty,
  key: nonEmpty,
  /** CA bundle that signs client certificates; set it to accept client certificates as identities. */
  clientCa: nonEmpty.optional(),
});

export const corsSchema = z
  .strictObject({
    /** Browser origins (scheme://host[:port]) allowed to call the gateway cross-origin. */
    origins: z.array(nonEmpty).default([]),
  })
  .prefault({});

export const limitsSchema = z
  .strictObject({
    maxDepth: int(1).default(12),
    maxAliases: int(0).default(30),
    maxTokens: int(10).default(5_000),
    /**
     * Estimated fields resolved: each field counts 1, times assumedListSize for every list
     * field around it. The README inventory (three lists deep) costs about 11 million; a
     * fourth nested list, as in a host → domains → host → domains cycle, multiplies by 100.
     */
    maxCost: int(1).default(50_000_000),
    /** How many objects the cost model assumes a list field returns. */
    assumedListSize: int(1).default(100),
    maxNodeIds: int(1).default(100),
    bodyBytes: int(1024).default(4 * 1024 * 1024),
    webSocketMessageBytes: int(1024).default(4 * 1024 * 1024),
    /** Open WebSockets in all; clamped below the process's file-descriptor limit. */
    webSockets: int(1).default(10_000),
    webSocketsPerIdentity: int(1).default(2_000),
    /** WebSockets at once that have not authenticated yet (graphql-ws connection_init, a console's ticket); past it the oldest closes. */
    webSocketsAwaitingInit: int(1).default(100),
    /** Seconds a WebSocket may take to authenticate before it is closed. */
    webSocketInitSeconds: z.number({ error: 'must be a number' }).positive('must be positive').max(60).default(3),
    subscriptionsPerIdentity: int(1).default(2_000),
    /** Events that may wait for one subscriber that does not read them; one more and it is dropped (SLOW_CONSUMER). */
    eventQueue: int(1).default(1_000),
    /** Requests (HTTP operations and WebSocket subscribes) per identity per window; 0 turns it off. */
    rateLimit: z.strictObject({ requests: int(0).default(6_000), windowSeconds: int(1).default(60) }).prefault({}),
    /** The shortest intervalSeconds a domainStats subscription may ask for: each interval costs a bulk stats call per tick. */
    minStatsIntervalSeconds: z.number({ error: 'must be a number' }).positive('must be positive').default(1),
  })
  .refine((l) => l.webSocketMessageBytes <= l.bodyBytes, {
    error: 'webSocketMessageBytes must not exceed bodyBytes',
    path: ['webSocketMessageBytes'],
  })
  .prefault({});

export const auditSchema = z
  .strictObject({
    /** A JSONL file that every audit record is appended to. */
    file: nonEmpty.optional(),
    /** The file's size at which it is renamed to file.1 (file.1 to file.2…) and a new one begun. */
    maxBytes: z
      .number()
      .int()
      .min(4096, 'must be at least 4096')
      .default(100 * 1024 * 1024),
    /** Rotated files kept beside the current one (file.1 … file.N); older ones are deleted. */
    keep: z.number().int().min(0).max(100).default(5),
    /** Failed or refused calls recorded per identity, and per client address, each minute; then one record says how many more were not. */
    maxFailuresPerMinute: z.number().int().min(1).default(60),
  })
  .prefault({});

const types = z.array(nonEmpty).default([]);
const allow = z.boolean().default(false);

/** Storage roots for client paths (disk sources, pool and volume targets, kernels, NVRAM…). */
export const storageSchema = z
  .strictObject({
    /** Absolute directories (or device paths); the host's own pool targets are always allowed. */
    allowedPaths: z.array(nonEmpty.startsWith('/', 'must be an absolute path')).default([]),
  })
  .prefault({});

/** Client XML: its size cap and which host-reaching elements it may use (README, "Host safety"). */
export const xmlSchema = z
  .strictObject({
    maxBytes: int(1024).default(1024 * 1024),
    allow: z
      .strictObject({
        qemuNamespace: allow,
        otherNamespaces: allow,
        hostdev: allow,
        filesystem: allow,
        shmem: allow,
        interfaceScripts: allow,
        seclabel: allow,
        emulator: allow,
        unlistedNetworks: allow,
        interfaceTypes: types,
        charSourceTypes: types,
        diskTypes: types,
        poolTypes: types,
      })
      .prefault({}),
  })
  .prefault({});

/** `host:port`, `[v6]:port`: where /metrics is served without authentication, apart from the GraphQL port. */
const listenSchema = z
  .string()
  .regex(/^(\[[0-9a-fA-F:.]+\]|[^\s:[\]]+):\d{1,5}$/, 'must be host:port, e.g. 127.0.0.1:9464')
  .refine((s) => Number(s.slice(s.lastIndexOf(':') + 1)) <= 65535, { error: 'port must be at most 65535' });

export const metricsSchema = z
  .strictObject({
    /** How old a host's sample may be before a scrape reads libvirt again; concurrent scrapes share one read. */
    maxAgeSeconds: z.number().min(0, 'must not be negative').default(5),
    /** How long a scrape waits for one host before reporting it down (libvirt_up 0). */
    hostTimeoutSeconds: z.number().positive('must be positive').default(5),
    /** A separate address serving /metrics to anyone who reaches it; the GraphQL port then serves none. */
    listen: listenSchema.optional(),
    /**
     * The operation names /metrics labels by name; any other is `other`. Without the list, the first
     * `maxOperationNames` distinct names seen get their own series and the rest are `other`.
     */
    operationNames: z.array(z.string().regex(/^[_A-Za-z][_0-9A-Za-z]{0,127}$/, 'must be a GraphQL name')).optional(),
    /** How many distinct operation names get a series of their own when `operationNames` is not given. */
    maxOperationNames: z.number().int({ error: 'must be an integer' }).min(0, 'must not be negative').default(100),
    /**
     * libvirt_domain_info_state's state_desc: `short` (running, shutoff…) or `exporter`, the sentences
     * prometheus-libvirt-exporter uses ("the domain is running"), for its dashboards and alerts as they are.
     */
    stateDescriptions: z.enum(['short', 'exporter'], { error: 'must be short or exporter' }).default('short'),
  })
  .prefault({});

/** OpenTelemetry tracing over OTLP/HTTP (JSON): off unless this key is present. */
export const tracingSchema = z.strictObject({
  /** Where span batches are POSTed, e.g. http://127.0.0.1:4318/v1/traces (a collector's OTLP/HTTP receiver). */
  otlpUrl: z.url({ protocol: /^https?$/, error: 'must be an http or https URL' }),
  /** The service.name resource attribute of every span. */
  serviceName: z.string().min(1, 'must not be empty').default('virtql'),
  /** Headers sent with each export (e.g. an API key of a hosted collector). */
  headers: z.record(z.string(), z.string()).optional(),
  /** How long ended spans wait to be sent together. */
  exportDelayMs: z.number().int({ error: 'must be an integer' }).min(0, 'must not be negative').default(5000),
});

/** Consoles over WebSocket (openConsole, /console). */
export const consolesSchema = z
  .strictObject({
    /** How long a console ticket stays valid; each is good for one WebSocket. */
    ticketSeconds: z.number().positive('must be positive').max(3600, 'must be at most 3600').default(30),
    /** Bytes queued for a slow client before the gateway stops reading the console (and again for libvirt from the client). */
    maxBufferedBytes: z.number().int().min(65_536, 'must be at least 65536').default(1_048_576),
    /** The largest WebSocket message a client may send; larger ones close the socket (1009). */
    maxMessageBytes: z.number().int().min(1024, 'must be at least 1024').default(65_536),
    /** How long the gateway waits for a remote host's VNC display to accept the connection, and again to authenticate. */
    connectTimeoutMs: z
      .number()
      .int({ error: 'must be an integer' })
      .min(100, 'must be at least 100')
      .max(60_000, 'must be at most 60000')
      .default(5000),
  })
  .prefault({});

export type AuthConfig = z.infer<typeof authSchema>;
export type MetricsConfig = z.infer<typeof metricsSchema>;
export type ConsolesConfig = z.infer<typeof consolesSchema>;
export type TracingConfig = z.infer<typeof tracingSchema>;
export type StorageConfig = z.infer<typeof storageSchema>;
export type XmlConfig = z.infer<typeof xmlSchema>;
export type TlsConfig = z.infer<typeof tlsSchema>;
export type CorsConfig = z.infer<typeof corsSchema>;
export type LimitsConfig = z.infer<typeof limitsSchema>;
export type AuditConfig = z.infer<typeof auditSchema>;
export type GrantConfig = AuthConfig['grants'][number];
