import { randomBytes } from 'node:crypto';
import { mkdtemp, open, rm } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Connection, type Volume } from '../src/libvirt/index.ts';
import { buildVolumeXml } from '../src/libvirt/xml/volume-xml.ts';
import { libvirtdUnavailableReason, type PrivateLibvirtd, startLibvirtd } from '../test/support/libvirtd.ts';
import { POOL_NAME } from '../test/support/libvirtd-files.ts';
import { runCommand } from '../test/support/run-command.ts';
import { buildBenchGateway } from './bench-gateway.ts';
import { megabytes, seconds, signedMegabytes } from './format.ts';

const GiB = 2 ** 30;
const MiB = 2 ** 20;
const SIZE = 2 * GiB;
/** 16 extents of 32 MiB random data, one every 128 MiB: 512 MiB of data, 1.5 GiB of holes. */
const EXTENT = 32 * MiB;
const STRIDE = 128 * MiB;
const TARGET_RATIO = 0.8;
const TARGET_RSS_MB = 64;
const TIMEOUT_MS = 20 * 60_000;

/** Rounds, alternating who goes first; the best time and the worst memory of each side are kept. */
const ROUNDS = 2;
/**
 * A client slower than the daemon reads (curl --limit-rate): libvirt's client queues what the
 * daemon sends ahead of it, which the download's windows bound.
 */
const SLOW_RATE = '200M';
/** GNU time, for virsh's peak RSS. */
const TIME = '/usr/bin/time';

interface Row {
  what: string;
  virshMs: number;
  virtqlMs: number;
  /** The gateway's RSS growth (the highest over the rounds). */
  rssGrowth: number;
  /** virsh's whole peak RSS, for scale: libvirt's client queues stream data it has not been asked for yet. */
  virshMaxRss: number;
  /** The same 2 GiB through a bare node:http server (discarding, or serving one zero buffer): HTTP's own floor. */
  httpMs: number;
}

interface Run {
  ms: number;
  rss: number;
}

interface Pair {
  virsh: Run;
  virtql: Run;
  http: number;
}

/**
 * curl against a bare node:http server on loopback, no libvirt: a PUT of the source file that the
 * server discards, and a GET of SIZE zero bytes from one shared buffer. What HTTP itself costs here.
 */
async function bareHttp(source: string): Promise<{ up: number; down: number }> {
  const zeros = Buffer.alloc(MiB);
  const server = createServer((req, res) => {
    if (req.method === 'PUT') {
      req.on('data', () => undefined);
      req.on('end', () => res.end('{}'));
      return;
    }
    res.writeHead(200, { 'content-length': String(SIZE) });
    let left = SIZE;
    const pump = () => {
      while (left > 0) {
        const n = Math.min(left, zeros.length);
        left -= n;
        if (!res.write(zeros.subarray(0, n))) return void res.once('drain', pump);
      }
      res.end();
    };
    pump();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  try {
    await runCommand('sync', []);
    const up = await timed(() => runCommand('curl', ['-sS', '-f', '-T', source, url], { timeoutMs: TIMEOUT_MS }));
    const down = await timed(() =>
      runCommand('curl', ['-sS', '-f', '-o', '/dev/null', url], { timeoutMs: TIMEOUT_MS }),
    );
    return { up, down };
  } finally {
    await new Promise((resolve) => server.close(resolve));
  }
}

export type VolumeTransferResult =
  | { skipped: string }
  | { rows: Row[]; slow: Run; loadBefore: number[]; loadAfter: number[]; dataBytes: number };

/** A 2 GiB sparse raw file: data extents and holes. */
async function sourceImage(dir: string): Promise<{ path: string; dataBytes: number }> {
  const path = join(dir, 'source.raw');
  const file = await open(path, 'w');
  let dataBytes = 0;
  try {
    for (let at = 0; at < SIZE; at += STRIDE) {
      for (let off = 0; off < EXTENT; off += 4 * MiB) await file.write(randomBytes(4 * MiB), 0, 4 * MiB, at + off);
      dataBytes += EXTENT;
    }
    await file.truncate(SIZE);
  } finally {
    await file.close();
  }
  return { path, dataBytes };
}

/** Highest RSS above the level when it starts, sampled every 10 ms while `run` runs. */
async function withRss(run: () => Promise<void>): Promise<{ ms: number; growth: number }> {
  (globalThis as { gc?: () => void }).gc?.();
  const base = process.memoryUsage.rss();
  let peak = base;
  const timer = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage.rss());
  }, 10);
  const started = performance.now();
  try {
    await run();
  } finally {
    clearInterval(timer);
  }
  peak = Math.max(peak, process.memoryUsage.rss());
  return { ms: performance.now() - started, growth: peak - base };
}

