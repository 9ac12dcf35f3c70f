import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiToken } from '../../src/auth/authenticator.ts';
import { Connection, ConsoleStream, type Domain } from '../../src/libvirt/index.ts';
import { buildStoragePoolXml } from '../../src/libvirt/xml/storage-pool-xml.ts';
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
import { type PrivateLibvirtd, startLibvirtd } from '../support/libvirtd.ts';
import { privateDaemonSkipReason } from '../support/private-daemon.ts';

// Issue 24 item 4: a running guest migrates between two private daemons that share no storage.
// Each daemon has /var/lib/libvirt bind-mounted from a directory of its own, so a pool at
// /var/lib/libvirt/images is a different directory for each: the disk must be copied.

const skip = privateDaemonSkipReason() ?? (await guestImageUnavailableReason());
if (skip) console.warn(`skipping the copy-storage migration: ${skip}`);

const NAME = 'cs-guest';
const POOL = 'cs-local';
const POOL_DIR = '/var/lib/libvirt/images';
const tenant = createApiToken();

describe.skipIf(skip !== undefined)(
  'migrateDomain(copyStorage: ALL) without shared storage',
  { timeout: 300_000 },
  () => {
    let a: PrivateLibvirtd;
    let b: PrivateLibvirtd;
    let ca: Connection;
    let cb: Connection;
    let gw: TestGateway;
    let tenantGw: TestGateway;
    let dom: Domain;
    let diskPath: string;
    const out = consoleCollector();
    /** Runs a guest shell command over a console stream and returns what it printed. */
    const guest = guestShell(out);
    const sum =
      'sync; echo 3 > /proc/sys/vm/drop_caches; dd if=/dev/vda bs=1M count=8 2>/dev/null | md5sum | cut -c1-32';

    async function localPool(c: Connection) {
      const pool = await c.defineStoragePool(buildStoragePoolXml({ type: 'dir', name: POOL, targetPath: POOL_DIR }));
      await pool.build();
      await pool.start();
      return pool;
    }

    beforeAll(async () => {
      const image = await buildGuestImage();
      a = await startLibvirtd({ name: 'cs-a' });
      b = await startLibvirtd({ name: 'cs-b', joinNetnsOf: a });
      [ca, cb] = await Promise.all([Connection.open(a.uri), Connection.open(b.uri)]);
      const poolA = await localPool(ca);
      await localPool(cb);
      const disk = await poolA.createVolume(buildVolumeXml({ name: `${NAME}.raw`, capacityBytes: 16n << 20n }));
      diskPath = disk.path;
      gw = await startGateway({ a: a.uri, b: b.uri });
      tenantGw = await startGateway({ a: a.uri, b: b.uri }, undefined, {
        config: {
          auth: {
            tokens: [{ name: 'mover', sha256: tenant.sha256 }],
            roles: { mover: ['VM.Audit', 'VM.Migrate', 'Storage.Audit', 'Storage.Use'] },
            grants: [{ identity: 'mover', role: 'mover' }],
          },
        },
      });
      dom = await ca.defineDomain(
        guestDomainXml({ name: NAME, image, serial: 'pty', disks: [{ path: diskPath, target: 'vda' }] }),
      );
      await dom.start({ paused: true });
      const stream = await ConsoleStream.open(dom, out.listener);
      await dom.resume();
      await out.until(GUEST_READY_MARKER);
      await guest(stream, 'dd if=/dev/urandom of=/dev/vda bs=1M count=8 conv=fsync 2>/dev/null; echo ok');
      await stream.close();
    }, 240_000);

    afterAll(async () => {
      for (const c of [ca, cb]) {
        const d = await c?.domainByName(NAME).catch(() => undefined);
        if (d && (await d.isActive())) await d.destroy().catch(() => undefined);
        await d?.undefine().catch(() => undefined);
      }
      await tenantGw?.close();
      await gw?.close();
      await Promise.all([ca?.close(), cb?.close()]);
      await Promise.all([b?.stop(), a?.stop()]);
    });

    it('refuses a caller without Storage.Allocate on the destination pool, and nothing moves', async () => {
      const res = await tenantGw.query(
        `mutation { migrateDomain(input: { host: "a", domain: { name: "${NAME}" }, destination: { host: "b" },
        migrateUri: "tcp://127.0.0.1", copyStorage: ALL }) { state } }`,
        undefined,
        { authorization: `Bearer ${tenant.secret}` },
      );
      expect(res.errors?.[0]?.extensions).toMatchObject({ code: 'FORBIDDEN', privilege: 'Storage.Allocate' });
      expect(await (await ca.domainByName(NAME)).isActive()).toBe(true);
      await expect(cb.domainByName(NAME)).rejects.toMatchObject({ codeName: 'NO_DOMAIN' });
    });

    it('copies the running disk to a host that shares no storage; the guest keeps running with its data', async () => {
      const before = await (async () => {
        const stream = await ConsoleStream.open(await ca.domainByName(NAME), out.listener);
        try {
          return await guest(stream, sum);
        } finally {
          await stream.close();
        }
      })();
      expect(before).toMatch(/^[0-9a-f]{32}$/);
      // The same path is another directory on b: its pool does not have the disk before the copy.
      const poolB = await cb.storagePoolByName(POOL);
      await poolB.refresh();
      expect((await poolB.volumes()).map((v) => v.path)).not.toContain(diskPath);

      const res = await gw.query<{ migrateDomain: { state: string; domain: { host: { name: string } } | null } }>(
        `mutation { migrateDomain(input: { host: "a", domain: { name: "${NAME}" }, destination: { host: "b" },
        migrateUri: "tcp://127.0.0.1", copyStorage: ALL, autoConverge: true }) { state domain { host { name } } } }`,
      );
      expect(res.errors).toBeUndefined();
      expect(res.data?.migrateDomain).toEqual({ state: 'RUNNING', domain: { host: { name: 'b' } } });

      // libvirt made the disk in b's own pool directory: b's pool lists it; a's copy is a's alone.
      await poolB.refresh();
      expect((await poolB.volumes()).map((v) => v.path)).toContain(diskPath);
      const onB = await cb.domainByName(NAME);
      expect((await onB.state()).state).toBe('RUNNING');
      const stream = await ConsoleStream.open(onB, out.listener);
      try {
        expect(await guest(stream, sum)).toBe(before);
      } finally {
        await stream.close();
      }
    });
  },
);
