import { isIP } from 'node:net';
import { type core, z } from 'zod';
import type { ConfigProblem } from './config-error.ts';
import {
  auditSchema,
  authSchema,
  consolesSchema,
  corsSchema,
  limitsSchema,
  metricsSchema,
  storageSchema,
  tlsSchema,
  tracingSchema,
  xmlSchema,
} from './security-schema.ts';
import { imagesSchema, transfersSchema } from './transfer-schema.ts';

export const HOST_NAME_PATTERN = /^[A-Za-z0-9._-]{1,64}$/;
export const HOST_NAME_RULE = 'must be 1 to 64 letters, digits, "-", "_" or "."';

const HOST_NAME = /^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,62})(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}))*\.?$/;

/** A DNS name or an IP address (IPv6 with or without brackets): no port, no path. */
function isHostOrAddress(value: string): boolean {
  return HOST_NAME.test(value) || isIP(value.replace(/^\[(.*)\]$/, '$1')) !== 0;
}

const PORT_RULE = 'must be between 1 and 65535';

const portSchema = z.number().int({ error: 'must be an integer' }).min(1, PORT_RULE).max(65535, PORT_RULE);

/**
 * A host as written in the file. The URI parts are typed `unknown` here on purpose:
 * src/hosts/uri.ts checks them, so a bad port reads the same whether it came from a
 * file, an environment variable or a client.
 */
export const hostEntrySchema = z.strictObject({
  name: z.string().regex(HOST_NAME_PATTERN, HOST_NAME_RULE),
  uri: z.string().min(1, 'must not be empty').optional(),
  driver: z.unknown().optional(),
  transport: z.unknown().optional(),
  host: z.unknown().optional(),
  port: z.unknown().optional(),
  path: z.unknown().optional(),
  params: z.unknown().optional(),
  username: z.unknown().optional(),
  password: z.string().min(1, 'must not be empty').optional(),
  passwordFile: z.string().min(1, 'must not be empty').optional(),
  consoles: z
    .strictObject({
      /** Where the gateway reaches this host's VNC displays, instead of their listen address (NAT, multi-homed hosts). */
      graphicsAddress: z.string().refine(isHostOrAddress, 'must be a host name or an IP address').optional(),
    })
    .optional(),
});

export type HostEntry = z.infer<typeof hostEntrySchema>;

/** The URI-part keys of a host entry: a host has either `uri` or some of these. */
export const URI_PART_KEYS = ['driver', 'transport', 'host', 'port', 'path', 'params', 'username'] as const;

export const configFileSchema = z.strictObject({
  /** HTTP port of the gateway. */
  port: portSchema.default(4000),
  /** Address the HTTP server binds to. @default 0.0.0.0 with identities configured, else 127.0.0.1 */
  host: z.string().min(1, 'must not be empty').optional(),
  /** Lets the gateway listen on a non-loopback address with no identity configured. */
  insecure: z.boolean().default(false),
  graphiql: z.boolean().default(true),
  /**
   * Where GraphiQL keeps what is typed in its Headers tab (the bearer token): `tab`, for that browser
   * tab only (sessionStorage, gone when it closes), or `browser`, across tabs and restarts (localStorage).
   */
  graphiqlCredentials: z.enum(['tab', 'browser'], { error: 'must be tab or browser' }).default('tab'),
  introspection: z.boolean().default(true),
  /** Trusted documents: graphql-codegen's persisted-documents JSON; with `enforce`, only those run. */
  persistedDocuments: z
    .strictObject({
      file: z.string().min(1, 'must not be empty'),
      enforce: z.boolean().default(true),
    })
    .optional(),
  auth: authSchema,
  tls: tlsSchema.optional(),
  cors: corsSchema,
  limits: limitsSchema,
  audit: auditSchema,
  metrics: metricsSchema,
  consoles: consolesSchema,
  tracing: tracingSchema.optional(),
  defaultHost: z.string().min(1, 'must not be empty').optional(),
  allowUnsafeClientUris: z.boolean().default(false),
  /** Turns the host-safety policy off: client XML and paths reach libvirt unchecked. */
  allowUnsafeXml: z.boolean().default(false),
  storage: storageSchema,
  images: imagesSchema,
  transfers: transfersSchema,
  xml: xmlSchema,
  ready: z
    .strictObject({
      /** Hosts that must be connected for /ready to answer 200. 0: ready whatever the hypervisors do. */
      minHosts: z.number().int({ error: 'must be an integer' }).min(0, 'must not be negative').default(1),
      /** Name each host in the public body; off, it lists their states only (registry names can tell an outsider the topology). */
      hostNames: z.boolean().default(false),
    })
    .prefault({}),
  events: z
    .strictObject({
      /** What each host's stream keeps for subscribers that resume after a disconnect (`after: cursor`). */
      history: z
        .strictObject({
          maxEvents: z.number().int({ error: 'must be an integer' }).min(1, 'must be at least 1').default(10_000),
          maxAgeSeconds: z.number().int({ error: 'must be an integer' }).min(1, 'must be at least 1').default(300),
        })
        .prefault({}),
    })
    .prefault({}),
  keepAlive: z
    .strictObject({
      intervalSeconds: z.number().int({ error: 'must be an integer' }).min(1, 'must be at least 1').default(5),
      count: z.number().int({ error: 'must be an integer' }).min(0, 'must not be negative').default(3),
    })
    .prefault({}),
  hosts: z.array(z.unknown()).default([]),
});

export type ConfigFile = z.infer<typeof configFileSchema>;

/** `hosts[1].port` from ['hosts', 1, 'port'], under `prefix` when given. */
export function formatPath(path: readonly PropertyKey[], prefix = ''): string {
  let out = prefix;
  for (const key of path) {
    if (typeof key === 'number') out += `[${key}]`;
    else out += out === '' ? String(key) : `.${String(key)}`;
  }
  return out === '' ? '(top level)' : out;
}

const TYPE_NAMES: Record<string, string> = {
  number: 'a number',
  int: 'an integer',
  string: 'a string',
  boolean: 'true or false',
  array: 'a list',
  object: 'a map',
};

/** zod's issues as `path: reason`, one per unknown key, with plain wording for wrong types. */
export function toProblems(issues: readonly core.$ZodIssue[], prefix = ''): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  for (const issue of issues) {
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys)
        problems.push({ path: formatPath([...issue.path, key], prefix), reason: 'unknown key' });
    } else if (issue.code === 'invalid_type') {
      const reason =
        issue.input === undefined ? 'is required' : `must be ${TYPE_NAMES[issue.expected] ?? issue.expected}`;
      problems.push({ path: formatPath(issue.path, prefix), reason });
    } else {
      problems.push({ path: formatPath(issue.path, prefix), reason: issue.message });
    }
  }
  return problems;
}
