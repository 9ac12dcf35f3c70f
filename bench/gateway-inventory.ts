import { isDeepStrictEqual } from 'node:util';
import { Connection } from '../src/libvirt/index.ts';
import { bindingCalls } from '../src/libvirt/native.ts';
import { buildBenchGateway } from './bench-gateway.ts';
import { count } from './format.ts';
import { gcShare, withGcTime } from './gc-time.ts';
import { handInventory, type InventoryDomain } from './hand-inventory.ts';
import { writeInventoryNode } from './inventory-node.ts';
import { percentile } from './percentile.ts';

const DOMAINS = 1_000;
const REPEATS = 5;
// Issue 21: at most 1.2× the hand-written loop, and 10,000 domains in at most 1 s.
const TARGET_RATIO = 1.2;
const LARGE = { domains: 10_000, repeats: 3, targetMs: 1_000 };
const HOST = 'bench';

const INVENTORY_QUERY =
  '{ host { domains { name uuid state vcpus memoryKiB maxMemoryKiB disks { sourcePath volume { name capacityBytes pool { name } } } interfaces { mac network { name active } } } } }';

export interface InventoryRun {
  /** Garbage collection during each repeat. */
  gcMs: number[];
  label: string;
  repeatsMs: number[];
  callsPerRun: number[];
  lastRunByName: Map<string, number>;
  domains: InventoryDomain[];
}

export interface InventoryResult {
  domains: number;
  gateway: InventoryRun;
  hand: InventoryRun;
  /** The same alternation without a full collection forced before each run: a server's steady state. */
  steady: { gatewayMs: number[]; handMs: number[] };
  errors: string[];
}

interface Counted<T> {
  ms: number;
  /** Garbage collection during the run. */
  gcMs: number;
  calls: number;
  byName: Map<string, number>;
  value: T;
}

async function counted<T>(run: () => Promise<T>, forceGc = true): Promise<Counted<T>> {
  if (forceGc) globalThis.gc?.();
  const before = bindingCalls.total;
  const beforeByName = new Map(bindingCalls.byName);
  const start = performance.now();
  const { value, gcMs } = await withGcTime(run);
  const ms = performance.now() - start;
  const byName = new Map<string, number>();
  for (const [name, n] of bindingCalls.byName) {
    const delta = n - (beforeByName.get(name) ?? 0);
    if (delta > 0) byName.set(name, delta);
  }
  return { ms, gcMs, calls: bindingCalls.total - before, byName, value };
}

function record(run: InventoryRun, r: Counted<InventoryDomain[]>): void {
  run.repeatsMs.push(r.ms);
  run.gcMs.push(r.gcMs);
  run.callsPerRun.push(r.calls);
  run.lastRunByName = r.byName;
  run.domains = r.value;
}

// Repeats alternate between the two so that noise from elsewhere on the machine hits both alike.
export async function measureGatewayInventory(): Promise<InventoryResult> {
  const node = await writeInventoryNode(DOMAINS);
  const gateway = await buildBenchGateway({ [HOST]: node.uri });
  const connection = await Connection.open(node.uri);
  const errors: string[] = [];
  const viaGateway = async (): Promise<InventoryDomain[]> => {
    const body = await gateway.query(INVENTORY_QUERY);
    for (const e of body.errors ?? []) if (errors.length < 3) errors.push(e.message);
    const data = body.data as { host?: { domains?: InventoryDomain[] } } | null | undefined;
    return data?.host?.domains ?? [];
  };
  const empty = (label: string): InventoryRun => ({
    label,
    repeatsMs: [],
    gcMs: [],
    callsPerRun: [],
    lastRunByName: new Map(),
    domains: [],
  });
  const result: InventoryResult = {
    domains: DOMAINS,
    gateway: empty('gateway (yoga.fetch, in-process)'),
    hand: empty('hand-written loop over the port'),
    steady: { gatewayMs: [], handMs: [] },
    errors,
  };
  try {
    await viaGateway();
    await handInventory(connection);
    for (let i = 0; i < REPEATS; i++) {
      record(result.gateway, await counted(viaGateway));
      record(result.hand, await counted(() => handInventory(connection)));
    }
    for (let i = 0; i < REPEATS; i++) {
      result.steady.gatewayMs.push((await counted(viaGateway, false)).ms);
      result.steady.handMs.push((await counted(() => handInventory(connection), false)).ms);
    }
  } finally {
    await connection.close();
    await gateway.app.stop();
    await node.remove();
  }
  return result;
}

const sum = (samples: readonly number[]) => samples.reduce((a, b) => a + b, 0);
const medianMs = (run: InventoryRun) => percentile(run.repeatsMs, 50);
const ms = (n: number) => `${count(n)} ms`;

function callsText(run: InventoryRun): string {
  const low = Math.min(...run.callsPerRun);
  const high = Math.max(...run.callsPerRun);
  return low === high ? `${low} per run` : `${low}–${high} per run`;
}

function row(run: InventoryRun): string {
  const range = `${count(Math.min(...run.repeatsMs))}–${count(Math.max(...run.repeatsMs))} ms`;
  return `   ${run.label.padEnd(34)}${ms(medianMs(run)).padStart(9)}   ${range.padEnd(16)}${callsText(run)}`;
}

