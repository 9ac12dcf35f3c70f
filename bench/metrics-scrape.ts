import { Connection } from '../src/libvirt/connection.ts';
import { bindingCalls } from '../src/libvirt/native.ts';
import { buildBenchGateway } from './bench-gateway.ts';
import { count } from './format.ts';
import { writeInventoryNode } from './inventory-node.ts';
import { percentile } from './percentile.ts';

const DOMAINS = 1_000;
const REPEATS = 5;
const TARGET_MS = 100;

interface Run {
  label: string;
  ms: number[];
  calls: number[];
  byName: Map<string, number>;
  bytes: number;
}

async function counted(run: Run, body: () => Promise<number>): Promise<void> {
  globalThis.gc?.();
  const before = bindingCalls.total;
  const beforeByName = new Map(bindingCalls.byName);
  const start = performance.now();
  run.bytes = await body();
  run.ms.push(performance.now() - start);
  run.calls.push(bindingCalls.total - before);
  run.byName = new Map(
    [...bindingCalls.byName].flatMap(([name, n]) => {
      const delta = n - (beforeByName.get(name) ?? 0);
      return delta > 0 ? [[name, delta] as const] : [];
    }),
  );
}

/**
 * What an exporter without bulk stats does per scrape, through the port: list, then per domain
 * its info and its XML (to find the disks and NICs whose stats it then asks for one by one; the
 * binding has no per-device stats call, so those calls are left out and this loop is a lower
 * bound), then the pools with their info and the networks with their state.
 */
async function naiveExporter(c: Connection): Promise<number> {
  let values = 0;
  for (const domain of await c.domains()) {
    const info = await domain.info();
    await domain.xml();
    values += info.vcpus > 0 ? 5 : 0;
  }
  for (const pool of await c.storagePools()) {
    await pool.info();
    values += 3;
  }
  for (const network of await c.networks()) {
    await network.isActive();
    values += 1;
  }
  return values;
}

export interface ScrapeResult {
  domains: number;
  fresh: Run;
  cached: Run;
  naive: Run;
  domainSamples: number;
}

export async function measureMetricsScrape(): Promise<ScrapeResult> {
  const node = await writeInventoryNode(DOMAINS);
  // maxAgeSeconds 0: every scrape reads libvirt again; the cached gateway keeps its sample.
  const fresh = await buildBenchGateway({ bench: node.uri }, { metrics: { maxAgeSeconds: 0 } });
  const cached = await buildBenchGateway({ bench: node.uri }, { metrics: { maxAgeSeconds: 3600 } });
  const connection = await Connection.open(node.uri);
  const run = (label: string): Run => ({ label, ms: [], calls: [], byName: new Map(), bytes: 0 });
  const result: ScrapeResult = {
    domains: DOMAINS,
    fresh: run('/metrics, a fresh sample'),
    cached: run('/metrics, within maxAgeSeconds'),
    naive: run('per-domain loop over the port'),
    domainSamples: 0,
  };
  const scrape = (gw: typeof fresh) => async () => {
    const res = await gw.app.yoga.fetch('http://localhost/metrics');
    const text = await res.text();
    if (res.status !== 200) throw new Error(`/metrics answered ${res.status}: ${text.slice(0, 200)}`);
    result.domainSamples = text.split('\n').filter((l) => l.startsWith('libvirt_domain_info_state{')).length;
    return text.length;
  };
  try {
    await scrape(fresh)();
    await scrape(cached)();
    await naiveExporter(connection);
    for (let i = 0; i < REPEATS; i++) {
      await counted(result.fresh, scrape(fresh));
      await counted(result.cached, scrape(cached));
      await counted(result.naive, () => naiveExporter(connection));
    }
  } finally {
    await connection.close();
    await fresh.app.stop();
    await cached.app.stop();
    await node.remove();
  }
  return result;
}

const median = (r: Run) => percentile(r.ms, 50);

function row(r: Run): string {
  const range = `${count(Math.min(...r.ms))}–${count(Math.max(...r.ms))} ms`;
  const low = Math.min(...r.calls);
  const high = Math.max(...r.calls);
  const calls = low === high ? `${count(low)}` : `${count(low)}–${count(high)}`;
  return `   ${r.label.padEnd(34)}${`${median(r).toFixed(1)} ms`.padStart(10)}   ${range.padEnd(14)}${calls.padStart(6)}`;
}

const byName = (r: Run) =>
  [...r.byName]
    .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
    .map(([name, n]) => `${name} ${n}`)
    .join(' · ');

export function reportMetricsScrape(r: ScrapeResult): string[] {
  const verdict = median(r.fresh) <= TARGET_MS ? 'PASS' : 'OVER';
  return [
    `/metrics: one scrape of a test-driver host with ${count(r.domains)} domains (${count(r.domainSamples)} in the output, ${count(r.fresh.bytes / 1024)} KiB); median of ${REPEATS} after a warm-up`,
    `   ${''.padEnd(34)}${'median'.padStart(10)}   ${'range'.padEnd(14)}${'calls'.padStart(6)}`,
    row(r.fresh),
    row(r.cached),
    row(r.naive),
    `   fresh scrape ≤ ${TARGET_MS} ms: ${verdict}; per-domain loop / fresh scrape: ${(median(r.naive) / median(r.fresh)).toFixed(1)}×`,
    `   fresh scrape calls: ${byName(r.fresh)}`,
    `   per-domain loop calls: ${byName(r.naive)}`,
  ];
}
