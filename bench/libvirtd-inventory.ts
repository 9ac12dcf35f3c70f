import { type ChildProcessWithoutNullStreams, execFile, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { Connection, type Domain } from '../src/libvirt/index.ts';
import { bindingCalls } from '../src/libvirt/native.ts';
import { buildDomainXml } from '../src/libvirt/xml/domain-spec-xml.ts';
import { buildVolumeXml } from '../src/libvirt/xml/volume-xml.ts';
import { libvirtdUnavailableReason, type PrivateLibvirtd, startLibvirtd } from '../test/support/libvirtd.ts';
import { NETWORK_NAME, POOL_NAME } from '../test/support/libvirtd-files.ts';
import { buildBenchGateway } from './bench-gateway.ts';
import { count } from './format.ts';
import { gcShare, withGcTime } from './gc-time.ts';
import { percentile } from './percentile.ts';

/** The inventories measured: 1,000 domains, and 10,000 (fewer repeats: each python loop takes seconds there). */
export const LIBVIRTD_INVENTORIES = [
  { domains: 1_000, repeats: 5 },
  { domains: 10_000, repeats: 3 },
] as const;
const VOLUME_BYTES = 1n << 20n;
/** Requests in flight while the bench defines its volumes and domains (libvirtd serves 5 per client at once). */
const SETUP_PARALLEL = 5;
// Issue 21's targets, the same at both sizes.
const TARGET_VS_PARSING = 0.35;
const TARGET_VS_BULK = 0.8;
const PYTHONS = ['/usr/bin/python3', 'python3'];
const SCRIPT = fileURLToPath(new URL('./python-inventory.py', import.meta.url));

const QUERY =
  '{ host { domains { name uuid state vcpus memoryKiB maxMemoryKiB autostart disks { targetDevice sourcePath } interfaces { mac network { name } } } } }';

const FIGURES = {
  loop: 'a. libvirt-python loop: info, autostart, XMLDesc',
  parse: 'b. the same loop + ElementTree disks and NICs',
  bulk: 'c. libvirt-python bulk: getAllDomainStats + XMLDesc',
  virtql: 'd. virtql over HTTP',
} as const;
type Figure = keyof typeof FIGURES;
type PythonMode = Exclude<Figure, 'virtql'>;
const ORDER: readonly Figure[] = ['loop', 'parse', 'bulk', 'virtql'];

interface PythonAnswer {
  mode: string;
  ms?: number;
  domains?: number;
  disks?: number;
  nics?: number;
  xmlBytes?: number;
  error?: string;
}

interface VirtqlDomain {
  name: string;
  disks: Array<{ targetDevice: string; sourcePath: string | null }> | null;
  interfaces: Array<{ mac: string | null; network: { name: string } | null }> | null;
}

export type LibvirtdInventoryResult =
  | { skipped: string }
  | {
      domains: number;
      repeats: number;
      domainType: string;
      python: string;
      url: string;
      setupMs: number;
      repeatsMs: Record<Figure, number[]>;
      callsPerRun: number[];
      /** Garbage collection during each virtql run. */
      virtqlGcMs: number[];
      lastCallsByName: Map<string, number>;
      xmlBytes: number;
      checks: string[];
      problems: string[];
    };

const run = promisify(execFile);

/** The first python3 that has libvirt-python; PATH may lead to one without (pyenv, a venv) before Debian's. */
async function findPython(): Promise<{ python: string; version: string } | { reason: string }> {
  for (const python of PYTHONS) {
    try {
      const { stdout } = await run(
        python,
        ['-c', 'import libvirt, sys; print(libvirt.getVersion(), sys.version.split()[0])'],
        {
          timeout: 30_000,
        },
      );
      const [libvirt = '0', version = '?'] = stdout.trim().split(' ');
      const n = Number(libvirt);
      const dotted = `${Math.floor(n / 1_000_000)}.${Math.floor(n / 1_000) % 1_000}.${n % 1_000}`;
      return { python, version: `libvirt-python ${dotted} on Python ${version} (${python})` };
    } catch {
      // Not there, or no libvirt module: try the next.
    }
  }
  return {
    reason: `no python3 with the libvirt module among ${PYTHONS.join(', ')} (scripts/setup.sh installs python3-libvirt)`,
  };
}

/** One python3 process connected to the daemon, answering one JSON line per mode it is sent. */
class PythonInventory {
  readonly #child: ChildProcessWithoutNullStreams;
  readonly #lines: AsyncIterator<string>;
  #stderr = '';

  private constructor(child: ChildProcessWithoutNullStreams) {
    this.#child = child;
    // A spawn failure ends stdout, so the pending read reports it with this text.
    child.on('error', (error) => {
      this.#stderr += `${error.message}\n`;
    });
    // Writing to a Python that has died fails with EPIPE here; the read that follows reports it.
    child.stdin.on('error', (error) => {
      this.#stderr += `${error.message}\n`;
    });
    child.stderr.on('data', (chunk: Buffer) => {
      this.#stderr = (this.#stderr + chunk.toString()).slice(-2_000);
    });
    this.#lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  }

  static async start(python: string, uri: string): Promise<PythonInventory> {
    const p = new PythonInventory(spawn(python, [SCRIPT, uri], { stdio: 'pipe' }));
    await p.#next();
    return p;
  }

  async #next(): Promise<Record<string, unknown>> {
    const line = await this.#lines.next();
    if (line.done) throw new Error(`python exited: ${this.#stderr.trim() || '(no output)'}`);
    return JSON.parse(line.value) as Record<string, unknown>;
  }

  async run(mode: PythonMode): Promise<PythonAnswer> {
    this.#child.stdin.write(`${mode}\n`);
    const answer = (await this.#next()) as unknown as PythonAnswer;
    if (answer.error !== undefined) throw new Error(`python ${mode}: ${answer.error}`);
    return answer;
  }

  /** Asks it to quit, and kills it (by its own pid) if it has not within 5 s. */
  async stop(): Promise<void> {
    const child = this.#child;
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.stdin.end('quit\n');
    const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
    await exited;
    clearTimeout(timer);
  }
}

/** `work` over `items`, at most `parallel` at a time, results in order. */
async function inBatches<T, R>(items: readonly T[], parallel: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await work(items[i] as T);
    }
  };
  await Promise.all(Array.from({ length: parallel }, worker));
  return results;
}