const byUuid = (list: InventoryDomain[]) => [...list].sort((a, b) => a.uuid.localeCompare(b.uuid));

function comparison(r: InventoryResult): string {
  const g = byUuid(r.gateway.domains);
  const h = byUuid(r.hand.domains);
  const counts = `${count(g.length)} domains via the gateway, ${count(h.length)} by hand`;
  if (g.length !== r.domains || h.length !== r.domains) return `NO: ${counts}, ${count(r.domains)} expected`;
  if (isDeepStrictEqual(g, h)) {
    return `yes: ${counts}; every field identical (state, vCPUs, memory, max memory, disks with volume and pool, NICs with network)`;
  }
  const differing = g.filter((d, i) => !isDeepStrictEqual(d, h[i]));
  const memory = g.filter((d, i) => d.uuid !== h[i]?.uuid || d.memoryKiB !== h[i]?.memoryKiB).length;
  const first = differing[0];
  const other = first && h.find((d) => d.uuid === first.uuid);
  return [
    `NO: ${counts}; ${count(differing.length)} differ (${count(memory)} in uuid or memory)`,
    `      first: gateway ${JSON.stringify(first)}`,
    `             by hand ${JSON.stringify(other)}`,
  ].join('\n');
}

function callsByName(run: InventoryRun): string {
  return [...run.lastRunByName]
    .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
    .map(([name, n]) => `${name} ${n}`)
    .join(' · ');
}

export function reportGatewayInventory(r: InventoryResult): string[] {
  const ratio = medianMs(r.gateway) / medianMs(r.hand);
  const verdict = ratio <= TARGET_RATIO ? 'PASS' : 'OVER';
  const shutOff = r.hand.domains.filter((d) => d.state === 'SHUTOFF').length;
  return [
    `Inventory: 1 query over ${count(r.domains)} domains (${count(shutOff)} shut off), each with a pool volume and a NIC on a NAT network; median of ${REPEATS} after a warm-up`,
    '   { host { domains { … disks { volume { pool } } interfaces { network { active } } } } }',
    `   ${''.padEnd(34)}${'median'.padStart(9)}   ${'range'.padEnd(16)}binding calls`,
    row(r.gateway),
    row(r.hand),
    `   gateway / hand-written: ${ratio.toFixed(2)}×   target ≤ ${TARGET_RATIO}×: ${verdict}`,
    `   without a full collection forced before each run (steady state): gateway ${ms(percentile(r.steady.gatewayMs, 50))}, hand-written ${ms(percentile(r.steady.handMs, 50))}: ${(percentile(r.steady.gatewayMs, 50) / percentile(r.steady.handMs, 50)).toFixed(2)}× (information; the target is on the line above)`,
    `   garbage collection: ${gcShare(sum(r.gateway.gcMs), sum(r.gateway.repeatsMs))} of the gateway's runs (target ≤ 15%), ${gcShare(sum(r.hand.gcMs), sum(r.hand.repeatsMs))} of the hand-written loop's`,
    `   gateway calls: ${callsByName(r.gateway)}`,
    `   hand-written calls: ${callsByName(r.hand)}`,
    `   same data: ${comparison(r)}`,
    ...(r.errors.length > 0 ? [`   GraphQL errors (first ${r.errors.length}): ${r.errors.join(' | ')}`] : []),
  ];
}

export interface LargeInventoryResult {
  domains: number;
  repeatsMs: number[];
  gcMs: number[];
  answered: number;
  errors: string[];
}

/** The same inventory over 10,000 test-driver domains, through the gateway alone (issue 21: at most 1 s). */
export async function measureLargeGatewayInventory(): Promise<LargeInventoryResult> {
  const node = await writeInventoryNode(LARGE.domains);
  const gateway = await buildBenchGateway({ [HOST]: node.uri });
  const result: LargeInventoryResult = { domains: LARGE.domains, repeatsMs: [], gcMs: [], answered: 0, errors: [] };
  const once = async () => {
    const body = await gateway.query(INVENTORY_QUERY);
    for (const e of body.errors ?? []) if (result.errors.length < 3) result.errors.push(e.message);
    result.answered = (body.data as { host?: { domains?: unknown[] } } | null)?.host?.domains?.length ?? 0;
  };
  try {
    await once();
    for (let i = 0; i < LARGE.repeats; i++) {
      const r = await counted(once);
      result.repeatsMs.push(r.ms);
      result.gcMs.push(r.gcMs);
    }
  } finally {
    await gateway.app.stop();
    await node.remove();
  }
  return result;
}

export function reportLargeGatewayInventory(r: LargeInventoryResult): string[] {
  const median = percentile(r.repeatsMs, 50);
  return [
    `Inventory at ${count(r.domains)} test-driver domains, the same query through the gateway; median of ${LARGE.repeats} after a warm-up`,
    `   ${ms(median)} (${(median / r.domains).toFixed(3)} ms a domain), ${count(r.answered)} domains answered   target ≤ ${count(LARGE.targetMs)} ms: ${median <= LARGE.targetMs ? 'PASS' : 'OVER'}`,
    `   garbage collection: ${gcShare(sum(r.gcMs), sum(r.repeatsMs))} of the runs`,
    ...(r.errors.length > 0 ? [`   GraphQL errors (first ${r.errors.length}): ${r.errors.join(' | ')}`] : []),
  ];
}
