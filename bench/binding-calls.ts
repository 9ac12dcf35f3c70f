import type { Connection } from '../src/libvirt/index.ts';
import { count, nanoseconds } from './format.ts';
import { percentile } from './percentile.ts';

const DOMAIN = 'test';
const PAIRS = 10_000;
const BATCH = 1_000;
const WARMUP_PAIRS = 1_000;
const CALLS_PER_PAIR = 2;
const REPEATS = 3;

type Mode = (c: Connection, pairs: number) => Promise<void>;

export interface CallsRun {
  label: string;
  repeatsMs: number[];
}

export interface CallsResult {
  sequential: CallsRun;
  concurrent: CallsRun;
  batched: CallsRun;
}

async function lookupAndInfo(c: Connection): Promise<void> {
  const d = await c.domainByName(DOMAIN);
  await d.info();
}

async function sequential(c: Connection, pairs: number): Promise<void> {
  for (let i = 0; i < pairs; i++) await lookupAndInfo(c);
}

async function concurrent(c: Connection, pairs: number): Promise<void> {
  await Promise.all(Array.from({ length: pairs }, () => lookupAndInfo(c)));
}

async function batched(c: Connection, pairs: number): Promise<void> {
  for (let done = 0; done < pairs; done += BATCH) await concurrent(c, Math.min(BATCH, pairs - done));
}

async function timed(mode: Mode, c: Connection): Promise<number> {
  const start = performance.now();
  await mode(c, PAIRS);
  return performance.now() - start;
}

// Repeats are interleaved so that a burst of noise from elsewhere on the machine hits every mode alike.
export async function measureBindingCalls(c: Connection): Promise<CallsResult> {
  await sequential(c, WARMUP_PAIRS);
  await concurrent(c, WARMUP_PAIRS);
  const r: CallsResult = {
    sequential: { label: 'sequential', repeatsMs: [] },
    concurrent: { label: 'concurrent, all at once', repeatsMs: [] },
    batched: { label: `concurrent, ${count(BATCH)} at a time`, repeatsMs: [] },
  };
  for (let i = 0; i < REPEATS; i++) {
    r.sequential.repeatsMs.push(await timed(sequential, c));
    r.concurrent.repeatsMs.push(await timed(concurrent, c));
    r.batched.repeatsMs.push(await timed(batched, c));
  }
  return r;
}

const medianMs = (run: CallsRun) => percentile(run.repeatsMs, 50);
const pairsPerSecond = (run: CallsRun) => PAIRS / (medianMs(run) / 1000);

function row(run: CallsRun): string {
  return [
    `   ${run.label.padEnd(28)}`,
    `${medianMs(run).toFixed(0).padStart(6)} ms`,
    count(pairsPerSecond(run)).padStart(9),
    count(pairsPerSecond(run) * CALLS_PER_PAIR).padStart(13),
    nanoseconds((medianMs(run) * 1e6) / PAIRS).padStart(10),
    `   ${Math.min(...run.repeatsMs).toFixed(0)}–${Math.max(...run.repeatsMs).toFixed(0)} ms`,
  ].join('  ');
}

export function reportBindingCalls(r: CallsResult): string[] {
  const ratio = (run: CallsRun) => (pairsPerSecond(run) / pairsPerSecond(r.sequential)).toFixed(2);
  return [
    `Calls: ${count(PAIRS)} × (await domainByName('${DOMAIN}'), then await info()), median of ${REPEATS}, after ${count(WARMUP_PAIRS)} warm-up pairs`,
    `   ${''.padEnd(28)}  ${'wall'.padStart(9)}  ${'pairs/s'.padStart(9)}  ${'bind calls/s'.padStart(13)}  ${'mean/pair'.padStart(10)}   range`,
    row(r.sequential),
    row(r.concurrent),
    row(r.batched),
    `   concurrent/sequential: ${ratio(r.concurrent)}× all at once, ${ratio(r.batched)}× ${count(BATCH)} at a time`,
  ];
}
