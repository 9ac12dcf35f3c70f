import autocannon from 'autocannon';
import { bindingCalls } from '../src/libvirt/native.ts';
import { buildBenchGateway } from './bench-gateway.ts';
import { count } from './format.ts';

const URI = 'test:///default';
const CONNECTIONS = 50;
const SECONDS = 5;
const WARMUP_SECONDS = 1;
// A worker thread fires the requests, so the load generator does not share the server's event loop.
const WORKERS = 1;

const HTTP_QUERIES = [
  '{ host { name hypervisor { type } } }',
  '{ domain(ref: { name: "test" }) { name state } }',
] as const;

export interface HttpRun {
  query: string;
  checkErrors: string[];
  requestsMean: number;
  total: number;
  p50Ms: number;
  p99Ms: number;
  errors: number;
  timeouts: number;
  non2xx: number;
  callsPerRequest: number;
}

export interface HttpResult {
  url: string;
  runs: HttpRun[];
}

/** `CONNECTIONS` clients POSTing `query` (with extra `headers`) for `duration` seconds. */
export function load(
  url: string,
  query: string,
  duration: number,
  headers: Record<string, string> = {},
): Promise<autocannon.Result> {
  return autocannon({
    url,
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ query }),
    connections: CONNECTIONS,
    duration,
    workers: WORKERS,
  });
}

async function firstResponseErrors(url: string, query: string): Promise<string[]> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ query }),
  });
  if (!res.ok) return [`HTTP ${res.status}`];
  const body = (await res.json()) as { errors?: Array<{ message: string }> };
  return (body.errors ?? []).map((e) => e.message);
}

export async function measureGatewayHttp(): Promise<HttpResult> {
  const { app } = await buildBenchGateway({ default: URI });
  const url = await app.start();
  const runs: HttpRun[] = [];
  try {
    for (const query of HTTP_QUERIES) {
      const checkErrors = await firstResponseErrors(url, query);
      await load(url, query, WARMUP_SECONDS);
      const before = bindingCalls.total;
      const r = await load(url, query, SECONDS);
      runs.push({
        query,
        checkErrors,
        requestsMean: r.requests.average,
        total: r.requests.total,
        p50Ms: r.latency.p50,
        p99Ms: r.latency.p99,
        errors: r.errors,
        timeouts: r.timeouts,
        non2xx: r.non2xx,
        callsPerRequest: r.requests.total > 0 ? (bindingCalls.total - before) / r.requests.total : Number.NaN,
      });
    }
  } finally {
    await app.stop();
  }
  return { url, runs };
}

export function reportGatewayHttp(r: HttpResult): string[] {
  return [
    `HTTP: POST ${r.url} on ${URI}, ${CONNECTIONS} connections for ${SECONDS} s after ${WARMUP_SECONDS} s of warm-up (autocannon, ${WORKERS} worker thread)`,
    ...r.runs.flatMap((run) => [
      `   ${run.query}`,
      [
        `      ${count(run.requestsMean)} req/s mean`,
        `latency p50 ${run.p50Ms} ms · p99 ${run.p99Ms} ms`,
        `${count(run.total)} requests`,
        `errors ${run.errors} · timeouts ${run.timeouts} · non-2xx ${run.non2xx}`,
        `${run.callsPerRequest.toFixed(1)} binding calls/request`,
      ].join('  ·  '),
      ...(run.checkErrors.length > 0
        ? [`      GraphQL errors in a checked response: ${run.checkErrors.join(' | ')}`]
        : []),
    ]),
  ];
}
