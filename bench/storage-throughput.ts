import { randomBytes } from 'node:crypto';
import { mkdtemp, open, rm, writeFile } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { Connection, ConsoleStream, type Domain, type StoragePool } from '../src/libvirt/index.ts';
import { buildBackupXml } from '../src/libvirt/xml/backup-xml.ts';
import { buildStoragePoolXml, parseStoragePoolXml } from '../src/libvirt/xml/storage-pool-xml.ts';
import { buildVolumeXml } from '../src/libvirt/xml/volume-xml.ts';
import { consoleCollector } from '../test/support/console-collector.ts';
import { buildGuestImage, GUEST_READY_MARKER, guestDomainXml } from '../test/support/guest-image.ts';
import { libvirtdUnavailableReason, type PrivateLibvirtd, startLibvirtd } from '../test/support/libvirtd.ts';
import { POOL_NAME } from '../test/support/libvirtd-files.ts';
import { runCommand } from '../test/support/run-command.ts';
import { type BenchGateway, buildBenchGateway } from './bench-gateway.ts';
import { megabytes, seconds } from './format.ts';

const MiB = 2 ** 20;
/** The guest's disk: this many bytes of random data (a fully written raw volume). */
const DISK_BYTES = 384 * MiB;
const TARGET_RATIO = 0.8;
const TIMEOUT_MS = 10 * 60_000;
/** Rounds, alternating who goes first; the best time of each side is kept. */
const ROUNDS = 2;
/** How often both sides look whether a job ended. */
const POLL_MS = 50;
const NAME = 'bench-storage';
const POOL_B = 'bench-storage-b';

interface Row {
  what: string;
  virshMs: number;
  virtqlMs: number;
}

export type StorageThroughputResult =
  | { skipped: string }
  | { rows: Row[]; loadBefore: number[]; loadAfter: number[]; bytes: number };

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function timed(run: () => Promise<unknown>): Promise<number> {
  const started = performance.now();
  await run();
  return performance.now() - started;
}

/** A tracked operation through the gateway: started by `mutation`, followed until it ends; throws unless COMPLETED. */
async function operation(gw: BenchGateway, mutation: string, field: string): Promise<Record<string, unknown>> {
  const started = (await gw.query(`mutation { ${mutation} { id } }`)) as {
    data?: Record<string, { id: string }>;
    errors?: Array<{ message: string }>;
  };
  const id = started.data?.[field]?.id;
  if (!id) throw new Error(`${field}: ${JSON.stringify(started.errors)}`);
  for (;;) {
    const res = (await gw.query(
      `{ operation(id: "${id}") { status errorMessage backup { volumes } diskJob { path } } }`,
    )) as { data?: { operation: Record<string, unknown> & { status: string; errorMessage: string | null } } };
    const op = res.data?.operation;
    if (!op) throw new Error(`operation ${id}: ${JSON.stringify(res)}`);
    if (op.status === 'COMPLETED') return op;
    if (op.status !== 'RUNNING') throw new Error(`${field} ended ${op.status}: ${op.errorMessage}`);
    await sleep(POLL_MS);
  }
}

/** Waits for the domain's job (a backup) to end, as virsh domjobinfo would show it; throws unless it COMPLETED. */
async function jobEnded(domain: Domain): Promise<void> {
  while ((await domain.jobStats()).type !== 'NONE') await sleep(POLL_MS);
  const done = await domain.jobStats({ completed: true });
  if (done.type !== 'COMPLETED') throw new Error(`virsh backup-begin's job ended ${done.type}`);
}

/** A raw volume of DISK_BYTES random bytes in `pool`. */
async function dataVolume(pool: StoragePool, name: string): Promise<string> {
  const volume = await pool.createVolume(buildVolumeXml({ name, capacityBytes: BigInt(DISK_BYTES), format: 'raw' }));
  const file = await open(volume.path, 'r+');
  try {
    for (let at = 0; at < DISK_BYTES; at += 4 * MiB) await file.write(randomBytes(4 * MiB), 0, 4 * MiB, at);
  } finally {
    await file.close();
  }
  return volume.path;
}

/** Deletes every volume of `pool` whose name starts with `prefix` (after a refresh: virsh made some behind libvirt's back). */
async function deleteVolumes(pool: StoragePool, prefix: string): Promise<void> {
  await pool.refresh().catch(() => undefined);
  for (const v of await pool.volumes().catch(() => [])) {
    if (v.name.startsWith(prefix)) await v.delete().catch(() => undefined);
  }
}