const pad = (i: number) => String(i).padStart(4, '0');

function mac(i: number): string {
  const hex = (n: number) => n.toString(16).padStart(2, '0');
  return `52:54:00:be:${hex((i >> 8) & 0xff)}:${hex(i & 0xff)}`;
}

interface Expected {
  sourcePath: string;
  mac: string;
}

/** `total` domains that are defined, never started: a raw 1 MiB pool volume and a NIC on the daemon's NAT network each. */
async function populate(
  c: Connection,
  type: 'kvm' | 'qemu',
  total: number,
): Promise<{ domains: Domain[]; expected: Map<string, Expected> }> {
  const pool = await c.storagePoolByName(POOL_NAME);
  const indices = Array.from({ length: total }, (_, i) => i);
  const volumes = await inBatches(indices, SETUP_PARALLEL, (i) =>
    pool.createVolume(buildVolumeXml({ name: `inv-${pad(i)}.img`, capacityBytes: VOLUME_BYTES, format: 'raw' })),
  );
  const expected = new Map<string, Expected>();
  const domains = await inBatches(indices, SETUP_PARALLEL, (i) => {
    const name = `inv-${pad(i)}`;
    const sourcePath = volumes[i]?.path ?? '';
    expected.set(name, { sourcePath, mac: mac(i) });
    return c.defineDomain(
      buildDomainXml({
        type,
        name,
        memoryKiB: BigInt(64 + (i % 8) * 64) * 1024n,
        vcpus: 1 + (i % 4),
        machine: 'pc',
        disks: [{ kind: 'file', sourcePath, targetDev: 'vda', bus: 'virtio', driverType: 'raw' }],
        interfaces: [{ type: 'network', source: NETWORK_NAME, mac: mac(i), model: 'virtio' }],
      }),
    );
  });
  return { domains, expected };
}

function checkVirtql(domains: VirtqlDomain[], expected: Map<string, Expected>): string[] {
  const problems: string[] = [];
  if (domains.length !== expected.size)
    problems.push(`${count(domains.length)} domains, ${count(expected.size)} expected`);
  for (const d of domains) {
    const want = expected.get(d.name);
    const disk = d.disks?.[0];
    const nic = d.interfaces?.[0];
    const ok =
      want !== undefined &&
      d.disks?.length === 1 &&
      d.interfaces?.length === 1 &&
      disk?.targetDevice === 'vda' &&
      disk.sourcePath === want.sourcePath &&
      nic?.mac === want.mac &&
      nic.network?.name === NETWORK_NAME;
    if (!ok && problems.length < 3)
      problems.push(`${d.name}: ${JSON.stringify({ disks: d.disks, interfaces: d.interfaces })}`);
  }
  return problems;
}

async function stopQuietly(what: string, stop: () => Promise<unknown>, problems: string[]): Promise<void> {
  try {
    await stop();
  } catch (error) {
    problems.push(`stopping ${what}: ${(error as Error).message.split('\n')[0]}`);
  }
}

