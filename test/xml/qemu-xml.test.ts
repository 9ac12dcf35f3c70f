import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { Connection, type Domain, type Network, type StoragePool } from '../../src/libvirt/index.ts';
import { parseCapabilitiesXml } from '../../src/libvirt/xml/capabilities-xml.ts';
import { buildDiskXml, buildDomainXml, buildInterfaceDeviceXml } from '../../src/libvirt/xml/domain-spec-xml.ts';
import {
  deviceXmlOfDisk,
  deviceXmlOfInterface,
  parseDomainXml,
  updateDomainXml,
} from '../../src/libvirt/xml/domain-xml.ts';
import { buildNetworkXml, parseNetworkXml } from '../../src/libvirt/xml/network-xml.ts';
import { buildStoragePoolXml, parseStoragePoolXml } from '../../src/libvirt/xml/storage-pool-xml.ts';
import { buildVolumeXml, parseVolumeXml } from '../../src/libvirt/xml/volume-xml.ts';
import type { LibvirtdContext } from '../support/global-setup.ts';

// The quick config runs without the global setup, so there may be no context at all.
const context = inject('libvirtd') as LibvirtdContext | undefined;
const daemon = context !== undefined && !('unavailable' in context) ? context : undefined;
const skip =
  context === undefined
    ? 'no private libvirtd in this run'
    : 'unavailable' in context
      ? `no private libvirtd on this machine: ${context.unavailable}`
      : undefined;
if (skip) console.warn(`skipping the QEMU XML cases: ${skip}`);

// Objects of their own: other test files share the daemon and stop and start its pool and network.
const POOL = 'xml-pool';
const NETWORK = 'xml-net';
const DOMAIN = 'xml-guest';

