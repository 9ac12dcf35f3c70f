import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { Connection } from '../src/libvirt/index.ts';
import { count, megabytes, seconds, signedMegabytes } from './format.ts';

const DOMAIN = 'test';
// V8 grows its young generation over the first ~100k calls; measure after that.
const WARMUP_CALLS = 100_000;
const CALLS = 200_000;
const CALLS_PER_ROUND = 4;
const ROUNDS_IN_FLIGHT = 500;
const CHECKPOINTS = 4;
const GC_PASSES = 4;
const TARGET_GROWTH_MB = 5;

export interface MemorySample {
  calls: number;
  rss: number;
  heapUsed: number;
  heapTotal: number;
}

export interface MemoryResult {
  samples: MemorySample[];
  ms: number;
}

function collector(): NodeJS.GCFunction {
  if (globalThis.gc) return globalThis.gc;
  // npm run bench passes --expose-gc; this keeps a bare `node --import tsx bench/index.ts` measuring the same thing.
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as NodeJS.GCFunction;
}

async function round(c: Connection): Promise<void> {
  const d = await c.domainByName(DOMAIN);
  await d.info();
  await d.xml();
  await d.state();
}

async function call(c: Connection, calls: number): Promise<void> {
  const rounds = Math.ceil(calls / CALLS_PER_ROUND);
  for (let done = 0; done < rounds; done += ROUNDS_IN_FLIGHT) {
    await Promise.all(Array.from({ length: Math.min(ROUNDS_IN_FLIGHT, rounds - done) }, () => round(c)));
  }
}

async function sample(gc: NodeJS.GCFunction, calls: number): Promise<MemorySample> {
  // Handles are freed by finalizers that run after a collection, so collect again once they have.
  for (let i = 0; i < GC_PASSES; i++) {
    gc();
    await new Promise(setImmediate);
  }
  const { rss, heapUsed, heapTotal } = process.memoryUsage();
  return { calls, rss, heapUsed, heapTotal };
}

export async function measureBindingMemory(c: Connection): Promise<MemoryResult> {
  const gc = collector();
  await call(c, WARMUP_CALLS);
  const samples = [await sample(gc, 0)];
  const start = performance.now();
  for (let i = 1; i <= CHECKPOINTS; i++) {
    await call(c, CALLS / CHECKPOINTS);
    samples.push(await sample(gc, (CALLS * i) / CHECKPOINTS));
  }
  return { samples, ms: performance.now() - start };
}

function change(label: string, from: number, to: number): string {
  return `   ${label.padEnd(38)}${megabytes(from).padStart(6)} → ${megabytes(to).padStart(6)} MB  ${signedMegabytes(to - from).padStart(9)}`;
}

export function reportBindingMemory(r: MemoryResult): string[] {
  const first = r.samples[0];
  const last = r.samples.at(-1);
  if (!first || !last) return ['Memory: no samples'];
  const verdict = last.rss - first.rss < TARGET_GROWTH_MB * 2 ** 20 ? 'PASS' : 'OVER';
  const outsideV8 = (s: MemorySample) => s.rss - s.heapTotal;
  const trail = r.samples.map((s) => megabytes(s.rss)).join(' · ');
  const marks = r.samples.map((s) => (s.calls === 0 ? '0' : `${s.calls / 1000}k`)).join('/');
  return [
    `Memory: ${count(CALLS)} calls (domainByName + info + xml + state, ${ROUNDS_IN_FLIGHT} rounds in flight), after ${count(WARMUP_CALLS)} warm-up calls`,
    `${change('RSS', first.rss, last.rss)}   target < ${TARGET_GROWTH_MB} MB growth after warm-up: ${verdict}`,
    change('heapUsed', first.heapUsed, last.heapUsed),
    change('V8 heap reserved (heapTotal)', first.heapTotal, last.heapTotal),
    change('outside the V8 heap (rss − heapTotal)', outsideV8(first), outsideV8(last)),
    `   RSS after gc at ${marks} calls: ${trail} MB`,
    `   ${seconds(r.ms)} for the calls, ${count(CALLS / (r.ms / 1000))} calls/s with gc pauses`,
  ];
}
