import { stat } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Connection, Domain } from '../../src/libvirt/index.ts';
import { domainEvent, EventQueue, networkEvent, poolEvent } from '../support/event-queue.ts';
import {
  bareDomainXml,
  DIR_POOL,
  NAT_NETWORK,
  openPrivateDaemon,
  privateDaemon,
  privateDaemonSkipReason,
} from '../support/private-daemon.ts';

const skip = privateDaemonSkipReason();
if (skip) console.warn(`skipping the QEMU cases: ${skip}`);

describe.skipIf(skip !== undefined)('the binding against a private libvirtd with QEMU', () => {
  let c: Connection;
  let q: EventQueue;
  const kvm = privateDaemon()?.kvm ?? false;

  beforeAll(async () => {
    c = await openPrivateDaemon();
    q = await EventQueue.on(c);
  });
  afterAll(async () => {
    q.stop();
    await c.close();
  });

  it('reports the QEMU hypervisor, its capabilities and keeps the connection alive', async () => {
    expect(await c.hypervisorType()).toBe('QEMU');
    expect((await c.hypervisorVersion()).major).toBeGreaterThanOrEqual(7);
    const caps = await c.capabilities();
    expect(caps).toContain("<domain type='qemu'");
    if (kvm) expect(caps).toContain("<domain type='kvm'");
    expect(await c.setKeepAlive(5, 3)).toBe(true);
    expect(await c.isAlive()).toBe(true);
    expect((await c.nodeInfo()).cpus).toBeGreaterThan(0);
  });

  it('creates a qcow2 volume on disk with a capacity beyond 2^53 bytes, and deletes it', async () => {
    const pool = await c.storagePoolByName(DIR_POOL);
    const capacity = 2n ** 53n + 65536n;
    const vol = await pool.createVolume(`<volume><name>big.qcow2</name>
      <capacity unit="bytes">${capacity}</capacity>
      <target><format type="qcow2"/><clusterSize unit="KiB">256</clusterSize></target></volume>`);
    expect((await stat(vol.path)).isFile()).toBe(true);
    expect(await vol.info()).toMatchObject({ type: 'FILE', capacityBytes: capacity });
    expect(await vol.xml()).toContain("<format type='qcow2'/>");
    expect((await c.volumeByPath(vol.path)).key).toBe(vol.key);
    await vol.delete();
    await expect(stat(vol.path)).rejects.toMatchObject({ code: 'ENOENT' });
    await expect(c.volumeByKey(vol.key)).rejects.toMatchObject({ codeName: 'NO_STORAGE_VOL' });
  });

  describe('a domain without an OS', () => {
    let d: Domain;
    let disk: string;

    beforeAll(async () => {
      const pool = await c.storagePoolByName(DIR_POOL);
      const vol = await pool.createVolume(`<volume><name>usb.qcow2</name><capacity unit="MiB">16</capacity>
        <target><format type="qcow2"/></target></volume>`);
      disk = `<disk type="file" device="disk"><driver name="qemu" type="qcow2"/>
        <source file="${vol.path}"/><target dev="sdb" bus="usb"/></disk>`;
      d = await c.defineDomain(bareDomainXml('bare', kvm));
    });
    afterAll(async () => {
      if (await d.isActive()) await d.destroy();
      await d.undefine();
      const pool = await c.storagePoolByName(DIR_POOL);
      await (await pool.volumeByName('usb.qcow2')).delete();
    });

    it('goes through start, suspend, resume and destroy, with events for each', async () => {
      expect((await q.next(domainEvent('bare', 'DEFINED'))).detail).toBe('ADDED');
      await d.start();
      expect((await q.next(domainEvent('bare', 'STARTED'))).detail).toBe('BOOTED');
      expect(await d.state()).toEqual({ state: 'RUNNING', reason: 'BOOTED' });
      await d.suspend();
      expect((await q.next(domainEvent('bare', 'SUSPENDED'))).detail).toBe('PAUSED');
      await d.resume();
      expect((await q.next(domainEvent('bare', 'RESUMED'))).detail).toBe('UNPAUSED');
      await d.destroy();
      expect((await q.next(domainEvent('bare', 'STOPPED'))).detail).toBe('DESTROYED');
      await expect(d.suspend()).rejects.toMatchObject({ codeName: 'OPERATION_INVALID' });
      await d.start({ paused: true });
      expect((await d.state()).state).toBe('PAUSED');
      await d.resume();
    });

    it('hot-adds a vCPU on the running domain', async () => {
      expect(await d.vcpus('live')).toBe(1);
      await d.setVcpus(2, 'live');
      expect(await d.vcpus('live')).toBe(2);
      expect(await d.vcpus('config')).toBe(1);
    });

    it('attaches and detaches a USB disk live, and in the persistent config', async () => {
      await d.attachDevice(disk, 'live');
      expect(await d.xml()).toContain("<target dev='sdb' bus='usb'/>");
      expect(await d.xml({ inactive: true })).not.toContain("dev='sdb'");
      await d.detachDevice(disk, 'live');
      expect(await d.xml()).not.toContain("dev='sdb'");
      await d.attachDevice(disk, 'config');
      expect(await d.xml({ inactive: true })).toContain("<target dev='sdb' bus='usb'/>");
      await d.detachDevice(disk, 'config');
      expect(await d.xml({ inactive: true })).not.toContain("dev='sdb'");
    });

    it('attaches and detaches a usb-net NIC on the NAT network', async () => {
      const nic = `<interface type="network"><mac address="52:54:00:aa:bb:01"/>
        <source network="${NAT_NETWORK}"/><model type="usb-net"/></interface>`;
      await d.attachDevice(nic, 'live');
      expect(await d.xml()).toContain("<mac address='52:54:00:aa:bb:01'/>");
      await d.detachDevice(nic, 'live');
      expect(await d.xml()).not.toContain('52:54:00:aa:bb:01');
    });

    it('reads bulk stats, job stats and balloon memory of the running domain', async () => {
      const [row] = (await c.allDomainStats(['STATE', 'VCPU', 'BALLOON'], 'active')).filter(
        (s) => s.domain.name === 'bare',
      );
      expect(row?.params['state.state']).toBe(1);
      expect(row?.params['vcpu.current']).toBe(2);
      expect(row?.params['balloon.maximum']).toBe(65536n);
      expect((await d.jobStats()).type).toBe('NONE');
      const info = await d.info();
      expect(info.maxMemoryKiB).toBe(65536n);
      expect(info.cpuTimeNs).toBeGreaterThan(0n);
    });
  });

  it('delivers network and storage pool lifecycle events from the daemon', async () => {
    const net = await c.networkByName(NAT_NETWORK);
    await net.stop();
    await q.next(networkEvent(NAT_NETWORK, 'STOPPED'));
    await net.start();
    await q.next(networkEvent(NAT_NETWORK, 'STARTED'));
    expect(await net.bridgeName()).toMatch(/^virbr-/);
    const pool = await c.storagePoolByName(DIR_POOL);
    await pool.stop();
    await q.next(poolEvent(DIR_POOL, 'STOPPED'));
    await pool.start();
    await q.next(poolEvent(DIR_POOL, 'STARTED'));
  });

  it('lists host interfaces but answers changes to them with NO_SUPPORT (udev backend)', async () => {
    expect((await c.interfaces()).map((i) => i.name)).toContain('lo');
    const xml = '<interface type="ethernet" name="veth-virtql"><start mode="none"/></interface>';
    await expect(c.defineInterface(xml)).rejects.toMatchObject({ codeName: 'NO_SUPPORT' });
  });
});
