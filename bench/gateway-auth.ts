import { exportSPKI, generateKeyPair, SignJWT } from 'jose';
import { AuthService } from '../src/auth/auth-service.ts';
import { type Credentials, createApiToken } from '../src/auth/authenticator.ts';
import { authSchema } from '../src/config/security-schema.ts';
import { buildBenchGateway } from './bench-gateway.ts';
import { count, nanoseconds } from './format.ts';
import { load } from './gateway-http.ts';

const URI = 'test:///default';
const QUERY = '{ host { name hypervisor { type } } }';
const SECONDS = 3;
const WARMUP_SECONDS = 1;
/** Each variant runs this many times, in alternating order, so drift (CPU heat, other load) hits them alike. */
const ROUNDS = 4;
const CALLS = 20_000;
const TARGET = 0.9;

interface Variant {
  label: string;
  url: string;
  headers: Record<string, string>;
}

export interface AuthVariantResult {
  label: string;
  requestsPerSecond: number;
  p99Ms: number;
  non2xx: number;
  errors: number;
  /** One `authenticate()` call, measured on its own (n/a without credentials). */
  authenticateNs: number;
}

export interface AuthCostResult {
  checks: string[];
  variants: AuthVariantResult[];
}

async function authenticateCost(service: AuthService, credentials: Credentials): Promise<number> {
  for (let i = 0; i < 1_000; i += 1) await service.authenticate(credentials);
  const started = process.hrtime.bigint();
  for (let i = 0; i < CALLS; i += 1) await service.authenticate(credentials);
  return Number(process.hrtime.bigint() - started) / CALLS;
}

async function status(url: string, headers: Record<string, string>): Promise<string> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ query: QUERY }),
  });
  const body = (await res.json()) as { errors?: Array<{ message: string }> };
  return `${res.status}${body.errors ? ` ${body.errors.map((e) => e.message).join(' | ')}` : ''}`;
}

/**
 * Small-query requests/s without identities, with an API token and with a JWT (static ES256 key), on the same
 * run, plus what one `authenticate()` costs on its own: the figure load on a shared machine cannot blur.
 */
export async function measureAuthCost(): Promise<AuthCostResult> {
  const token = createApiToken();
  const { publicKey, privateKey } = await generateKeyPair('ES256');
  const jwt = await new SignJWT({ sub: 'bench-jwt' })
    .setProtectedHeader({ alg: 'ES256' })
    .setIssuer('https://idp.bench')
    .setAudience('virtql')
    .setExpirationTime('1h')
    .sign(privateKey);
  const auth = {
    tokens: [{ name: 'bench', sha256: token.sha256 }],
    jwt: { issuer: 'https://idp.bench', audience: 'virtql', publicKey: await exportSPKI(publicKey) },
    grants: [
      { identity: 'bench', role: 'admin' },
      { identity: 'jwt:bench-jwt', role: 'admin' },
    ],
  };
  const service = new AuthService(authSchema.parse(auth));
  const open = await buildBenchGateway({ default: URI });
  const secured = await buildBenchGateway({ default: URI }, { auth });
  const [openUrl, securedUrl] = [await open.app.start(), await secured.app.start()];
  const variants: Variant[] = [
    { label: 'no identities configured, no credentials', url: openUrl, headers: {} },
    {
      label: 'API token (Authorization: Bearer vq_…)',
      url: securedUrl,
      headers: { authorization: `Bearer ${token.secret}` },
    },
    { label: 'JWT (ES256, verified once then cached)', url: securedUrl, headers: { authorization: `Bearer ${jwt}` } },
  ];
  const sums = variants.map(() => ({ requests: 0, seconds: 0, p99Ms: 0, non2xx: 0, errors: 0 }));
  try {
    const checks = [
      `without identities: ${await status(openUrl, {})}`,
      `token configured, none sent: ${await status(securedUrl, {})}`,
      ...(await Promise.all(variants.slice(1).map(async (v) => `${v.label}: ${await status(v.url, v.headers)}`))),
    ];
    for (const v of variants) await load(v.url, QUERY, WARMUP_SECONDS, v.headers);
    for (let round = 0; round < ROUNDS; round += 1) {
      const order = round % 2 === 0 ? variants.map((_, i) => i) : variants.map((_, i) => variants.length - 1 - i);
      for (const i of order) {
        const v = variants[i] as Variant;
        const r = await load(v.url, QUERY, SECONDS, v.headers);
        const sum = sums[i] as (typeof sums)[number];
        sum.requests += r.requests.total;
        sum.seconds += r.duration;
        sum.p99Ms = Math.max(sum.p99Ms, r.latency.p99);
        sum.non2xx += r.non2xx;
        sum.errors += r.errors;
      }
    }
    const perCall = [
      Number.NaN,
      await authenticateCost(service, { authorization: `Bearer ${token.secret}` }),
      await authenticateCost(service, { authorization: `Bearer ${jwt}` }),
    ];
    return {
      checks,
      variants: variants.map((v, i) => {
        const sum = sums[i] as (typeof sums)[number];
        return {
          label: v.label,
          requestsPerSecond: sum.requests / sum.seconds,
          p99Ms: sum.p99Ms,
          non2xx: sum.non2xx,
          errors: sum.errors,
          authenticateNs: perCall[i] as number,
        };
      }),
    };
  } finally {
    await open.app.stop();
    await secured.app.stop();
  }
}

export function reportAuthCost(r: AuthCostResult): string[] {
  const base = r.variants[0]?.requestsPerSecond ?? Number.NaN;
  return [
    `Cost of auth: POST ${QUERY} on ${URI}, same load as above, ${ROUNDS} × ${SECONDS} s per variant in alternating order`,
    ...r.variants.map((v, i) =>
      [
        `   ${v.label.padEnd(42)} ${count(v.requestsPerSecond).padStart(7)} req/s`,
        i === 0
          ? 'baseline'
          : `${((100 * v.requestsPerSecond) / base).toFixed(1)}% of baseline (target ≥ ${TARGET * 100}%)`,
        `p99 ${v.p99Ms} ms`,
        `non-2xx ${v.non2xx} · errors ${v.errors}`,
        ...(Number.isNaN(v.authenticateNs) ? [] : [`authenticate() ${nanoseconds(v.authenticateNs)}/call`]),
      ].join('  ·  '),
    ),
    `   checked first: ${r.checks.join(' · ')}`,
  ];
}
