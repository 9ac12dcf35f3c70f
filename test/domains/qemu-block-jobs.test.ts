import { createHash } from 'node:crypto';
import { open, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiToken } from '../../src/auth/authenticator.ts';
import { type Connection, ConsoleStream, type Domain, type StoragePool } from '../../src/libvirt/index.ts';
import { buildStoragePoolXml, parseStoragePoolXml } from '../../src/libvirt/xml/storage-pool-xml.ts';
import { buildVolumeXml } from '../../src/libvirt/xml/volume-xml.ts';
import { consoleCollector } from '../support/console-collector.ts';
import { startGateway, type TestGateway } from '../support/gateway.ts';
import {
  buildGuestImage,
  countMarker,
  GUEST_READY_MARKER,
  guestDomainXml,
  guestImageUnavailableReason,
} from '../support/guest-image.ts';
import { guestShell } from '../support/guest-shell.ts';
import { DIR_POOL, openPrivateDaemon, privateDaemon, privateDaemonSkipReason } from '../support/private-daemon.ts';

// Issue 24 items 1 and 2 on the private libvirtd with the tiny guest: a running disk moves between
// pools while the guest writes, grows under the guest, and a chain of disk-only snapshots is
// flattened by commit and by pull; cancel, grants and bad input change nothing.

const skip = privateDaemonSkipReason() ?? (await guestImageUnavailableReason());
if (skip) console.warn(`skipping the block job cases: ${skip}`);

const NAME = 'bj-guest';
const POOL_B = 'bj-pool-b';
const MiB = 1n << 20n;
const tenant = createApiToken();

interface OperationView {
  id: string;
  status: string;
  errorMessage: string | null;
  errorCode: string | null;
  diskJobProgress: { phase: string; curBytes: string | null; endBytes: string | null } | null;
  diskJob: { path: string | null; deletedVolumes: string[] } | null;
}

const OPERATION_FIELDS =
  'id status errorMessage errorCode diskJobProgress { phase curBytes endBytes } diskJob { path deletedVolumes }';