/**
 * The inventory on a real libvirtd (the test harness's private one, started and stopped here),
 * against the loops users write with libvirt-python, in the same run. Never throws: a daemon
 * that cannot start, or a step that fails, comes back as `skipped` with the reason.
 */
export async function measureLibvirtdInventory(total: number, repeats: number): Promise<LibvirtdInventoryResult> {
  const unavailable = await libvirtdUnavailableReason();
  if (unavailable !== undefined) return { skipped: `no private libvirtd here: ${unavailable}` };
  const found = await findPython();
  if ('reason' in found) return { skipped: found.reason };
  let daemon: PrivateLibvirtd;
  try {
    daemon = await startLibvirtd({ name: 'bench' });
  } catch (error) {
    return { skipped: `the private libvirtd did not start: ${(error as Error).message.split('\n')[0]}` };
  }
  const problems: string[] = [];
  let connection: Connection | undefined;
  let domains: Domain[] = [];
  let gateway: Awaited<ReturnType<typeof buildBenchGateway>> | undefined;
  let python: PythonInventory | undefined;
  try {
    connection = await Connection.open(daemon.uri);
    const type = daemon.kvm ? 'kvm' : 'qemu';
    const setupStart = performance.now();
    const populated = await populate(connection, type, total);
    domains = populated.domains;
    const setupMs = performance.now() - setupStart;

    gateway = await buildBenchGateway({ qemu: daemon.uri });
    const url = await gateway.app.start();
    python = await PythonInventory.start(found.python, daemon.uri);
    const py = python;
    const checks: string[] = [];
    let virtqlDomains: VirtqlDomain[] = [];
    let xmlBytes = 0;
    const viaVirtql = async (): Promise<number> => {
      globalThis.gc?.();
      const start = performance.now();
      const res = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ query: QUERY }),
      });
      const body = (await res.json()) as {
        data?: { host?: { domains?: VirtqlDomain[] } };
        errors?: Array<{ message: string }>;
      };
      const ms = performance.now() - start;
      if (!res.ok && problems.length < 3) problems.push(`virtql: HTTP ${res.status}`);
      for (const e of body.errors ?? []) if (problems.length < 3) problems.push(`virtql: ${e.message}`);
      virtqlDomains = body.data?.host?.domains ?? [];
      return ms;
    };
    const viaPython = async (mode: PythonMode): Promise<number> => {
      const answer = await py.run(mode);
      xmlBytes = answer.xmlBytes ?? xmlBytes;
      if (answer.domains !== total) problems.push(`python ${mode}: ${answer.domains} domains`);
      if (mode === 'parse' && (answer.disks !== total || answer.nics !== total)) {
        problems.push(`python parse: ${answer.disks} disks, ${answer.nics} NICs`);
      }
      return answer.ms ?? Number.NaN;
    };
    const repeatsMs: Record<Figure, number[]> = { loop: [], parse: [], bulk: [], virtql: [] };
    const callsPerRun: number[] = [];
    const virtqlGcMs: number[] = [];
    let lastCallsByName = new Map<string, number>();
    const measure = async (figure: Figure): Promise<number> => {
      if (figure !== 'virtql') return viaPython(figure);
      const before = bindingCalls.total;
      const beforeByName = new Map(bindingCalls.byName);
      const { value: ms, gcMs } = await withGcTime(viaVirtql);
      virtqlGcMs.push(gcMs);
      callsPerRun.push(bindingCalls.total - before);
      lastCallsByName = new Map();
      for (const [name, n] of bindingCalls.byName) {
        const delta = n - (beforeByName.get(name) ?? 0);
        if (delta > 0) lastCallsByName.set(name, delta);
      }
      return ms;
    };
    // Warm-up: the daemon's caches, Python's imports, the gateway's schema and JIT.
    for (const figure of ORDER) await measure(figure);
    callsPerRun.length = 0;
    virtqlGcMs.length = 0;
    // The four alternate, starting one further each round, so noise from elsewhere hits all alike.
    for (let round = 0; round < repeats; round++) {
      for (let k = 0; k < ORDER.length; k++) {
        const figure = ORDER[(round + k) % ORDER.length] as Figure;
        repeatsMs[figure].push(await measure(figure));
      }
    }
    const wrong = checkVirtql(virtqlDomains, populated.expected);
    if (wrong.length === 0) {
      checks.push(
        `yes: ${count(virtqlDomains.length)} domains from virtql, each with 1 disk (vda on its own volume) and 1 NIC (its MAC, on ${NETWORK_NAME})`,
      );
    } else {
      checks.push(`NO: ${wrong.join(' | ')}`);
    }
    return {
      domains: total,
      repeats,
      domainType: type,
      python: found.version,
      url,
      setupMs,
      repeatsMs,
      callsPerRun,
      virtqlGcMs,
      lastCallsByName,
      xmlBytes,
      checks,
      problems,
    };
  } catch (error) {
    return { skipped: `failed: ${(error as Error).message.split('\n')[0]}` };
  } finally {
    if (python !== undefined) await stopQuietly('python', () => (python as PythonInventory).stop(), problems);
    if (gateway !== undefined)
      await stopQuietly('the gateway', () => (gateway as { app: { stop(): Promise<void> } }).app.stop(), problems);
    // Undefined here, a few at a time: the harness's teardown would run virsh once per domain.
    await stopQuietly('the domains', () => inBatches(domains, SETUP_PARALLEL, (d) => d.undefine()), problems);
    if (connection !== undefined)
      await stopQuietly('the connection', () => (connection as Connection).close(), problems);
    await stopQuietly('libvirtd', () => daemon.stop(), problems);
  }
}

