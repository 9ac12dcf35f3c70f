import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiToken } from '../../src/auth/authenticator.ts';
import { type Connection, ConsoleStream, type Domain, type StoragePool } from '../../src/libvirt/index.ts';
import { buildVolumeXml } from '../../src/libvirt/xml/volume-xml.ts';
import { consoleCollector } from '../support/console-collector.ts';
import { startGateway, type TestGateway } from '../support/gateway.ts';
import {
  buildGuestImage,
  GUEST_READY_MARKER,
  guestDomainXml,
  guestImageUnavailableReason,
} from '../support/guest-image.ts';
import { DIR_POOL, openPrivateDaemon, privateDaemon, privateDaemonSkipReason } from '../support/private-daemon.ts';

// Issue 24 item 3 on the private libvirtd: a full push backup with a checkpoint, then an
// incremental one after the guest wrote, each equal to the disk at its time (qemu-img compare).

const skip = privateDaemonSkipReason() ?? (await guestImageUnavailableReason());
if (skip) console.warn(`skipping the backup cases: ${skip}`);

const run = promisify(execFile);
const NAME = 'bk-guest';
const operator = createApiToken();

interface OperationView {
  status: string;
  errorMessage: string | null;
  backup: { volumes: string[]; checkpoint: string | null } | null;
}

