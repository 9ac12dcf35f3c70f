import { setTimeout as sleep } from 'node:timers/promises';
import type { Connection, Domain } from '../src/libvirt/index.ts';
import { ArrivalLog } from './arrival-log.ts';
import { count, nanoseconds } from './format.ts';
import { percentile } from './percentile.ts';

const DOMAIN = 'test';
const EVENTS = 1_000;
const WARMUP_EVENTS = 20;
const EVENT_TIMEOUT_MS = 2_000;
const STRAGGLER_WAIT_MS = 50;

export interface EventLatencyResult {
  sent: number;
  received: number;
  inOrder: boolean;
  toListenerNs: number[];
  toActionResolvedNs: number[];
  beforeActionResolved: number;
}

const expectedType = (i: number) => (i % 2 === 0 ? 'SUSPENDED' : 'RESUMED');

// Each event is awaited before the next action so that one latency never overlaps another.
async function alternate(d: Domain, log: ArrivalLog, actions: number) {
  const starts: bigint[] = [];
  const resolvedAt: bigint[] = [];
  for (let i = 0; i < actions; i++) {
    const arrived = log.until(i + 1, EVENT_TIMEOUT_MS);
    log.actionResolved = false;
    const start = process.hrtime.bigint();
    await (expectedType(i) === 'SUSPENDED' ? d.suspend() : d.resume());
    resolvedAt.push(process.hrtime.bigint());
    log.actionResolved = true;
    starts.push(start);
    if (!(await arrived)) break;
  }
  return { starts, resolvedAt };
}

export async function measureEventLatency(c: Connection): Promise<EventLatencyResult> {
  const d = await c.domainByName(DOMAIN);
  if ((await d.state()).state === 'PAUSED') await d.resume();
  const log = new ArrivalLog();
  const unsubscribe = await c.subscribe((e) => {
    const at = process.hrtime.bigint();
    if (e.kind === 'domain' && e.domain.name === DOMAIN) log.record(e.type, at);
  });
  try {
    await alternate(d, log, WARMUP_EVENTS);
    await sleep(STRAGGLER_WAIT_MS);
    log.clear();
    const { starts, resolvedAt } = await alternate(d, log, EVENTS);
    await sleep(STRAGGLER_WAIT_MS);
    const arrivals = log.arrivals;
    const paired = Math.min(starts.length, arrivals.length);
    const toListenerNs: number[] = [];
    for (let i = 0; i < paired; i++) toListenerNs.push(Number((arrivals[i]?.at ?? 0n) - (starts[i] ?? 0n)));
    return {
      sent: starts.length,
      received: arrivals.length,
      inOrder: arrivals.every((a, i) => a.type === expectedType(i)),
      toListenerNs,
      toActionResolvedNs: starts.map((s, i) => Number((resolvedAt[i] ?? s) - s)),
      beforeActionResolved: arrivals.filter((a) => !a.afterActionResolved).length,
    };
  } finally {
    unsubscribe();
    if ((await d.state()).state === 'PAUSED') await d.resume();
  }
}

function spread(ns: number[]): string {
  return `p50 ${nanoseconds(percentile(ns, 50))} · p99 ${nanoseconds(percentile(ns, 99))} · max ${nanoseconds(percentile(ns, 100))}`;
}

export function reportEventLatency(r: EventLatencyResult): string[] {
  return [
    `Events: suspend/resume '${DOMAIN}' one at a time, ${count(EVENTS)} events, after ${WARMUP_EVENTS} warm-up`,
    `   action call → listener          ${spread(r.toListenerNs)}`,
    `   action call → promise resolved  ${spread(r.toActionResolvedNs)}`,
    `   received/sent ${r.received}/${r.sent} · in order: ${r.inOrder ? 'yes' : 'NO'} · arrived before the action's promise resolved: ${r.beforeActionResolved}/${r.received}`,
  ];
}