/**
 * Storage throughput of a running tiny guest's disk (DISK_BYTES of data) on one private libvirtd:
 * moveDomainDisk to another pool through the gateway against `virsh blockcopy --wait --pivot`, and
 * a full backupDomain against `virsh backup-begin` followed until its job ends. Each side moves the
 * disk once each way per round (A→B, then B→A), so neither copies from a warmer pool.
 */
export async function measureStorageThroughput(): Promise<StorageThroughputResult> {
  const unavailable = await libvirtdUnavailableReason();
  if (unavailable) return { skipped: unavailable };
  const dir = await mkdtemp(join(tmpdir(), 'virtql-bench-storage-'));
  let daemon: PrivateLibvirtd | undefined;
  let gateway: BenchGateway | undefined;
  let connection: Connection | undefined;
  let poolA: StoragePool | undefined;
  let poolB: StoragePool | undefined;
  let poolBDir: string | undefined;
  let domain: Domain | undefined;
  let stream: ConsoleStream | undefined;
  try {
    const image = await buildGuestImage();
    daemon = await startLibvirtd({ name: 'bench-storage' });
    const uri = daemon.uri;
    const c = await Connection.open(uri);
    connection = c;
    const a = await c.storagePoolByName(POOL_NAME);
    poolA = a;
    // Beside the daemon's pool, on the same filesystem: a move copies between two directories of one disk.
    poolBDir = join(dirname(parseStoragePoolXml(await a.xml()).targetPath as string), POOL_B);
    const b = await c.createStoragePool(
      buildStoragePoolXml({ type: 'dir', name: POOL_B, targetPath: poolBDir }),
      'WITH_BUILD',
    );
    poolB = b;
    const diskPath = await dataVolume(a, `${NAME}-0.img`);
    const allow = { storage: { allowedPaths: [dirname(image.kernel), dirname(image.initrd)] } };
    const gw = await buildBenchGateway({ qemu: uri }, allow);
    gateway = gw;
    const dom = await c.defineDomain(
      guestDomainXml({ name: NAME, image, serial: 'pty', disks: [{ path: diskPath, target: 'vda' }] }),
    );
    domain = dom;
    const out = consoleCollector();
    await dom.start({ paused: true });
    stream = await ConsoleStream.open(dom, out.listener);
    await dom.resume();
    await out.until(GUEST_READY_MARKER);

    const pools = { a, b } as const;
    const dirs = { a: dirname(diskPath), b: poolBDir };
    let where: 'a' | 'b' = 'a';
    let current = diskPath;
    let moves = 0;
    /** The disk from where it is to the other pool, by `who`. */
    const move = async (who: 'virsh' | 'virtql'): Promise<number> => {
      moves += 1;
      const to = where === 'a' ? 'b' : 'a';
      const name = `${NAME}-${moves}.img`;
      await runCommand('sync', []);
      let ms: number;
      if (who === 'virtql') {
        ms = await timed(() =>
          operation(
            gw,
            `moveDomainDisk(input: { domain: { name: "${NAME}" }, disk: "vda", pool: "${pools[to].name}", format: RAW, name: "${name}" })`,
            'moveDomainDisk',
          ),
        );
      } else {
        const target = join(dirs[to], name);
        ms = await timed(() =>
          runCommand(
            'virsh',
            [
              '-q',
              '-c',
              uri,
              'blockcopy',
              NAME,
              'vda',
              target,
              '--format',
              'raw',
              '--transient-job',
              '--wait',
              '--pivot',
            ],
            {
              timeoutMs: TIMEOUT_MS,
            },
          ),
        );
        await pools[to].refresh();
      }
      // The old copy is no disk's any more: delete it (libvirt knows it only after a refresh).
      const from = pools[where];
      await from.refresh();
      await (await c.volumeByPath(current)).delete();
      current = join(dirs[to], name);
      where = to;
      return ms;
    };

    const backups: string[] = [];
    const backup = async (who: 'virsh' | 'virtql'): Promise<number> => {
      await runCommand('sync', []);
      if (who === 'virtql') {
        let volumes: string[] = [];
        const ms = await timed(async () => {
          const op = await operation(
            gw,
            `backupDomain(input: { domain: { name: "${NAME}" }, pool: "${POOL_NAME}" })`,
            'backupDomain',
          );
          volumes = (op.backup as { volumes: string[] }).volumes;
        });
        backups.push(...volumes);
        return ms;
      }
      const target = join(dirs.a, `${NAME}-virsh-backup-${backups.length}.qcow2`);
      const xmlFile = join(dir, 'backup.xml');
      await writeFile(
        xmlFile,
        buildBackupXml({ disks: [{ name: 'vda', backup: true, file: target, format: 'qcow2' }] }),
      );
      const ms = await timed(async () => {
        await runCommand('virsh', ['-q', '-c', uri, 'backup-begin', NAME, '--backupxml', xmlFile], {
          timeoutMs: TIMEOUT_MS,
        });
        await jobEnded(dom);
      });
      backups.push(target);
      return ms;
    };

    const loadBefore = loadavg();
    const moveTimes = { virsh: [] as number[], virtql: [] as number[] };
    const backupTimes = { virsh: [] as number[], virtql: [] as number[] };
    for (let round = 0; round < ROUNDS; round++) {
      // Alternate who goes first, and so who copies A→B: the page cache and writeback favour neither.
      const order = round % 2 === 0 ? (['virtql', 'virsh'] as const) : (['virsh', 'virtql'] as const);
      for (const who of order) moveTimes[who].push(await move(who));
      for (const who of order) backupTimes[who].push(await backup(who));
      await a.refresh();
      for (const path of backups.splice(0)) await (await c.volumeByPath(path)).delete();
    }
    const row = (what: string, times: { virsh: number[]; virtql: number[] }): Row => ({
      what,
      virshMs: Math.min(...times.virsh),
      virtqlMs: Math.min(...times.virtql),
    });
    return {
      rows: [row('move', moveTimes), row('backup', backupTimes)],
      loadBefore,
      loadAfter: loadavg(),
      bytes: DISK_BYTES,
    };
  } catch (e) {
    return { skipped: `failed: ${(e as Error).message.slice(0, 400)}` };
  } finally {
    await stream?.close().catch(() => undefined);
    if (domain) {
      await domain.destroy().catch(() => undefined);
      await domain.undefine().catch(() => undefined);
    }
    await gateway?.app.stop().catch(() => undefined);
    if (poolA) await deleteVolumes(poolA, NAME);
    if (poolB) {
      await deleteVolumes(poolB, NAME);
      await poolB.stop().catch(() => undefined);
    }
    if (poolBDir) await rm(poolBDir, { recursive: true, force: true });
    await connection?.close().catch(() => undefined);
    await daemon?.stop().catch(() => undefined);
    await rm(dir, { recursive: true, force: true });
  }
}

