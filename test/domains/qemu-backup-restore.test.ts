import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiToken } from '../../src/auth/authenticator.ts';
import { type Connection, ConsoleStream, type Domain, type StoragePool } from '../../src/libvirt/index.ts';
import { buildStoragePoolXml, parseStoragePoolXml } from '../../src/libvirt/xml/storage-pool-xml.ts';
import { buildVolumeXml } from '../../src/libvirt/xml/volume-xml.ts';
import { consoleCollector } from '../support/console-collector.ts';
import { startGateway, type TestGateway } from '../support/gateway.ts';
import {
  buildGuestImage,
  GUEST_READY_MARKER,
  guestDomainXml,
  guestImageUnavailableReason,
} from '../support/guest-image.ts';
import { guestShell } from '../support/guest-shell.ts';
import { DIR_POOL, openPrivateDaemon, privateDaemon, privateDaemonSkipReason } from '../support/private-daemon.ts';

// Issue 24 item 3, the restore: a full backup, writes, an incremental backup, more writes; the
// incremental backup restored into a new volume equals the disk at its time (qemu-img compare), and
// restored as a new domain it boots and its guest reads that data.

const skip = privateDaemonSkipReason() ?? (await guestImageUnavailableReason());
if (skip) console.warn(`skipping the restore cases: ${skip}`);

const run = promisify(execFile);
const NAME = 'rs-guest';
const COPY = 'rs-copy';
const RESTORE_POOL = 'rs-restore';
const operator = createApiToken();
const tenant = createApiToken();

interface OperationView {
  status: string;
  errorMessage: string | null;
  backup: { volumes: string[] } | null;
  restore: { volumes: string[]; domain: { name: string; uuid: string } | null } | null;
  restoreProgress: { step: string; disksDone: number; disksTotal: number } | null;
}