async function timed(run: () => Promise<unknown>): Promise<number> {
  const started = performance.now();
  await run();
  return performance.now() - started;
}

/**
 * Upload and download of a 2 GiB raw volume holding data and holes, on one private libvirtd:
 * `virsh vol-upload --sparse` / `vol-download --sparse` against uploadVolume(sparse) and
 * downloadVolume through the gateway's HTTP port with curl (a process of its own, so the RSS
 * sampled here is the gateway's). virsh downloads into a sparse file (its hole handler truncates,
 * which /dev/null refuses); curl into /dev/null: the gateway sends holes as zeros over HTTP (HTTP
 * has no holes) and a client that writes them pays for that, not the gateway.
 */
export async function measureVolumeTransfer(): Promise<VolumeTransferResult> {
  const unavailable = await libvirtdUnavailableReason();
  if (unavailable) return { skipped: unavailable };
  for (const [tool, args] of [
    ['curl', ['--version']],
    [TIME, ['true']],
  ] as const) {
    const found = await runCommand(tool, args).catch(() => undefined);
    if (!found) return { skipped: `no ${tool} on this machine` };
  }
  const dir = await mkdtemp(join(tmpdir(), 'virtql-bench-transfer-'));
  let daemon: PrivateLibvirtd | undefined;
  let gateway: Awaited<ReturnType<typeof buildBenchGateway>> | undefined;
  let connection: Connection | undefined;
  try {
    const source = await sourceImage(dir);
    daemon = await startLibvirtd({ name: 'bench-transfer' });
    const uri = daemon.uri;
    connection = await Connection.open(uri);
    const pool = await connection.storagePoolByName(POOL_NAME);
    gateway = await buildBenchGateway({ qemu: uri });
    const base = (await gateway.app.start()).replace('/graphql', '');
    const gw = gateway;
    const issue = async (verb: 'upload' | 'download', path: string, extra = '') => {
      const res = (await gw.query(
        `mutation { ${verb}Volume(input: { volume: { path: "${path}" }${extra} }) { path } }`,
      )) as { data?: Record<string, { path: string }>; errors?: Array<{ message: string }> };
      const url = res.data?.[`${verb}Volume`]?.path;
      if (!url) throw new Error(`${verb}Volume: ${JSON.stringify(res.errors)}`);
      return `${base}${url}`;
    };
    const virsh = async (...args: string[]): Promise<Run> => {
      await runCommand('sync', []);
      let maxRssKiB = '';
      const ms = await timed(async () => {
        const { stderr } = await runCommand(TIME, ['-f', 'maxrss=%M', 'virsh', '-q', '-c', uri, ...args], {
          timeoutMs: TIMEOUT_MS,
        });
        maxRssKiB = /maxrss=(\d+)/.exec(stderr)?.[1] ?? '';
      });
      return { ms, rss: Number(maxRssKiB) * 1024 };
    };
    const viaCurl = async (args: string[]): Promise<Run & { out: string }> => {
      await runCommand('sync', []);
      let out = '';
      const r = await withRss(async () => {
        ({ stdout: out } = await runCommand('curl', ['-sS', '-f', ...args], { timeoutMs: TIMEOUT_MS }));
      });
      return { ms: r.ms, rss: r.growth, out };
    };
    const loadBefore = loadavg();
    let slow: Run = { ms: 0, rss: 0 };
    const up: Pair[] = [];
    const down: Pair[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      const volumes = [];
      for (const who of ['virsh', 'virtql']) {
        const name = `by-${who}-${round}.raw`;
        const xml = buildVolumeXml({ name, capacityBytes: BigInt(SIZE), allocationBytes: 0n, format: 'raw' });
        volumes.push(await pool.createVolume(xml));
      }
      const [byVirsh, byVirtql] = volumes as [Volume, Volume];
      // Alternate who goes first: the page cache and writeback favour neither.
      const virshFirst = round % 2 === 0;
      const upVirsh = () => virsh('vol-upload', '--sparse', byVirsh.path, source.path);
      const upVirtql = async () => {
        const r = await viaCurl(['-T', source.path, await issue('upload', byVirtql.path, ', sparse: true')]);
        const answer = JSON.parse(r.out) as { bytes: string };
        if (answer.bytes !== String(SIZE)) throw new Error(`the upload took ${answer.bytes} bytes, not ${SIZE}`);
        return r;
      };
      const back = join(dir, 'back.raw');
      const downVirsh = async () => {
        await rm(back, { force: true });
        return virsh('vol-download', '--sparse', byVirsh.path, back);
      };
      const downVirtql = async () => {
        const url = await issue('download', byVirtql.path);
        const r = await viaCurl(['-o', '/dev/null', '-w', '%{size_download}', url]);
        if (r.out.trim() !== String(SIZE)) throw new Error(`the download sent ${r.out.trim()} bytes, not ${SIZE}`);
        return r;
      };
      const http = await bareHttp(source.path);
      if (virshFirst) up.push({ virsh: await upVirsh(), virtql: await upVirtql(), http: http.up });
      else {
        const virtql = await upVirtql();
        up.push({ virtql, virsh: await upVirsh(), http: http.up });
      }
      if (virshFirst) down.push({ virsh: await downVirsh(), virtql: await downVirtql(), http: http.down });
      else {
        const virtql = await downVirtql();
        down.push({ virtql, virsh: await downVirsh(), http: http.down });
      }
      if (round === ROUNDS - 1) {
        const url = await issue('download', byVirtql.path);
        const r = await viaCurl(['--limit-rate', SLOW_RATE, '-o', '/dev/null', '-w', '%{size_download}', url]);
        if (r.out.trim() !== String(SIZE)) throw new Error(`the slow download got ${r.out.trim()} bytes, not ${SIZE}`);
        slow = r;
      }
      for (const v of volumes) await v.delete();
      await rm(back, { force: true });
    }
    const row = (what: string, pairs: Pair[]): Row => ({
      what,
      virshMs: Math.min(...pairs.map((p) => p.virsh.ms)),
      virtqlMs: Math.min(...pairs.map((p) => p.virtql.ms)),
      rssGrowth: Math.max(...pairs.map((p) => p.virtql.rss)),
      virshMaxRss: Math.max(...pairs.map((p) => p.virsh.rss)),
      httpMs: Math.min(...pairs.map((p) => p.http)),
    });
    const rows = [row('upload', up), row('download', down)];
    return { rows, slow, loadBefore, loadAfter: loadavg(), dataBytes: source.dataBytes };
  } catch (e) {
    return { skipped: `failed: ${(e as Error).message.slice(0, 400)}` };
  } finally {
    await gateway?.app.stop().catch(() => undefined);
    await connection?.close().catch(() => undefined);
    await daemon?.stop().catch(() => undefined);
    await rm(dir, { recursive: true, force: true });
  }
}