export function reportStorageThroughput(r: StorageThroughputResult): string[] {
  const title = `Disk move and backup of a running tiny guest, ${megabytes(DISK_BYTES)} MiB of data, virtql (moveDomainDisk, backupDomain) vs virsh (blockcopy --transient-job --wait --pivot, backup-begin until the job ends) on the same daemon:`;
  if ('skipped' in r) return [title, `  skipped: ${r.skipped}`];
  const load = (l: number[]) => l.map((x) => x.toFixed(2)).join(' ');
  const rate = (ms: number) => `${megabytes(r.bytes / (ms / 1000))} MiB/s`;
  const lines = [
    title,
    `  load average before ${load(r.loadBefore)}, after ${load(r.loadAfter)} (figures on a loaded machine are not final); best of ${ROUNDS} rounds each`,
  ];
  for (const row of r.rows) {
    const ratio = row.virshMs / row.virtqlMs;
    lines.push(
      `  ${row.what.padEnd(7)} virsh ${seconds(row.virshMs)} (${rate(row.virshMs)}), virtql ${seconds(row.virtqlMs)} (${rate(row.virtqlMs)}): ${ratio.toFixed(2)}× virsh (target ≥ ${TARGET_RATIO}×) ${ratio >= TARGET_RATIO ? 'met' : 'MISSED'}`,
    );
  }
  return lines;
}

// `npx tsx bench/storage-throughput.ts` runs this one alone.
if (import.meta.url === `file://${process.argv[1]}`) {
  console.log(reportStorageThroughput(await measureStorageThroughput()).join('\n'));
}
