import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Connection } from '../../src/libvirt/index.ts';
import { buildVolumeXml } from '../../src/libvirt/xml/volume-xml.ts';
import { startGateway, type TestGateway } from '../support/gateway.ts';
import { DIR_POOL, openPrivateDaemon, privateDaemon, privateDaemonSkipReason } from '../support/private-daemon.ts';

const skip = privateDaemonSkipReason();
if (skip) console.warn(`skipping the QEMU volume cases: ${skip}`);

const run = promisify(execFile);
const MiB = 1n << 20n;

async function qemuImgInfo(path: string): Promise<{ format: string; 'virtual-size': number }> {
  return JSON.parse((await run('qemu-img', ['info', '--output=json', '-U', path])).stdout);
}

describe.skipIf(skip !== undefined)('volume resize, wipe, clone and pool deletion on a private libvirtd', () => {
  let gw: TestGateway;
  let c: Connection;
  let otherDir: string;
  const OTHER = 'virtql-vol-other';

  async function ok<D = Record<string, unknown>>(query: string, variables?: Record<string, unknown>): Promise<D> {
    const res = await gw.query<D>(query, variables);
    expect(res.errors).toBeUndefined();
    return res.data as D;
  }

  beforeAll(async () => {
    const daemon = privateDaemon();
    if (!daemon) throw new Error('unreachable');
    otherDir = join(daemon.root, 'other-pool');
    await mkdir(otherDir, { recursive: true });
    gw = await startGateway({ qemu: daemon.uri }, undefined, { config: { storage: { allowedPaths: [otherDir] } } });
    c = await openPrivateDaemon();
    const pool = await c.storagePoolByName(DIR_POOL);
    await pool.createVolume(buildVolumeXml({ name: 'grow.qcow2', capacityBytes: 16n * MiB, format: 'qcow2' }));
  });
  afterAll(async () => {
    const pool = await c?.storagePoolByName(DIR_POOL).catch(() => undefined);
    for (const name of ['grow.qcow2', 'grow-copy.raw']) {
      await (await pool?.volumeByName(name).catch(() => undefined))?.delete();
    }
    const other = await c?.storagePoolByName(OTHER).catch(() => undefined);
    if (other) {
      for (const v of await other.volumes().catch(() => [])) await v.delete();
      if (await other.isActive()) await other.stop();
      await other.undefine();
    }
    await gw?.close();
    await c?.close();
  });

  const path = () =>
    c
      .storagePoolByName(DIR_POOL)
      .then((p) => p.volumeByName('grow.qcow2'))
      .then((v) => v.path);

  it('grows a qcow2 (qemu-img sees the new virtual size) and shrinks only with shrink', async () => {
    const p = await path();
    const grown = await ok<{ resizeVolume: { capacityBytes: string } }>(
      `mutation { resizeVolume(input: { host: "qemu", ref: { path: "${p}" }, capacityBytes: "${32n * MiB}" }) { capacityBytes } }`,
    );
    expect(grown.resizeVolume.capacityBytes).toBe(String(32n * MiB));
    expect(await qemuImgInfo(p)).toMatchObject({ format: 'qcow2', 'virtual-size': Number(32n * MiB) });

    const refused = await gw.query(
      `mutation { resizeVolume(input: { host: "qemu", ref: { path: "${p}" }, capacityBytes: "${8n * MiB}" }) { capacityBytes } }`,
    );
    expect(refused.errors?.[0]?.extensions).toMatchObject({ code: 'INVALID_INPUT', field: 'capacityBytes' });
    expect((await qemuImgInfo(p))['virtual-size']).toBe(Number(32n * MiB));
  });

  it('wipes a volume: its data is zeroes, its capacity unchanged', async () => {
    const pool = await c.storagePoolByName(DIR_POOL);
    const raw = await pool.createVolume(buildVolumeXml({ name: 'wipe.raw', capacityBytes: MiB, format: 'raw' }));
    try {
      await run('qemu-io', ['-f', 'raw', '-c', 'write -P 0x55 0 64k', raw.path]);
      const wiped = await ok<{ wipeVolume: { capacityBytes: string } }>(
        `mutation { wipeVolume(input: { host: "qemu", ref: { path: "${raw.path}" } }) { capacityBytes } }`,
      );
      expect(wiped.wipeVolume.capacityBytes).toBe(String(MiB));
      const read = await run('qemu-io', ['-f', 'raw', '-c', 'read -P 0 0 64k', raw.path]);
      expect(read.stdout).toContain('read 65536/65536');
      expect(read.stdout).not.toContain('Pattern verification failed');
    } finally {
      await raw.delete();
    }
  });

  it('clones into another pool in another format, and deleteStoragePool removes that pool’s directory', async () => {
    await ok(`mutation ($xml: String!) { createStoragePool(input: { host: "qemu", xml: $xml }) { name } }`, {
      xml: `<pool type='dir'><name>${OTHER}</name><target><path>${otherDir}</path></target></pool>`,
    });
    const copy = await ok<{ cloneVolume: { path: string; pool: { name: string } } }>(
      `mutation { cloneVolume(input: { host: "qemu", ref: { path: "${await path()}" }, name: "copy.raw", pool: "${OTHER}", format: "raw" }) {
        path pool { name } } }`,
    );
    expect(copy.cloneVolume).toEqual({ path: join(otherDir, 'copy.raw'), pool: { name: OTHER } });
    expect(await qemuImgInfo(join(otherDir, 'copy.raw'))).toMatchObject({
      format: 'raw',
      'virtual-size': Number(32n * MiB),
    });

    const active = await gw.query(
      `mutation { deleteStoragePool(input: { host: "qemu", name: "${OTHER}", confirm: "${OTHER}" }) { name } }`,
    );
    expect(active.errors?.[0]?.extensions?.code).toBe('INVALID_STATE');
    await ok(
      `mutation { deleteVolume(input: { host: "qemu", ref: { path: "${join(otherDir, 'copy.raw')}" } }) { name } }`,
    );
    await ok(`mutation { stopStoragePool(input: { host: "qemu", name: "${OTHER}" }) { name } }`);
    const deleted = await ok<{ deleteStoragePool: { name: string; active: boolean } }>(
      `mutation { deleteStoragePool(input: { host: "qemu", name: "${OTHER}", confirm: "${OTHER}" }) { name active } }`,
    );
    expect(deleted.deleteStoragePool).toEqual({ name: OTHER, active: false });
    expect(existsSync(otherDir)).toBe(false);
  });
});
