import { setTimeout as sleep } from 'node:timers/promises';
import type { App } from '../src/app.ts';
import { Connection, type Domain } from '../src/libvirt/index.ts';
import { bindingCalls } from '../src/libvirt/native.ts';
import { buildBenchGateway } from './bench-gateway.ts';
import { count, megabytes, nanoseconds } from './format.ts';
import { untilHub } from './hub-watch.ts';
import { percentile } from './percentile.ts';
import type { Delivery } from './subscriber-messages.ts';
import { SubscriberPool } from './subscriber-pool.ts';

const URI = 'test:///default';
const DOMAIN = 'test';
const QUERY =
  'subscription { domainEvents(types: [SUSPENDED, RESUMED]) { host { name } domainName type detail timestamp } }';
const QUERY_WITH_DOMAIN =
  'subscription { domainEvents(types: [SUSPENDED, RESUMED]) { host { name } domainName type detail timestamp domain { state vcpus } } }';
const EVENT_TIMEOUT_MS = 5_000;
const LISTEN_TIMEOUT_MS = 30_000;
const SETTLE_ROUNDS = 8;
const SETTLE_PAUSE_MS = 100;
const SETTLED_BYTES = 256 * 1024;

interface Shape {
  label: string;
  query: string;
  sockets: number;
  perSocket: number;
  events: number;
  warmup: number;
  targetP99Ms: number;
}

// One subscription per socket: each subscriber of a gateway is a browser tab or a service of its own.
const ONE: Shape = { label: '', query: QUERY, sockets: 1, perSocket: 1, events: 1_000, warmup: 20, targetP99Ms: 5 };
const MANY: Shape = { label: '', query: QUERY, sockets: 1_000, perSocket: 1, events: 200, warmup: 10, targetP99Ms: 50 };
const MANY_WITH_DOMAIN: Shape = {
  ...MANY,
  label: ', selecting domain { state vcpus }',
  query: QUERY_WITH_DOMAIN,
  targetP99Ms: 60,
};
// Many subscriptions multiplexed per socket: services that watch many things at once.
const MULTIPLEXED: Shape = {
  label: '',
  query: QUERY,
  sockets: 100,
  perSocket: 100,
  events: 50,
  warmup: 5,
  targetP99Ms: 250,
};
/** The per-identity caps stand at 2,000 by default; the 10,000-subscriber run is one identity. */
export const SUBSCRIPTION_LIMITS = { subscriptionsPerIdentity: 20_000, webSocketsPerIdentity: 20_000 };

interface Memory {
  rss: number;
  heapUsed: number;
}

export interface SubscriptionRun {
  shape: Shape;
  openFailures: string[];
  problems: string[];
  listening: boolean;
  openMs: number;
  sent: number;
  delivered: number;
  inOrder: boolean;
  errors: number;
  firstNs: number[];
  lastNs: number[];
  eachNs: number[];
  /** Binding calls made while events were driven, less the actions' own: libvirt reads per event. */
  callsPerEvent: number;
  memory?: { before: Memory; open: Memory };
}

export interface SubscriptionResult {
  wsUrl: string;
  runs: SubscriptionRun[];
}

const subscribers = (s: Shape) => s.sockets * s.perSocket;
const expectedType = (index: number) => (index % 2 === 0 ? 'SUSPENDED' : 'RESUMED');

// One gc leaves the heap and RSS of earlier benchmarks high: V8 shrinks its heap over the next
// collections and unmaps pages from background threads, so collect until RSS holds still.
async function settledMemory(): Promise<Memory> {
  let previous = Number.NaN;
  for (let round = 0; round < SETTLE_ROUNDS; round++) {
    globalThis.gc?.();
    await sleep(SETTLE_PAUSE_MS);
    const { rss } = process.memoryUsage();
    if (Math.abs(rss - previous) < SETTLED_BYTES) break;
    previous = rss;
  }
  const { rss, heapUsed } = process.memoryUsage();
  return { rss, heapUsed };
}

async function ensureRunning(d: Domain): Promise<void> {
  if ((await d.state()).state === 'PAUSED') await d.resume();
}

// The pool numbers events from 0 in the order they reach it, so the index also says which action caused it.
async function fire(d: Domain, pool: SubscriberPool, index: number): Promise<{ start: bigint; delivery?: Delivery }> {
  const start = process.hrtime.bigint();
  await (expectedType(index) === 'SUSPENDED' ? d.suspend() : d.resume());
  return { start, delivery: await pool.delivered(index, EVENT_TIMEOUT_MS) };
}

