import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Connection, Volume } from '../../src/libvirt/index.ts';
import { buildVolumeXml } from '../../src/libvirt/xml/volume-xml.ts';
import { startGateway, type TestGateway } from '../support/gateway.ts';
import {
  bareDomainXml,
  DIR_POOL,
  openPrivateDaemon,
  privateDaemon,
  privateDaemonSkipReason,
} from '../support/private-daemon.ts';

const skip = privateDaemonSkipReason();
if (skip) console.warn(`skipping the QEMU snapshot cases: ${skip}`);

const run = promisify(execFile);
const VM = 'snap-vm';
const KiB64 = 64 * 1024;

/** Whether the first 64 KiB of the image hold only `byte` (qemu-io reads through the qcow2 layer). */
async function holdsOnly(path: string, byte: number): Promise<boolean> {
  // qemu-io exits 1 when the pattern does not match, printing why.
  const stdout = await run('qemu-io', ['-f', 'qcow2', '-c', `read -P ${byte} 0 ${KiB64}`, path]).then(
    (r) => r.stdout,
    (e: { stdout?: string }) => e.stdout ?? '',
  );
  return stdout.includes('read 65536/65536') && !stdout.includes('Pattern verification failed');
}

async function internalSnapshots(path: string): Promise<string> {
  return (await run('qemu-img', ['snapshot', '-l', path])).stdout;
}

describe.skipIf(skip !== undefined)('internal snapshots of a qcow2-backed domain on a private libvirtd', () => {
  let gw: TestGateway;
  let c: Connection;
  let disk: Volume;

  async function ok<D = Record<string, unknown>>(query: string): Promise<D> {
    const res = await gw.query<D>(query);
    expect(res.errors).toBeUndefined();
    return res.data as D;
  }

  beforeAll(async () => {
    const daemon = privateDaemon();
    if (!daemon) throw new Error('unreachable');
    gw = await startGateway({ qemu: daemon.uri });
    c = await openPrivateDaemon();
    const pool = await c.storagePoolByName(DIR_POOL);
    disk = await pool.createVolume(buildVolumeXml({ name: `${VM}.qcow2`, capacityBytes: 16n << 20n, format: 'qcow2' }));
    await c.defineDomain(bareDomainXml(VM, daemon.kvm));
    await ok(`mutation { attachDisk(input: { host: "qemu", domain: { name: "${VM}" }, scope: CONFIG,
      disk: { kind: FILE, sourcePath: "${disk.path}", targetDevice: "vda", format: "qcow2" } }) { name } }`);
  });
  afterAll(async () => {
    const d = await c?.domainByName(VM).catch(() => undefined);
    if (d && (await d.isActive())) await d.destroy();
    if (d) await d.undefine(['SNAPSHOTS_METADATA']);
    await disk?.delete();
    await gw?.close();
    await c?.close();
  });

  it('snapshots the shut-off domain into its qcow2, reverts the disk to it, and deletes it from the image', async () => {
    const created = await ok<{
      createDomainSnapshot: { name: string; state: string; current: boolean; diskOnly: boolean };
    }>(
      `mutation { createDomainSnapshot(input: { host: "qemu", domain: { name: "${VM}" },
        snapshot: { name: "clean", description: "zeroes" } }) { name state current diskOnly } }`,
    );
    expect(created.createDomainSnapshot).toEqual({ name: 'clean', state: 'SHUTOFF', current: true, diskOnly: false });
    expect(await internalSnapshots(disk.path)).toContain('clean');

    await run('qemu-io', ['-f', 'qcow2', '-c', `write -P 0x55 0 ${KiB64}`, disk.path]);
    expect(await holdsOnly(disk.path, 0x55)).toBe(true);
    expect(await holdsOnly(disk.path, 0)).toBe(false);

    const reverted = await ok<{ revertDomainSnapshot: { state: string; currentSnapshot: { name: string } } }>(
      `mutation { revertDomainSnapshot(input: { host: "qemu", domain: { name: "${VM}" }, name: "clean" }) {
        state currentSnapshot { name } } }`,
    );
    expect(reverted.revertDomainSnapshot).toEqual({ state: 'SHUTOFF', currentSnapshot: { name: 'clean' } });
    expect(await holdsOnly(disk.path, 0)).toBe(true);

    const deleted = await ok<{ deleteDomainSnapshot: { domain: { snapshots: unknown[] } } }>(
      `mutation { deleteDomainSnapshot(input: { host: "qemu", domain: { name: "${VM}" }, name: "clean" }) { domain { snapshots { name } } } }`,
    );
    expect(deleted.deleteDomainSnapshot.domain.snapshots).toEqual([]);
    expect(await internalSnapshots(disk.path)).not.toContain('clean');
  });
});
