import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import autocannon from 'autocannon';
import { createSchema, createYoga } from 'graphql-yoga';
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
  '{ hosts { name } }',
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
  /** A bare graphql-yoga server with a one-field schema, loaded the same way in the same run: the anchor. */
  bare?: HttpRun;
}

const TARGET_OF_BARE = 0.9;
const BARE_QUERY = '{ hello }';

/** graphql-yoga with nothing but a one-field schema on node:http: what the gateway's own overhead is measured against. */
async function startBareYoga(): Promise<{ url: string; close(): Promise<void> }> {
  const yoga = createYoga({
    schema: createSchema({ typeDefs: 'type Query { hello: String }', resolvers: { Query: { hello: () => 'world' } } }),
    logging: false,
  });
  const server = createServer(yoga);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/graphql`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

async function measureRun(url: string, query: string): Promise<HttpRun> {
  const checkErrors = await firstResponseErrors(url, query);
  await load(url, query, WARMUP_SECONDS);
  const before = bindingCalls.total;
  const r = await load(url, query, SECONDS);
  return {
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
  };
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
  const bare = await startBareYoga();
  const { app } = await buildBenchGateway({ default: URI });
  const url = await app.start();
  const result: HttpResult = { url, runs: [] };
  try {
    // The anchor first and last, so that a drift of the machine shows as a spread between the two.
    const before = await measureRun(bare.url, BARE_QUERY);
    for (const query of HTTP_QUERIES) result.runs.push(await measureRun(url, query));
    const after = await measureRun(bare.url, BARE_QUERY);
    result.bare = before.requestsMean >= after.requestsMean ? before : after;
  } finally {
    await app.stop();
    await bare.close();
  }
  return result;
}

export function reportGatewayHttp(r: HttpResult): string[] {
  const smallest = r.runs[0];
  const ratio = r.bare && smallest ? smallest.requestsMean / r.bare.requestsMean : Number.NaN;
  return [
    `HTTP: POST ${r.url} on ${URI}, ${CONNECTIONS} connections for ${SECONDS} s after ${WARMUP_SECONDS} s of warm-up (autocannon, ${WORKERS} worker thread)`,
    ...(r.bare
      ? [
          `   bare graphql-yoga, one-field schema, ${BARE_QUERY} (the better of a run before and one after the gateway's)`,
          `      ${count(r.bare.requestsMean)} req/s mean  ·  latency p50 ${r.bare.p50Ms} ms · p99 ${r.bare.p99Ms} ms  ·  non-2xx ${r.bare.non2xx}`,
          `   ${smallest?.query} / bare yoga: ${(ratio * 100).toFixed(0)}% of its req/s   target ≥ ${TARGET_OF_BARE * 100}%: ${ratio >= TARGET_OF_BARE ? 'PASS' : 'OVER'}`,
        ]
      : []),
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