async function measureRun(app: App, wsUrl: string, d: Domain, shape: Shape, memory: boolean) {
  await ensureRunning(d);
  const before = memory ? await settledMemory() : undefined;
  const started = performance.now();
  const { pool, failures } = await SubscriberPool.open(wsUrl, shape.query, shape.sockets, shape.perSocket);
  const run: SubscriptionRun = {
    shape,
    openFailures: failures,
    problems: pool.problems,
    listening: false,
    openMs: 0,
    sent: 0,
    delivered: 0,
    inOrder: true,
    errors: 0,
    firstNs: [],
    lastNs: [],
    eachNs: [],
    callsPerEvent: 0,
  };
  try {
    run.listening = await untilHub(app.events, (s) => s.topicListeners >= subscribers(shape), LISTEN_TIMEOUT_MS);
    await app.events.settled();
    run.openMs = performance.now() - started;
    if (before) run.memory = { before, open: await settledMemory() };
    if (!run.listening) return run;
    let index = 0;
    for (; index < shape.warmup; index++) if (!(await fire(d, pool, index)).delivery) return run;
    const callsBefore = bindingCalls.total;
    for (; index < shape.warmup + shape.events; index++) {
      run.sent += 1;
      const { start, delivery } = await fire(d, pool, index);
      if (!delivery) break;
      run.delivered += 1;
      run.errors += delivery.errors;
      if (delivery.types.length !== 1 || delivery.types[0] !== expectedType(index)) run.inOrder = false;
      let first = delivery.arrivals[0] ?? start;
      let last = first;
      for (const at of delivery.arrivals) {
        if (at < first) first = at;
        if (at > last) last = at;
        run.eachNs.push(Number(at - start));
      }
      run.firstNs.push(Number(first - start));
      run.lastNs.push(Number(last - start));
    }
    // Each action is one binding call (suspend or resume) through the bench's own connection.
    run.callsPerEvent = run.sent === 0 ? 0 : (bindingCalls.total - callsBefore - run.sent) / run.sent;
    return run;
  } finally {
    await pool.close();
    await untilHub(app.events, (s) => s.subscriptions === 0, EVENT_TIMEOUT_MS);
    await ensureRunning(d);
  }
}

export async function measureGatewaySubscriptions(): Promise<SubscriptionResult> {
  const { app } = await buildBenchGateway(
    { default: URI },
    { limits: { rateLimit: { requests: 0 }, ...SUBSCRIPTION_LIMITS } },
  );
  const wsUrl = (await app.start()).replace(/^http/, 'ws');
  const connection = await Connection.open(URI);
  try {
    const d = await connection.domainByName(DOMAIN);
    const runs = [await measureRun(app, wsUrl, d, ONE, false)];
    for (const shape of [MANY, MANY_WITH_DOMAIN, MULTIPLEXED]) runs.push(await measureRun(app, wsUrl, d, shape, true));
    return { wsUrl, runs };
  } finally {
    await app.stop();
    await connection.close();
  }
}

function spread(ns: number[]): string {
  return `p50 ${nanoseconds(percentile(ns, 50))} · p99 ${nanoseconds(percentile(ns, 99))} · max ${nanoseconds(percentile(ns, 100))}`;
}

function verdict(ns: number[], targetMs: number): string {
  const p99 = percentile(ns, 99);
  return `target p99 ≤ ${targetMs} ms: ${p99 <= targetMs * 1e6 ? 'PASS' : 'OVER'}`;
}

function kilobytes(bytes: number): string {
  return `${bytes < 0 ? '-' : '+'}${(Math.abs(bytes) / 1024).toFixed(1)} KB`;
}

function memoryLine(run: SubscriptionRun): string[] {
  if (!run.memory) return [];
  const { before, open } = run.memory;
  const n = subscribers(run.shape);
  return [
    `      gateway RSS ${megabytes(before.rss)} MB before · ${megabytes(open.rss)} MB with ${count(n)} open (after gc): ${kilobytes((open.rss - before.rss) / n)} per subscriber (JS heap ${kilobytes((open.heapUsed - before.heapUsed) / n)})`,
  ];
}

function runLines(run: SubscriptionRun): string[] {
  const { shape } = run;
  const n = subscribers(shape);
  const sockets =
    shape.perSocket === 1 ? `${count(shape.sockets)} sockets` : `${count(shape.sockets)} sockets × ${shape.perSocket}`;
  const head = `   ${count(n)} subscriber${n === 1 ? '' : 's'}${n === 1 ? '' : ` on ${sockets}`}${shape.label}: ${count(shape.events)} events after ${shape.warmup} warm-up · connected and listening in ${count(run.openMs)} ms`;
  const trouble = [
    ...(run.listening ? [] : [`      the gateway never listened for all ${count(n)}: no events driven`]),
    ...run.openFailures.map((f) => `      connect failure: ${f}`),
    ...run.problems.map((p) => `      problem: ${p}`),
  ];
  const counts = `      ${n === 1 ? 'received' : 'received by all'}/sent ${run.delivered}/${run.sent} · in order: ${run.inOrder ? 'yes' : 'NO'} · results with errors ${run.errors} · libvirt calls per event ${run.callsPerEvent.toFixed(1)}`;
  if (n === 1) {
    return [
      head,
      `      action call → next()             ${spread(run.lastNs)}   ${verdict(run.lastNs, shape.targetP99Ms)}`,
      counts,
      ...trouble,
    ];
  }
  return [
    head,
    `      action call → last subscriber    ${spread(run.lastNs)}   ${verdict(run.lastNs, shape.targetP99Ms)}`,
    `      action call → first subscriber   ${spread(run.firstNs)}`,
    `      action call → each subscriber    ${spread(run.eachNs)} (${count(run.eachNs.length)} deliveries)`,
    counts,
    ...memoryLine(run),
    ...trouble,
  ];
}

export function reportGatewaySubscriptions(r: SubscriptionResult): string[] {
  return [
    `Subscriptions: graphql-ws at ${r.wsUrl} on ${URI}; '${DOMAIN}' suspended/resumed through the port, one at a time, each event awaited before the next action`,
    `   ${QUERY} (and with domain { state vcpus } where said)`,
    '   subscribers: graphql-ws clients (ws) in a child process, one subscription per socket; latency: the action call → the client’s next() (one monotonic clock)',
    ...r.runs.flatMap(runLines),
  ];
}