describe.skipIf(skip !== undefined)('restoreDomainBackup on the private libvirtd', { timeout: 300_000 }, () => {
  let gw: TestGateway;
  let operatorGw: TestGateway;
  let tenantGw: TestGateway;
  let c: Connection;
  let dom: Domain;
  let pool: StoragePool;
  let restorePool: StoragePool;
  let restoreDir: string;
  let refDir: string;
  let reference: string;
  let diskPath: string;
  let incrPath: string;
  const out = consoleCollector();
  const guest = guestShell(out);

  async function inGuest(d: Domain, command: string): Promise<string> {
    const stream = await ConsoleStream.open(d, out.listener);
    try {
      return await guest(stream, command);
    } finally {
      await stream.close();
    }
  }

  async function follow(id: string): Promise<OperationView> {
    for (;;) {
      const { operation } = await gw.ok<{ operation: OperationView }>(
        `{ operation(id: "${id}") { status errorMessage backup { volumes } restore { volumes domain { name uuid } }
          restoreProgress { step disksDone disksTotal } } }`,
      );
      if (operation.status !== 'RUNNING') return operation;
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  async function backup(args: string): Promise<string> {
    const { backupDomain } = await gw.ok<{ backupDomain: { id: string } }>(
      `mutation { backupDomain(input: { domain: { name: "${NAME}" }, pool: "${DIR_POOL}", ${args} }) { id } }`,
    );
    const op = await follow(backupDomain.id);
    expect(op).toMatchObject({ status: 'COMPLETED', errorMessage: null });
    return op.backup?.volumes[0] as string;
  }

  const restore = (input: string, gateway = gw, token?: { secret: string }) =>
    gateway.query<{ restoreDomainBackup: { id: string } }>(
      `mutation { restoreDomainBackup(input: { ${input} }) { id } }`,
      undefined,
      token ? { authorization: `Bearer ${token.secret}` } : {},
    );

  const compare = async (a: string, b: string) =>
    (await run('qemu-img', ['compare', '-U', a, b]).catch((e: { stdout?: string }) => ({ stdout: e.stdout ?? '' })))
      .stdout;

  /** Everything a refused restore could have made: the volumes of both pools and the domains. */
  const state = async () => {
    await Promise.all([pool.refresh(), restorePool.refresh()]);
    return {
      volumes: [...(await pool.volumes()), ...(await restorePool.volumes())].map((v) => v.path).sort(),
      domains: (await c.domains()).map((d) => d.name).sort(),
    };
  };

  const md5 = (data: Buffer) => createHash('md5').update(data).digest('hex');

  beforeAll(async () => {
    const daemon = privateDaemon();
    if (!daemon) throw new Error('unreachable');
    const image = await buildGuestImage();
    c = await openPrivateDaemon();
    pool = await c.storagePoolByName(DIR_POOL);
    restoreDir = join(dirname(parseStoragePoolXml(await pool.xml()).targetPath as string), RESTORE_POOL);
    restorePool = await c.createStoragePool(
      buildStoragePoolXml({ type: 'dir', name: RESTORE_POOL, targetPath: restoreDir }),
      'WITH_BUILD',
    );
    refDir = await mkdtemp(join(tmpdir(), 'virtql-restore-ref-'));
    const disk = await pool.createVolume(
      buildVolumeXml({ name: `${NAME}.qcow2`, capacityBytes: 32n << 20n, format: 'qcow2' }),
    );
    diskPath = disk.path;
    // The pool makes qcow2 v2 (compat 0.10) files, which cannot store the bitmaps checkpoints are.
    await run('qemu-img', ['amend', '-f', 'qcow2', '-o', 'compat=1.1', disk.path]);
    const allow = { storage: { allowedPaths: [dirname(image.kernel), dirname(image.initrd)] } };
    gw = await startGateway({ qemu: daemon.uri }, undefined, { config: allow });
    operatorGw = await startGateway({ qemu: daemon.uri }, undefined, {
      config: {
        ...allow,
        auth: { tokens: [{ name: 'op', sha256: operator.sha256 }], grants: [{ identity: 'op', role: 'operator' }] },
      },
    });
    // Everything on the restore pool and rs-* domains, but only reading the pool the backups are in.
    tenantGw = await startGateway({ qemu: daemon.uri }, undefined, {
      config: {
        ...allow,
        auth: {
          tokens: [{ name: 'tenant', sha256: tenant.sha256 }],
          grants: [
            { identity: 'tenant', role: 'admin', domains: ['rs-*'], pools: [RESTORE_POOL] },
            { identity: 'tenant', role: 'viewer', pools: [DIR_POOL] },
          ],
        },
      },
    });
    const xml = guestDomainXml({
      name: NAME,
      image,
      serial: 'pty',
      disks: [{ path: disk.path, target: 'vda' }],
    }).replace("type='raw' cache='none'", "type='qcow2' cache='none'");
    dom = await c.defineDomain(xml);
    await dom.start({ paused: true });
    const stream = await ConsoleStream.open(dom, out.listener);
    await dom.resume();
    await out.until(GUEST_READY_MARKER);
    await stream.close();
  }, 180_000);

  afterAll(async () => {
    for (const name of [COPY, NAME]) {
      const d = await c?.domainByName(name).catch(() => undefined);
      if (!d) continue;
      for (const cp of await d.checkpoints().catch(() => [])) await d.deleteCheckpoint(cp.name).catch(() => undefined);
      if (await d.isActive()) await d.destroy();
      await d.undefine(['CHECKPOINTS_METADATA']).catch(() => d.undefine());
    }
    for (const p of [pool, restorePool]) {
      if (!p) continue;
      await p.refresh().catch(() => undefined);
      for (const v of await p.volumes().catch(() => [])) if (v.name.startsWith('rs-')) await v.delete();
    }
    await restorePool?.stop().catch(() => undefined);
    if (restoreDir) await rm(restoreDir, { recursive: true, force: true });
    if (refDir) await rm(refDir, { recursive: true, force: true });
    await Promise.all([tenantGw?.close(), operatorGw?.close(), gw?.close()]);
    await c?.close();
  });

  it('restores an incremental backup into a new volume equal to the disk at the backup’s time', async () => {
    await inGuest(dom, 'dd if=/dev/urandom of=/dev/vda bs=1M count=4 conv=fsync 2>/dev/null; echo ok');
    await backup('checkpoint: "cp1"');
    await inGuest(dom, 'dd if=/dev/urandom of=/dev/vda bs=1M seek=8 count=4 conv=fsync 2>/dev/null; echo ok');
    incrPath = await backup('checkpoint: "cp2", incrementalFrom: "cp1"');
    // The disk at the incremental backup's time, before the guest writes again.
    reference = join(refDir, 'at-cp2.raw');
    await run('qemu-img', ['convert', '-U', '-O', 'raw', diskPath, reference]);
    await inGuest(dom, 'dd if=/dev/urandom of=/dev/vda bs=1M seek=16 count=4 conv=fsync 2>/dev/null; echo ok');
    expect(await compare(reference, diskPath)).not.toContain('Images are identical');

    const res = await restore(
      `pool: "${RESTORE_POOL}", disks: [{ disk: "vda", backup: { path: "${incrPath}" }, name: "rs-vda.raw", format: "raw" }]`,
    );
    expect(res.errors).toBeUndefined();
    const op = await follow(res.data?.restoreDomainBackup.id as string);
    expect(op).toMatchObject({
      status: 'COMPLETED',
      errorMessage: null,
      restore: { volumes: [join(restoreDir, 'rs-vda.raw')], domain: null },
      restoreProgress: { step: 'DONE', disksDone: 1, disksTotal: 1 },
    });
    const restored = op.restore?.volumes[0] as string;
    expect(await compare(restored, reference)).toContain('Images are identical');
    // One image: the incremental chain was read into it.
    const info = JSON.parse((await run('qemu-img', ['info', '-U', '--output=json', restored])).stdout) as {
      format: string;
      'backing-filename'?: string;
    };
    expect(info).toMatchObject({ format: 'raw' });
    expect(info['backing-filename']).toBeUndefined();
  });

  it('restores it as a new domain that boots and reads the data of the backup’s time', async () => {
    expect(incrPath).toBeDefined();
    const res = await restore(
      `pool: "${RESTORE_POOL}", domain: { name: "${NAME}" }, name: "${COPY}", disks: [{ disk: "vda", backup: { path: "${incrPath}" } }]`,
    );
    expect(res.errors).toBeUndefined();
    const op = await follow(res.data?.restoreDomainBackup.id as string);
    expect(op).toMatchObject({ status: 'COMPLETED', errorMessage: null, restore: { domain: { name: COPY } } });
    expect(op.restore?.domain?.uuid).not.toBe(dom.uuid);
    expect(op.restore?.volumes).toEqual([join(restoreDir, `${COPY}-vda.qcow2`)]);
    expect(await compare(op.restore?.volumes[0] as string, reference)).toContain('Images are identical');

    const copy = await c.domainByName(COPY);
    expect(await copy.xml({ inactive: true })).toContain(join(restoreDir, `${COPY}-vda.qcow2`));
    await copy.start({ paused: true });
    const stream = await ConsoleStream.open(copy, out.listener);
    const ready = out.text.split(GUEST_READY_MARKER).length;
    await copy.resume();
    while (out.text.split(GUEST_READY_MARKER).length === ready) await new Promise((r) => setTimeout(r, 200));
    await stream.close();
    const seen = await inGuest(copy, 'dd if=/dev/vda bs=1M count=32 2>/dev/null | md5sum | cut -c1-32');
    expect(seen).toBe(md5(await readFile(reference)));
    await copy.destroy();
  });

  it('refuses callers without the privileges, and bad input, making nothing', async () => {
    const before = await state();
    const disks = `disks: [{ disk: "vda", backup: { path: "${incrPath}" } }]`;
    // An operator holds no Storage.Allocate.
    const op = await restore(`pool: "${RESTORE_POOL}", ${disks}`, operatorGw, operator);
    expect(op.errors?.[0]?.extensions).toMatchObject({ code: 'FORBIDDEN', privilege: 'Storage.Allocate' });
    // The tenant may allocate in the restore pool, but only read the backups' pool.
    const unused = await restore(`pool: "${RESTORE_POOL}", ${disks}`, tenantGw, tenant);
    expect(unused.errors?.[0]?.extensions).toMatchObject({ code: 'FORBIDDEN', privilege: 'Storage.Use' });
    // ...and may not allocate there.
    const elsewhere = await restore(`pool: "${DIR_POOL}", ${disks}`, tenantGw, tenant);
    expect(elsewhere.errors?.[0]?.extensions).toMatchObject({ code: 'FORBIDDEN', privilege: 'Storage.Allocate' });

    for (const [input, field] of [
      [`pool: "${RESTORE_POOL}", name: "rs-x", ${disks}`, 'domain'],
      [`pool: "${RESTORE_POOL}", domain: { name: "${NAME}" }, name: "${NAME}", ${disks}`, 'name'],
      [`pool: "${RESTORE_POOL}", disks: []`, 'disks'],
      [
        `pool: "${RESTORE_POOL}", domain: { name: "${NAME}" }, name: "rs-x", disks: [{ disk: "vdb", backup: { path: "${incrPath}" } }]`,
        'disks',
      ],
      [
        `pool: "${RESTORE_POOL}", disks: [{ disk: "vda", backup: { path: "${incrPath}" }, name: "rs-vda.raw" }]`,
        'disks.0.name',
      ],
    ] as const) {
      const res = await restore(input);
      expect(res.errors?.[0]?.extensions, input).toMatchObject({ code: 'INVALID_INPUT', field });
    }
    const missing = await restore(`pool: "${RESTORE_POOL}", disks: [{ disk: "vda", backup: { path: "/nope.qcow2" } }]`);
    expect(missing.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    expect(await state()).toEqual(before);
  });
});