describe.skipIf(skip !== undefined)('block jobs on a running tiny guest', { timeout: 300_000 }, () => {
  let gw: TestGateway;
  let tenantGw: TestGateway;
  let c: Connection;
  let dom: Domain;
  let stream: ConsoleStream;
  let poolA: StoragePool;
  let poolB: StoragePool;
  let poolADir: string;
  let poolBDir: string;
  const out = consoleCollector();
  const shell = guestShell(out);

  /** Runs a guest shell command and returns what it printed (the value only, not its echo). */
  const guest = (command: string, key: string) => shell(stream, command, key);

  /** md5 of `count` MiB of /dev/vda from `skip` MiB, as the guest reads it (page cache dropped first). */
  const guestSum = (skipMiB: number, countMiB: number) =>
    guest(
      `sync; echo 3 > /proc/sys/vm/drop_caches; dd if=/dev/vda bs=1M skip=${skipMiB} count=${countMiB} 2>/dev/null | md5sum | cut -c1-32`,
      'SUM',
    );

  async function hostSum(path: string, skipMiB: number, countMiB: number): Promise<string> {
    const f = await open(path, 'r');
    try {
      const buf = Buffer.alloc(countMiB << 20);
      await f.read(buf, 0, buf.length, skipMiB << 20);
      return createHash('md5').update(buf).digest('hex');
    } finally {
      await f.close();
    }
  }

  async function operation(id: string, until = (o: OperationView) => o.status !== 'RUNNING'): Promise<OperationView> {
    const deadline = Date.now() + 240_000;
    for (;;) {
      const { operation: op } = await gw.ok<{ operation: OperationView }>(
        `query ($id: ID!) { operation(id: $id) { ${OPERATION_FIELDS} } }`,
        { id },
      );
      if (until(op) || Date.now() > deadline) return op;
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  async function vda() {
    const { domain } = await gw.ok<{
      domain: {
        disks: Array<{
          targetDevice: string;
          format: string;
          sourcePath: string;
          backingChain: Array<{ path: string; format: string; volume: { name: string } | null }>;
        }>;
      };
    }>(
      `{ domain(ref: { name: "${NAME}" }) { disks { targetDevice format sourcePath backingChain { path format volume { name } } } } }`,
    );
    const disk = domain.disks.find((d) => d.targetDevice === 'vda');
    if (!disk) throw new Error('no vda');
    return disk;
  }

  const volumeNames = async (pool: StoragePool) => {
    await pool.refresh();
    return (await pool.volumes()).map((v) => v.name).sort();
  };

  async function move(pool: string, format: string, extra = '') {
    const { moveDomainDisk } = await gw.ok<{ moveDomainDisk: { id: string } }>(
      `mutation { moveDomainDisk(input: { domain: { name: "${NAME}" }, disk: "vda", pool: "${pool}", format: ${format}, deleteSource: true${extra} }) { id } }`,
    );
    return moveDomainDisk.id;
  }

  beforeAll(async () => {
    const daemon = privateDaemon();
    if (!daemon) throw new Error('unreachable');
    const image = await buildGuestImage();
    c = await openPrivateDaemon();
    poolA = await c.storagePoolByName(DIR_POOL);
    poolADir = parseStoragePoolXml(await poolA.xml()).targetPath as string;
    // Beside the daemon's pool, on the same filesystem (the guest's disks use cache=none, O_DIRECT).
    poolBDir = join(dirname(poolADir), POOL_B);
    poolB = await c.createStoragePool(
      buildStoragePoolXml({ type: 'dir', name: POOL_B, targetPath: poolBDir }),
      'WITH_BUILD',
    );
    const disk = await poolA.createVolume(
      buildVolumeXml({ name: `${NAME}.img`, capacityBytes: 32n * MiB, format: 'raw' }),
    );
    const allow = { storage: { allowedPaths: [dirname(image.kernel), dirname(image.initrd)] } };
    gw = await startGateway({ qemu: daemon.uri }, undefined, { config: allow });
    tenantGw = await startGateway({ qemu: daemon.uri }, undefined, {
      config: {
        ...allow,
        auth: {
          tokens: [{ name: 'tenant', sha256: tenant.sha256 }],
          grants: [
            { identity: 'tenant', role: 'admin', domains: ['bj-*'], pools: [DIR_POOL] },
            { identity: 'tenant', role: 'viewer', pools: [POOL_B] },
          ],
        },
      },
    });
    dom = await c.defineDomain(
      guestDomainXml({ name: NAME, image, serial: 'pty', disks: [{ path: disk.path, target: 'vda' }] }),
    );
    await dom.start({ paused: true });
    stream = await ConsoleStream.open(dom, out.listener);
    await dom.resume();
    await out.until(GUEST_READY_MARKER);
    // 8 MiB the guest writes once (region A) and keeps (its checksum is the reference).
    await guest('dd if=/dev/urandom of=/dev/vda bs=1M count=8 conv=fsync 2>/dev/null; echo done', 'FILL');
  }, 180_000);

  afterAll(async () => {
    await stream?.close().catch(() => undefined);
    const d = await c?.domainByName(NAME).catch(() => undefined);
    if (d && (await d.isActive())) await d.destroy();
    await d?.undefine(['SNAPSHOTS_METADATA']).catch(() => undefined);
    for (const pool of [poolA, poolB]) {
      if (!pool) continue;
      await pool.refresh().catch(() => undefined);
      for (const v of await pool.volumes().catch(() => [])) if (v.name.startsWith(NAME)) await v.delete();
    }
    await poolB?.stop().catch(() => undefined);
    if (poolBDir) await rm(poolBDir, { recursive: true, force: true });
    await tenantGw?.close();
    await gw?.close();
    await c?.close();
  });

  it('moves the running disk to another pool and back while the guest writes; the guest’s data is intact', async () => {
    const regionA = await guestSum(0, 8);
    const regionBBefore = await guestSum(8, 8);
    // Region B (8–16 MiB) is rewritten in a loop during both moves.
    await stream.write(
      Buffer.from(
        'i=0; while :; do dd if=/dev/urandom of=/dev/vda bs=64k count=1 seek=$((128 + i % 128)) conv=fsync 2>/dev/null; i=$((i+1)); done &\n',
      ),
    );
    const there = await operation(await move(POOL_B, 'QCOW2'));
    expect(there.errorMessage).toBeNull();
    expect(there.status).toBe('COMPLETED');
    expect(there.diskJob?.path).toBe(join(poolBDir, `${NAME}.qcow2`));
    expect(there.diskJob?.deletedVolumes).toEqual([join(poolADir, `${NAME}.img`)]);
    expect((await vda()).sourcePath).toBe(join(poolBDir, `${NAME}.qcow2`));
    expect((await vda()).format).toBe('qcow2');
    expect(await volumeNames(poolA)).not.toContain(`${NAME}.img`);
    // The persistent definition follows: the next boot uses the new volume.
    expect(await dom.xml({ inactive: true })).toContain(join(poolBDir, `${NAME}.qcow2`));

    const back = await operation(await move(DIR_POOL, 'RAW'));
    expect(back.errorMessage).toBeNull();
    expect(back.status).toBe('COMPLETED');
    const home = (await vda()).sourcePath;
    expect(home).toMatch(new RegExp(`/${NAME}\\.img$`));
    expect(await volumeNames(poolB)).toEqual([]);

    await guest('kill $!; wait; echo stopped', 'STOP');
    expect(await guestSum(0, 8)).toBe(regionA);
    // What the guest wrote during the moves is in the file the disk uses now.
    const regionB = await guestSum(8, 8);
    expect(regionB).not.toBe(regionBBefore);
    expect(regionB).toBe(await hostSum(home, 8, 8));
  });

  it('grows the running disk: the guest sees the new size', async () => {
    await gw.ok(
      `mutation { resizeDomainDisk(input: { domain: { name: "${NAME}" }, disk: "vda", capacityBytes: "${48n * MiB}" }) { name } }`,
    );
    const deadline = Date.now() + 30_000;
    let sectors = '';
    while (Date.now() < deadline) {
      sectors = await guest('cat /sys/block/vda/size', 'SIZE');
      if (sectors === String((48n * MiB) / 512n)) break;
    }
    expect(sectors).toBe(String((48n * MiB) / 512n));
  });

  it('refuses bad input with typed errors and changes nothing', async () => {
    const before = { a: await volumeNames(poolA), b: await volumeNames(poolB), disk: await vda() };
    const code = async (mutation: string) => (await gw.query(mutation)).errors?.[0]?.extensions?.code;
    const d = `domain: { name: "${NAME}" }`;
    expect(
      await code(`mutation { resizeDomainDisk(input: { ${d}, disk: "vdz", capacityBytes: "${64n * MiB}" }) { name } }`),
    ).toBe('NOT_FOUND');
    expect(
      await code(`mutation { resizeDomainDisk(input: { ${d}, disk: "vda", capacityBytes: "${16n * MiB}" }) { name } }`),
    ).toBe('INVALID_INPUT');
    expect(
      await code(`mutation { moveDomainDisk(input: { ${d}, disk: "vda", pool: "bj-no-such-pool" }) { id } }`),
    ).toBe('NOT_FOUND');
    expect(await code(`mutation { moveDomainDisk(input: { ${d}, disk: "vdz", pool: "${POOL_B}" }) { id } }`)).toBe(
      'NOT_FOUND',
    );
    expect(await code(`mutation { pullDomainDisk(input: { ${d}, disk: "vda" }) { id } }`)).toBe('INVALID_INPUT');
    expect({ a: await volumeNames(poolA), b: await volumeNames(poolB), disk: await vda() }).toEqual(before);
  });

  it('a tenant without Storage.Use on the target pool is FORBIDDEN and nothing changes', async () => {
    const before = { a: await volumeNames(poolA), b: await volumeNames(poolB), disk: await vda() };
    const res = await tenantGw.query(
      `mutation { moveDomainDisk(input: { domain: { name: "${NAME}" }, disk: "vda", pool: "${POOL_B}" }) { id } }`,
      undefined,
      { authorization: `Bearer ${tenant.secret}` },
    );
    expect(res.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    expect(res.errors?.[0]?.message).toContain('Storage.Use');
    expect({ a: await volumeNames(poolA), b: await volumeNames(poolB), disk: await vda() }).toEqual(before);
  });

  it('cancels a move: the disk stays where it was and the new volume is gone', async () => {
    const before = await vda();
    // 64 KiB/s: the 48 MiB copy cannot finish before the cancel.
    const id = await move(POOL_B, 'QCOW2', `, bandwidthBytesPerSecond: "${64 * 1024}"`);
    await operation(id, (o) => o.diskJobProgress?.phase === 'RUNNING' || o.status !== 'RUNNING');
    const { cancelOperation } = await gw.ok<{ cancelOperation: { id: string } }>(
      `mutation { cancelOperation(input: { id: "${id}" }) { id } }`,
    );
    expect(cancelOperation.id).toBe(id);
    const done = await operation(id);
    expect(done.status).toBe('CANCELLED');
    expect(await vda()).toEqual(before);
    expect(await volumeNames(poolB)).toEqual([]);
    expect(await dom.blockJob('vda')).toBeNull();
  });

  it('disk-only snapshots build a chain in the pool; commit and pull flatten it with the guest’s data intact', async () => {
    const regionA = await guestSum(0, 8);
    const base = (await vda()).sourcePath;
    for (const name of ['bj-s1', 'bj-s2']) {
      await gw.ok(
        `mutation { createDomainSnapshot(input: { domain: { name: "${NAME}" }, snapshot: { name: "${name}", diskOnly: true } }) { name diskOnly } }`,
      );
    }
    const chained = await vda();
    expect(chained.sourcePath).toBe(join(dirname(base), `${NAME}-vda.bj-s2.qcow2`));
    expect(chained.backingChain.map((b) => b.path)).toEqual([join(dirname(base), `${NAME}-vda.bj-s1.qcow2`), base]);
    // The overlays are volumes of the disk's pool.
    expect(chained.backingChain.map((b) => b.volume?.name)).toEqual([`${NAME}-vda.bj-s1.qcow2`, `${NAME}.img`]);
    expect(await volumeNames(poolA)).toContain(`${NAME}-vda.bj-s2.qcow2`);

    const { commitDomainDisk } = await gw.ok<{ commitDomainDisk: { id: string } }>(
      `mutation { commitDomainDisk(input: { domain: { name: "${NAME}" }, disk: "vda" }) { id } }`,
    );
    const committed = await operation(commitDomainDisk.id);
    expect(committed.errorMessage).toBeNull();
    expect(committed.status).toBe('COMPLETED');
    const flat = await vda();
    expect(flat.sourcePath).toBe(base);
    expect(flat.backingChain).toEqual([]);
    expect(await guestSum(0, 8)).toBe(regionA);

    await gw.ok(
      `mutation { createDomainSnapshot(input: { domain: { name: "${NAME}" }, snapshot: { name: "bj-s3", diskOnly: true } }) { name } }`,
    );
    expect((await vda()).backingChain.map((b) => b.path)).toEqual([base]);
    const { pullDomainDisk } = await gw.ok<{ pullDomainDisk: { id: string } }>(
      `mutation { pullDomainDisk(input: { domain: { name: "${NAME}" }, disk: "vda" }) { id } }`,
    );
    const pulled = await operation(pullDomainDisk.id);
    expect(pulled.errorMessage).toBeNull();
    expect(pulled.status).toBe('COMPLETED');
    const standalone = await vda();
    expect(standalone.sourcePath).toBe(join(dirname(base), `${NAME}-vda.bj-s3.qcow2`));
    expect(standalone.backingChain).toEqual([]);
    expect(await guestSum(0, 8)).toBe(regionA);
  });

  it('refuses to commit into an image another volume is layered on, and commits once it is gone', async () => {
    const top = (await vda()).sourcePath;
    await gw.ok(
      `mutation { createDomainSnapshot(input: { domain: { name: "${NAME}" }, snapshot: { name: "bj-s4", diskOnly: true } }) { name } }`,
    );
    const before = await vda();
    expect(before.backingChain.map((b) => b.path)).toEqual([top]);
    // Another disk's overlay on the same image (a linked clone's), which a commit would corrupt.
    const linked = await poolA.createVolume(
      buildVolumeXml({
        name: `${NAME}-linked.qcow2`,
        capacityBytes: 64n * MiB,
        format: 'qcow2',
        backingStore: { path: top, format: 'qcow2' },
      }),
    );
    const refused = await gw.query(
      `mutation { commitDomainDisk(input: { domain: { name: "${NAME}" }, disk: "vda" }) { id } }`,
    );
    expect(refused.errors?.[0]?.extensions?.code).toBe('INVALID_STATE');
    expect(refused.errors?.[0]?.message).not.toContain(linked.path);
    expect(await vda()).toEqual(before);
    await linked.delete();
    const { commitDomainDisk } = await gw.ok<{ commitDomainDisk: { id: string } }>(
      `mutation { commitDomainDisk(input: { domain: { name: "${NAME}" }, disk: "vda" }) { id } }`,
    );
    expect(await operation(commitDomainDisk.id)).toMatchObject({ status: 'COMPLETED', errorMessage: null });
    expect(await vda()).toMatchObject({ sourcePath: top, backingChain: [] });
    // The merged overlay is stale now: deleted, so that nothing is layered on the image any more.
    await (await poolA.volumeByName(`${NAME}-vda.bj-s4.qcow2`)).delete();
  });

  it('moves and grows a stopped domain’s disk (a volume copy and a definition change); it boots with its data', async () => {
    const regionA = await guestSum(0, 8);
    await stream.close();
    await dom.destroy();
    const op = await operation(await move(POOL_B, 'RAW'));
    expect(op.errorMessage).toBeNull();
    expect(op).toMatchObject({ status: 'COMPLETED', diskJob: { path: join(poolBDir, `${NAME}-vda.bj-s3.img`) } });
    await gw.ok(
      `mutation { resizeDomainDisk(input: { domain: { name: "${NAME}" }, disk: "vda", capacityBytes: "${64n * MiB}" }) { name } }`,
    );
    expect(await vda()).toMatchObject({ sourcePath: join(poolBDir, `${NAME}-vda.bj-s3.img`), format: 'raw' });
    await dom.start({ paused: true });
    stream = await ConsoleStream.open(dom, out.listener);
    const booted = countMarker(out.text);
    await dom.resume();
    while (countMarker(out.text) === booted) await new Promise((r) => setTimeout(r, 200));
    expect(await guestSum(0, 8)).toBe(regionA);
    expect(await guest('cat /sys/block/vda/size', 'SIZE')).toBe(String((64n * MiB) / 512n));
  });
});