describe.skipIf(skip !== undefined)('backupDomain on a running tiny guest', { timeout: 300_000 }, () => {
  let gw: TestGateway;
  let operatorGw: TestGateway;
  let c: Connection;
  let dom: Domain;
  let pool: StoragePool;
  let stream: ConsoleStream;
  let diskPath: string;
  const out = consoleCollector();
  let marks = 0;

  async function guest(command: string): Promise<void> {
    marks += 1;
    const tag = `BK${marks}`;
    await stream.write(Buffer.from(`${command}; echo ${tag}-DONE-$((1+1))\n`));
    await out.until(`${tag}-DONE-2`);
  }

  async function backup(args: string): Promise<OperationView> {
    const { backupDomain } = await gw.ok<{ backupDomain: { id: string } }>(
      `mutation { backupDomain(input: { domain: { name: "${NAME}" }, pool: "${DIR_POOL}", ${args} }) { id } }`,
    );
    for (;;) {
      const { operation } = await gw.ok<{ operation: OperationView }>(
        `{ operation(id: "${backupDomain.id}") { status errorMessage backup { volumes checkpoint } } }`,
      );
      if (operation.status !== 'RUNNING') return operation;
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  const compare = async (a: string, b: string) =>
    (await run('qemu-img', ['compare', '-U', a, b]).catch((e: { stdout?: string }) => ({ stdout: e.stdout ?? '' })))
      .stdout;

  beforeAll(async () => {
    const daemon = privateDaemon();
    if (!daemon) throw new Error('unreachable');
    const image = await buildGuestImage();
    c = await openPrivateDaemon();
    pool = await c.storagePoolByName(DIR_POOL);
    const disk = await pool.createVolume(
      buildVolumeXml({ name: `${NAME}.qcow2`, capacityBytes: 32n << 20n, format: 'qcow2' }),
    );
    diskPath = disk.path;
    // The pool makes qcow2 v2 (compat 0.10) files, which cannot store the bitmaps checkpoints are.
    await run('qemu-img', ['amend', '-f', 'qcow2', '-o', 'compat=1.1', disk.path]);
    gw = await startGateway({ qemu: daemon.uri }, undefined, {
      config: {
        storage: { allowedPaths: [image.kernel.replace(/\/[^/]*$/, ''), image.initrd.replace(/\/[^/]*$/, '')] },
      },
    });
    operatorGw = await startGateway({ qemu: daemon.uri }, undefined, {
      config: {
        auth: { tokens: [{ name: 'op', sha256: operator.sha256 }], grants: [{ identity: 'op', role: 'operator' }] },
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
    stream = await ConsoleStream.open(dom, out.listener);
    await dom.resume();
    await out.until(GUEST_READY_MARKER);
    await guest('dd if=/dev/urandom of=/dev/vda bs=1M count=4 conv=fsync 2>/dev/null');
  }, 180_000);

  afterAll(async () => {
    await stream?.close().catch(() => undefined);
    const d = await c?.domainByName(NAME).catch(() => undefined);
    if (d) {
      for (const cp of await d.checkpoints().catch(() => [])) await d.deleteCheckpoint(cp.name).catch(() => undefined);
      if (await d.isActive()) await d.destroy();
      await d.undefine(['CHECKPOINTS_METADATA']).catch(() => d.undefine());
    }
    await pool?.refresh().catch(() => undefined);
    for (const v of (await pool?.volumes().catch(() => [])) ?? []) if (v.name.startsWith(NAME)) await v.delete();
    await operatorGw?.close();
    await gw?.close();
    await c?.close();
  });

  it('a full backup with a checkpoint equals the disk; an incremental one after writes equals it again', async () => {
    const full = await backup('checkpoint: "cp1"');
    expect(full.errorMessage).toBeNull();
    expect(full.status).toBe('COMPLETED');
    expect(full.backup?.checkpoint).toBe('cp1');
    const [fullPath] = full.backup?.volumes ?? [];
    expect(fullPath).toMatch(new RegExp(`/${NAME}-vda\\.cp1\\.qcow2$`));
    expect(await compare(fullPath as string, diskPath)).toContain('Images are identical');

    await guest('dd if=/dev/urandom of=/dev/vda bs=1M seek=8 count=4 conv=fsync 2>/dev/null');
    expect(await compare(fullPath as string, diskPath)).not.toContain('Images are identical');

    const incremental = await backup('checkpoint: "cp2", incrementalFrom: "cp1"');
    expect(incremental.errorMessage).toBeNull();
    expect(incremental.status).toBe('COMPLETED');
    const [incrPath] = incremental.backup?.volumes ?? [];
    // Layered on the full backup: the newest volume reads as the whole disk.
    expect(await compare(incrPath as string, diskPath)).toContain('Images are identical');
    const info = JSON.parse((await run('qemu-img', ['info', '-U', '--output=json', incrPath as string])).stdout) as {
      'backing-filename'?: string;
      'actual-size': number;
    };
    expect(info['backing-filename']).toBe(fullPath);

    // A restore of the disk: a copy of the newest backup volume reads the whole chain into one image.
    await gw.ok(
      `mutation { cloneVolume(input: { ref: { path: "${incrPath}" }, name: "${NAME}-restored.raw", format: "raw" }) { name } }`,
    );
    const restored = (await pool.volumeByName(`${NAME}-restored.raw`)).path;
    expect(await compare(restored, diskPath)).toContain('Images are identical');

    const { domain } = await gw.ok<{
      domain: { checkpoints: Array<{ name: string; parent: string | null; disks: string[] }> };
    }>(`{ domain(ref: { name: "${NAME}" }) { checkpoints { name parent disks } } }`);
    expect(domain.checkpoints).toEqual([
      { name: 'cp1', parent: null, disks: ['vda'] },
      { name: 'cp2', parent: 'cp1', disks: ['vda'] },
    ]);
  });

  it('an unknown checkpoint is NOT_FOUND and nothing is made', async () => {
    const before = (await pool.volumes()).map((v) => v.name).sort();
    const res = await gw.query(
      `mutation { backupDomain(input: { domain: { name: "${NAME}" }, pool: "${DIR_POOL}", incrementalFrom: "nope" }) { id } }`,
    );
    expect(res.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    expect((await pool.volumes()).map((v) => v.name).sort()).toEqual(before);
  });

  it('an operator (VM.Snapshot, no Storage.Allocate) is FORBIDDEN and nothing is made', async () => {
    const before = (await pool.volumes()).map((v) => v.name).sort();
    const res = await operatorGw.query(
      `mutation { backupDomain(input: { domain: { name: "${NAME}" }, pool: "${DIR_POOL}" }) { id } }`,
      undefined,
      { authorization: `Bearer ${operator.secret}` },
    );
    expect(res.errors?.[0]?.extensions).toMatchObject({ code: 'FORBIDDEN', privilege: 'Storage.Allocate' });
    expect((await pool.volumes()).map((v) => v.name).sort()).toEqual(before);
  });

  it('a checkpoint is a Node; deleteDomainCheckpoint takes its id or domain and name, and libvirt drops it', async () => {
    const { domain } = await gw.ok<{ domain: { checkpoints: Array<{ id: string; name: string }> } }>(
      `{ domain(ref: { name: "${NAME}" }) { checkpoints { id name } } }`,
    );
    const cp2 = domain.checkpoints.find((cp) => cp.name === 'cp2');
    expect(cp2).toBeDefined();
    const found = await gw.ok<{ node: { __typename: string; name: string; domain: { name: string } } }>(
      'query ($id: ID!) { node(id: $id) { __typename ... on DomainCheckpoint { name domain { name } } } }',
      { id: cp2?.id },
    );
    expect(found.node).toEqual({ __typename: 'DomainCheckpoint', name: 'cp2', domain: { name: NAME } });

    const byId = await gw.ok<{ deleteDomainCheckpoint: { deletedId: string; clientMutationId: string } }>(
      'mutation ($id: ID!) { deleteDomainCheckpoint(input: { id: $id, clientMutationId: "d1" }) { deletedId clientMutationId } }',
      { id: cp2?.id },
    );
    expect(byId.deleteDomainCheckpoint).toEqual({ deletedId: cp2?.id, clientMutationId: 'd1' });
    expect((await dom.checkpoints()).map((cp) => cp.name)).toEqual(['cp1']);

    const missing = await gw.query(
      `mutation { deleteDomainCheckpoint(input: { domain: { name: "${NAME}" }, name: "cp2" }) { deletedId } }`,
    );
    expect(missing.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    await gw.ok(
      `mutation { deleteDomainCheckpoint(input: { domain: { name: "${NAME}" }, name: "cp1" }) { deletedId } }`,
    );
    expect(await dom.checkpoints()).toEqual([]);
    const gone = await gw.query<{ node: unknown }>('query ($id: ID!) { node(id: $id) { id } }', { id: cp2?.id });
    expect(gone.data?.node).toBeNull();
  });
});