export function reportVolumeTransfer(r: VolumeTransferResult): string[] {
  const title = `Volume upload and download, a ${SIZE / GiB} GiB raw volume with data and holes, virtql over HTTP (curl) vs virsh --sparse on the same daemon:`;
  if ('skipped' in r) return [title, `  skipped: ${r.skipped}`];
  const load = (l: number[]) => l.map((x) => x.toFixed(2)).join(' ');
  const rate = (ms: number) => `${megabytes(SIZE / (ms / 1000))} MB/s`;
  const lines = [
    title,
    `  ${megabytes(r.dataBytes)} MB of data; load average before ${load(r.loadBefore)}, after ${load(r.loadAfter)} (figures on a loaded machine are not final)`,
  ];
  for (const row of r.rows) {
    const ratio = row.virshMs / row.virtqlMs;
    lines.push(
      `  ${row.what.padEnd(9)} virsh ${seconds(row.virshMs)} (${rate(row.virshMs)}), virtql ${seconds(row.virtqlMs)} (${rate(row.virtqlMs)}): ${ratio.toFixed(2)}× virsh (target ≥ ${TARGET_RATIO}×) ${ratio >= TARGET_RATIO ? 'met' : 'MISSED'}; gateway RSS ${signedMegabytes(row.rssGrowth)} (target ≤ ${TARGET_RSS_MB} MB) ${row.rssGrowth <= TARGET_RSS_MB * MiB ? 'met' : 'MISSED'}; virsh's own peak RSS ${megabytes(row.virshMaxRss)} MB`,
      `  ${''.padEnd(9)} HTTP alone (curl and a bare node:http server, no libvirt) ${seconds(row.httpMs)} (${rate(row.httpMs)}): virtql takes ${(row.virtqlMs / row.httpMs).toFixed(2)}× that`,
    );
  }
  lines.push(
    `  download to a client limited to ${SLOW_RATE}B/s: ${seconds(r.slow.ms)}, gateway RSS ${signedMegabytes(r.slow.rss)} (target ≤ ${TARGET_RSS_MB} MB) ${r.slow.rss <= TARGET_RSS_MB * MiB ? 'met' : 'MISSED'}`,
  );
  return lines;
}

// `npx tsx bench/volume-transfer.ts` runs this one alone.
if (import.meta.url === `file://${process.argv[1]}`) {
  console.log(reportVolumeTransfer(await measureVolumeTransfer()).join('\n'));
}