const median = (samples: readonly number[]) => percentile(samples, 50);
/** The plain loop's calls: listAllDomains, then info, autostart and XMLDesc per domain. */
const rpcsPerLoop = (domains: number) => 1 + 3 * domains;
const perRpcMicros = (loopMs: number, domains: number) => (loopMs * 1000) / rpcsPerLoop(domains);
const ms = (n: number) => `${count(n)} ms`;

function row(label: string, samples: readonly number[], extra = ''): string {
  const range = `${count(Math.min(...samples))}–${count(Math.max(...samples))} ms`;
  return `   ${label.padEnd(52)}${ms(median(samples)).padStart(9)}   ${range.padEnd(16)}${extra}`;
}

function ratioLine(label: string, ratio: number, target: number): string {
  return `   ${label}: ${ratio.toFixed(2)}×   target ≤ ${target.toFixed(2)}×: ${ratio <= target ? 'PASS' : 'OVER'}`;
}

export function reportLibvirtdInventory(r: LibvirtdInventoryResult, total: number): string[] {
  const title = `Real-libvirtd inventory: ${count(total)} inactive domains on the test harness's private libvirtd`;
  if ('skipped' in r) return [title, `   skipped: ${r.skipped}`];
  const low = Math.min(...r.callsPerRun);
  const high = Math.max(...r.callsPerRun);
  const calls = low === high ? `${count(low)}` : `${count(low)}–${count(high)}`;
  const byName = [...r.lastCallsByName]
    .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
    .map(([name, n]) => `${name} ${n}`)
    .join(' · ');
  const virtql = median(r.repeatsMs.virtql);
  return [
    `${title} (type ${r.domainType}, defined in ${(r.setupMs / 1000).toFixed(1)} s), each with a raw 1 MiB pool volume and a NIC on a NAT network; median of ${r.repeats} after a warm-up, the four alternating`,
    `   ${r.python}, one process, timed inside Python · virtql: POST ${r.url}, timed from fetch to the parsed JSON body · ${(r.xmlBytes / 2 ** 20).toFixed(1)} MB of domain XML per inventory`,
    `   ${QUERY}`,
    `   ${''.padEnd(52)}${'median'.padStart(9)}   ${'range'.padEnd(16)}`,
    row(FIGURES.loop, r.repeatsMs.loop),
    row(FIGURES.parse, r.repeatsMs.parse),
    row(FIGURES.bulk, r.repeatsMs.bulk),
    row(FIGURES.virtql, r.repeatsMs.virtql, `${calls} binding calls per run`),
    ratioLine('virtql / parsing loop (b)', virtql / median(r.repeatsMs.parse), TARGET_VS_PARSING),
    ratioLine('virtql / bulk loop (c)', virtql / median(r.repeatsMs.bulk), TARGET_VS_BULK),
    `   virtql / plain loop (a): ${(virtql / median(r.repeatsMs.loop)).toFixed(2)}× (no target)`,
    // What one RPC costs on this machine and daemon: compares figures taken on two machines.
    `   the daemon's cost per RPC: ${perRpcMicros(median(r.repeatsMs.loop), r.domains).toFixed(0)} µs (the plain loop: ${count(rpcsPerLoop(r.domains))} sequential calls)`,
    `   garbage collection: ${gcShare(
      r.virtqlGcMs.reduce((a, b) => a + b, 0),
      r.repeatsMs.virtql.reduce((a, b) => a + b, 0),
    )} of virtql's runs (the process: gateway and its HTTP client)`,
    `   virtql calls: ${byName}`,
    ...r.checks.map((c) => `   same data: ${c}`),
    ...(r.problems.length > 0 ? [`   problems: ${r.problems.join(' | ')}`] : []),
  ];
}
