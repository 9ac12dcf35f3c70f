import { execFile } from 'node:child_process';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultSecurity } from '../../src/config/security.ts';
import type { Connection } from '../../src/libvirt/index.ts';
import { defaultHostSafety } from '../../src/libvirt/xml/host-safety.ts';
import { buildVolumeXml } from '../../src/libvirt/xml/volume-xml.ts';
import { type ListeningGateway, listen, stopAll, subscribeSse } from '../events/event-clients.ts';
import {
  buildGuestImage,
  guestDomainXml,
  guestImageUnavailableReason,
  waitForConsole,
} from '../support/guest-image.ts';
import { DIR_POOL, openPrivateDaemon, privateDaemon, privateDaemonSkipReason } from '../support/private-daemon.ts';

const skip = privateDaemonSkipReason() ?? (await guestImageUnavailableReason());
if (skip) console.warn(`skipping the QEMU clone case: ${skip}`);

const run = promisify(execFile);
const SOURCE = 'clone-src';
const CLONE = 'clone-dst';
const LINKED = 'clone-linked';

describe.skipIf(skip !== undefined)('cloneDomain on a private libvirtd', { timeout: 240_000 }, () => {
  let gw: ListeningGateway;
  let c: Connection;
  let log: string;

  async function ok<D = Record<string, unknown>>(query: string): Promise<D> {
    const res = await fetch(gw.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query }),
    });
    const body = (await res.json()) as { data?: D; errors?: unknown[] };
    expect(body.errors).toBeUndefined();
    return body.data as D;
  }

  beforeAll(async () => {
    const daemon = privateDaemon();
    if (!daemon) throw new Error('unreachable');
    const image = await buildGuestImage();
    // The guest boots a kernel from the image cache and logs to a file: the operator allows both (the clone's XML is checked).
    const security = defaultSecurity();
    const hostSafety = defaultHostSafety();
    hostSafety.allowedPaths = [dirname(image.kernel), dirname(image.initrd), daemon.root];
    hostSafety.allow.charSourceTypes = ['file'];
    gw = await listen({ qemu: daemon.uri }, { app: { security: { ...security, hostSafety } } });
    c = await openPrivateDaemon();
    log = join(daemon.root, `${SOURCE}.console.log`);
    const pool = await c.storagePoolByName(DIR_POOL);
    const disk = await pool.createVolume(
      buildVolumeXml({ name: `${SOURCE}.qcow2`, capacityBytes: 16n << 20n, format: 'qcow2' }),
    );
    await run('qemu-io', ['-f', 'qcow2', '-c', 'write -P 0x5a 0 64k', disk.path]);
    const xml = guestDomainXml({ name: SOURCE, image, memoryMiB: 128, consoleLog: log }).replace(
      '<devices>',
      `<devices>
    <disk type='file' device='disk'><driver name='qemu' type='qcow2'/><source file='${disk.path}'/><target dev='vda' bus='virtio'/></disk>
    <interface type='network'><source network='virtql-nat'/><mac address='52:54:00:aa:bb:01'/><model type='virtio'/></interface>`,
    );
    await c.defineDomain(xml);
  }, 180_000);
  afterAll(async () => {
    stopAll();
    for (const name of [LINKED, CLONE, SOURCE]) {
      const d = await c?.domainByName(name).catch(() => undefined);
      if (d && (await d.isActive())) await d.destroy();
      await d?.undefine();
    }
    const pool = await c?.storagePoolByName(DIR_POOL).catch(() => undefined);
    for (const name of [`${SOURCE}.qcow2`, `${CLONE}-vda.qcow2`, `${LINKED}-vda.qcow2`]) {
      await (await pool?.volumeByName(name).catch(() => undefined))?.delete();
    }
    await gw?.close();
    await c?.close();
  });

  it('copies the qcow2 disk with its data, gives a new MAC, and the clone boots', async () => {
    const { cloneDomain } = await ok<{ cloneDomain: { id: string } }>(
      `mutation { cloneDomain(input: { host: "qemu", domain: { name: "${SOURCE}" }, name: "${CLONE}" }) { id } }`,
    );
    const sub = subscribeSse<{
      operationUpdated: { status: string; errorMessage: string | null; clone: { volumes: string[] } | null };
    }>(gw.url, 'subscription ($id: ID!) { operationUpdated(id: $id) { status errorMessage clone { volumes } } }', {
      id: cloneDomain.id,
    });
    await sub.results.ended;
    const last = sub.results.seen.at(-1)?.data?.operationUpdated;
    expect(last?.errorMessage ?? null).toBeNull();
    expect(last?.status).toBe('COMPLETED');
    const [copy] = last?.clone?.volumes ?? [];
    expect(copy).toMatch(new RegExp(`/${CLONE}-vda\\.qcow2$`));
    const read = await run('qemu-io', ['-r', '-f', 'qcow2', '-c', 'read -P 0x5a 0 64k', copy as string]);
    expect(read.stdout).not.toContain('Pattern verification failed');

    const clone = await ok<{
      domain: { uuid: string; interfaces: Array<{ mac: string }>; disks: Array<{ sourcePath: string }> };
    }>(`{ domain(host: "qemu", ref: { name: "${CLONE}" }) { uuid interfaces { mac } disks { sourcePath } } }`);
    expect(clone.domain.disks).toEqual([{ sourcePath: copy }]);
    expect(clone.domain.interfaces[0]?.mac).not.toBe('52:54:00:aa:bb:01');

    await ok(`mutation { startDomain(input: { host: "qemu", domain: { name: "${CLONE}" } }) { state } }`);
    await waitForConsole(log, { count: 1, timeoutMs: 120_000 });
  });

  it('makes a linked clone: an overlay that reads the source’s data and does not copy it', async () => {
    const { cloneDomain } = await ok<{ cloneDomain: { id: string } }>(
      `mutation { cloneDomain(input: { host: "qemu", domain: { name: "${SOURCE}" }, name: "${LINKED}", linked: true }) { id } }`,
    );
    const sub = subscribeSse<{ operationUpdated: { status: string; clone: { volumes: string[] } | null } }>(
      gw.url,
      'subscription ($id: ID!) { operationUpdated(id: $id) { status clone { volumes } } }',
      { id: cloneDomain.id },
    );
    await sub.results.ended;
    const last = sub.results.seen.at(-1)?.data?.operationUpdated;
    expect(last?.status).toBe('COMPLETED');
    const [overlay] = last?.clone?.volumes ?? [];
    expect(overlay).toMatch(new RegExp(`/${LINKED}-vda\\.qcow2$`));
    const source = (await (await c.storagePoolByName(DIR_POOL)).volumeByName(`${SOURCE}.qcow2`)).path;
    const info = JSON.parse((await run('qemu-img', ['info', '-U', '--output=json', overlay as string])).stdout) as {
      'backing-filename'?: string;
      'actual-size': number;
    };
    expect(info['backing-filename']).toBe(source);
    // The 64 KiB pattern lives in the source: the overlay holds only qcow2 metadata.
    expect(info['actual-size']).toBeLessThan(1 << 20);
    const read = await run('qemu-io', ['-r', '-f', 'qcow2', '-c', 'read -P 0x5a 0 64k', overlay as string]);
    expect(read.stdout).not.toContain('Pattern verification failed');
  });
});