describe.skipIf(skip !== undefined)("the XML models against QEMU's libvirt", () => {
  let c: Connection;
  let pool: StoragePool;
  let network: Network;
  let domain: Domain | undefined;
  const type = daemon?.kvm ? 'kvm' : 'qemu';

  beforeAll(async () => {
    c = await Connection.open(daemon?.uri ?? '');
    pool = await c.defineStoragePool(
      buildStoragePoolXml({ type: 'dir', name: POOL, targetPath: join(daemon?.root ?? '', POOL) }),
    );
    await pool.build();
    await pool.start();
    network = await c.defineNetwork(
      buildNetworkXml({
        name: NETWORK,
        bridgeName: 'virbr-xml',
        ip: { address: '172.31.213.1', netmask: '255.255.255.0' },
        dhcpRange: { start: '172.31.213.10', end: '172.31.213.20' },
      }),
    );
    await network.start();
  });

  afterAll(async () => {
    if (domain !== undefined) {
      if (await domain.isActive()) await domain.destroy();
      await domain.undefine();
    }
    for (const volume of await pool.volumes()) await volume.delete();
    await pool.stop();
    await pool.deleteBacking();
    await pool.undefine();
    await network.stop();
    await network.undefine();
    await c.close();
  });

  it('defines a dir pool and an isolated DHCP network from the builders', async () => {
    const parsedPool = parseStoragePoolXml(await pool.xml());
    const info = await pool.info();
    expect(parsedPool).toMatchObject({
      type: 'dir',
      name: POOL,
      uuid: pool.uuid,
      targetPath: join(daemon?.root ?? '', POOL),
      capacityBytes: info.capacityBytes,
    });
    expect(parseNetworkXml(await network.xml())).toMatchObject({
      name: NETWORK,
      uuid: network.uuid,
      forward: undefined,
      bridge: { name: await network.bridgeName() },
      ips: [{ address: '172.31.213.1', dhcpRanges: [{ start: '172.31.213.10', end: '172.31.213.20' }] }],
    });
  });

  it('creates qcow2 and raw volumes from the builder, sizes exact beyond 2^53', async () => {
    const capacity = 2n ** 53n + 65536n;
    const big = await pool.createVolume(
      buildVolumeXml({ name: 'big.qcow2', capacityBytes: capacity, format: 'qcow2', clusterSizeBytes: 256n * 1024n }),
    );
    const raw = await pool.createVolume(
      buildVolumeXml({
        name: 'raw.img',
        capacityBytes: 8n * 1024n ** 2n,
        allocationBytes: 8n * 1024n ** 2n,
        format: 'raw',
      }),
    );
    expect(parseVolumeXml(await big.xml())).toMatchObject({
      type: 'file',
      name: 'big.qcow2',
      key: big.key,
      capacityBytes: capacity,
      targetPath: big.path,
      format: 'qcow2',
      clusterSizeBytes: 256n * 1024n,
    });
    const parsedRaw = parseVolumeXml(await raw.xml());
    expect(parsedRaw).toMatchObject({ capacityBytes: 8n * 1024n ** 2n, format: 'raw' });
    expect(parsedRaw.allocationBytes).toBe((await raw.info()).allocationBytes);
    await big.delete();
  });

  it('defines a domain from the builder that reads back as specified, and starts it', async () => {
    const disk = await pool.createVolume(
      buildVolumeXml({ name: 'root.qcow2', capacityBytes: 2n ** 30n, format: 'qcow2' }),
    );
    domain = await c.defineDomain(
      buildDomainXml({
        type,
        name: DOMAIN,
        description: `built <&'"> by virtql`,
        memoryKiB: 65536n,
        vcpus: 1,
        maxVcpus: 2,
        arch: 'x86_64',
        boot: ['hd', 'network'],
        disks: [{ kind: 'file', sourcePath: disk.path, targetDev: 'vda', driverType: 'qcow2' }],
        interfaces: [{ type: 'network', source: NETWORK, mac: '52:54:00:21:30:01', model: 'virtio' }],
      }),
    );
    const parsed = parseDomainXml(await domain.xml({ inactive: true }));
    expect(parsed).toMatchObject({
      type,
      name: DOMAIN,
      uuid: domain.uuid,
      description: `built <&'"> by virtql`,
      memoryKiB: 65536n,
      vcpus: { max: 2, current: 1 },
      os: { type: 'hvm', arch: 'x86_64', boot: ['hd', 'network'] },
    });
    expect(parsed.os.machine).toMatch(/^pc/);
    expect(parsed.disks).toEqual([
      expect.objectContaining({
        type: 'file',
        device: 'disk',
        driverName: 'qemu',
        driverType: 'qcow2',
        sourcePath: disk.path,
        target: { dev: 'vda', bus: 'virtio' },
      }),
    ]);
    expect(parsed.interfaces).toEqual([
      expect.objectContaining({
        type: 'network',
        mac: '52:54:00:21:30:01',
        source: { network: NETWORK },
        model: 'virtio',
      }),
    ]);

    await domain.start({ paused: true });
    const live = parseDomainXml(await domain.xml());
    const info = await domain.info();
    expect(live.id).toBe(await domain.currentId());
    expect(live.memoryKiB).toBe(info.maxMemoryKiB);
    expect(live.vcpus.current).toBe(info.vcpus);
    expect(live.disks[0]?.alias).toBe('virtio-disk0');
    expect(live.interfaces[0]?.targetDev).toMatch(/^vnet/);
  });

  it('attaches a USB disk and a usb-net NIC built by the builders, and detaches them by their own XML', async () => {
    if (domain === undefined) throw new Error('no domain');
    const usb = await pool.createVolume(
      buildVolumeXml({ name: 'usb.qcow2', capacityBytes: 2n ** 24n, format: 'qcow2' }),
    );
    await domain.attachDevice(
      buildDiskXml({ kind: 'file', sourcePath: usb.path, targetDev: 'sdb', bus: 'usb', driverType: 'qcow2' }),
      'live',
    );
    await domain.attachDevice(
      buildInterfaceDeviceXml({ type: 'network', source: NETWORK, mac: '52:54:00:21:30:02', model: 'usb-net' }),
      'live',
    );
    const attached = await domain.xml();
    expect(parseDomainXml(attached).disks.map((d) => [d.target.dev, d.target.bus, d.sourcePath])).toContainEqual([
      'sdb',
      'usb',
      usb.path,
    ]);
    const diskXml = deviceXmlOfDisk(attached, usb.path);
    const nicXml = deviceXmlOfInterface(attached, { mac: '52:54:00:21:30:02' });
    if (diskXml === undefined || nicXml === undefined) throw new Error('attached devices not found');
    await domain.detachDevice(diskXml, 'live');
    await domain.detachDevice(nicXml, 'live');
    const detached = parseDomainXml(await domain.xml());
    expect(detached.disks.map((d) => d.target.dev)).toEqual(['vda']);
    expect(detached.interfaces.map((n) => n.mac)).toEqual(['52:54:00:21:30:01']);
  });

  it("has QEMU's libvirt accept a definition edited by updateDomainXml", async () => {
    if (domain === undefined) throw new Error('no domain');
    const edited = updateDomainXml(await domain.xml({ inactive: true }), {
      vcpus: 3,
      maxMemoryKiB: 131072n,
      description: null,
    });
    const redefined = await c.defineDomain(edited);
    const after = parseDomainXml(await domain.xml({ inactive: true }));
    expect(after).toMatchObject({ vcpus: { max: 3, current: 1 }, memoryKiB: 131072n, description: undefined });
    expect(redefined.uuid).toBe(domain.uuid);
    expect(await redefined.vcpus('config', { maximum: true })).toBe(3);
  });

  it('parses the capabilities of this host as the port reports the node', async () => {
    const caps = parseCapabilitiesXml(await c.capabilities());
    expect(caps.host.arch).toBe((await c.nodeInfo()).model);
    const x86 = caps.guests.find((g) => g.arch === 'x86_64' && g.osType === 'hvm');
    expect(x86?.domainTypes).toContain('qemu');
    if (daemon?.kvm) expect(x86?.domainTypes).toContain('kvm');
    expect(x86?.machines.find((m) => m.name === 'pc')?.canonical).toMatch(/^pc-i440fx-/);
  });
});
