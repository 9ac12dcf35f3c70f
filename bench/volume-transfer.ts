import { randomBytes } from 'node:crypto';
import { mkdtemp, open, rm } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Connection } from '../src/libvirt/index.ts';
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

interface Row {
  what: string;
  virshMs: number;
  virtqlMs: number;
  rssGrowth: number;
}

export type VolumeTransferResult =
  | { skipped: string }
  | { rows: Row[]; loadBefore: number[]; loadAfter: number[]; dataBytes: number };

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
  const curl = await runCommand('curl', ['--version']).catch(() => undefined);
  if (!curl) return { skipped: 'no curl on this machine' };
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
    const paths = new Map<string, string>();
    for (const name of ['by-virsh.raw', 'by-virtql.raw']) {
      const xml = buildVolumeXml({ name, capacityBytes: BigInt(SIZE), allocationBytes: 0n, format: 'raw' });
      paths.set(name, (await pool.createVolume(xml)).path);
    }
    gateway = await buildBenchGateway({ qemu: uri });
    const base = (await gateway.app.start()).replace('/graphql', '');
    const gw = gateway;
    const issue = async (verb: 'upload' | 'download', name: string, extra = '') => {
      const res = (await gw.query(
        `mutation { ${verb}Volume(input: { volume: { path: "${paths.get(name)}" }${extra} }) { path } }`,
      )) as { data?: Record<string, { path: string }>; errors?: Array<{ message: string }> };
      const path = res.data?.[`${verb}Volume`]?.path;
      if (!path) throw new Error(`${verb}Volume: ${JSON.stringify(res.errors)}`);
      return `${base}${path}`;
    };
    const loadBefore = loadavg();
    const rows: Row[] = [];
    const virshUp = await timed(() =>
      runCommand(
        'virsh',
        ['-q', '-c', uri, 'vol-upload', '--sparse', '--pool', POOL_NAME, 'by-virsh.raw', source.path],
        {
          timeoutMs: TIMEOUT_MS,
        },
      ),
    );
    const upUrl = await issue('upload', 'by-virtql.raw', ', sparse: true');
    let answer = '';
    const up = await withRss(async () => {
      ({ stdout: answer } = await runCommand('curl', ['-sS', '-f', '-T', source.path, upUrl], {
        timeoutMs: TIMEOUT_MS,
      }));
    });
    const uploaded = JSON.parse(answer) as { bytes: string; sha256: string };
    if (uploaded.bytes !== String(SIZE)) throw new Error(`the upload took ${uploaded.bytes} bytes, not ${SIZE}`);
    rows.push({ what: 'upload', virshMs: virshUp, virtqlMs: up.ms, rssGrowth: up.growth });
    const virshDown = await timed(() =>
      runCommand(
        'virsh',
        ['-q', '-c', uri, 'vol-download', '--sparse', '--pool', POOL_NAME, 'by-virsh.raw', join(dir, 'back.raw')],
        {
          timeoutMs: TIMEOUT_MS,
        },
      ),
    );
    const downUrl = await issue('download', 'by-virtql.raw');
    let got = '';
    const down = await withRss(async () => {
      ({ stdout: got } = await runCommand('curl', ['-sS', '-f', '-o', '/dev/null', '-w', '%{size_download}', downUrl], {
        timeoutMs: TIMEOUT_MS,
      }));
    });
    if (got.trim() !== String(SIZE)) throw new Error(`the download sent ${got.trim()} bytes, not ${SIZE}`);
    rows.push({ what: 'download', virshMs: virshDown, virtqlMs: down.ms, rssGrowth: down.growth });
    return { rows, loadBefore, loadAfter: loadavg(), dataBytes: source.dataBytes };
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
      `  ${row.what.padEnd(9)} virsh ${seconds(row.virshMs)} (${rate(row.virshMs)}), virtql ${seconds(row.virtqlMs)} (${rate(row.virtqlMs)}): ${ratio.toFixed(2)}× virsh (target ≥ ${TARGET_RATIO}×) ${ratio >= TARGET_RATIO ? 'met' : 'MISSED'}; gateway RSS ${signedMegabytes(row.rssGrowth)} (target ≤ ${TARGET_RSS_MB} MB) ${row.rssGrowth <= TARGET_RSS_MB * MiB ? 'met' : 'MISSED'}`,
    );
  }
  return lines;
}

// `npx tsx bench/volume-transfer.ts` runs this one alone.
if (import.meta.url === `file://${process.argv[1]}`) {
  console.log(reportVolumeTransfer(await measureVolumeTransfer()).join('\n'));
}
