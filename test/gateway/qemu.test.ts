import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Connection, Domain, Volume } from '../../src/libvirt/index.ts';
import { buildDomainXml } from '../../src/libvirt/xml/domain-spec-xml.ts';
import { buildVolumeXml } from '../../src/libvirt/xml/volume-xml.ts';
import { startGateway, type TestGateway } from '../support/gateway.ts';
import {
  DIR_POOL,
  NAT_NETWORK,
  openPrivateDaemon,
  privateDaemon,
  privateDaemonSkipReason,
} from '../support/private-daemon.ts';

const skip = privateDaemonSkipReason();
if (skip) console.warn(`skipping the gateway's QEMU cases: ${skip}`);

describe.skipIf(skip !== undefined)('the gateway on a private libvirtd with QEMU', () => {
  let c: Connection;
  let gw: TestGateway;
  let vol: Volume;
  let dom: Domain;

  beforeAll(async () => {
    const daemon = privateDaemon();
    if (!daemon) throw new Error('unreachable');
    c = await openPrivateDaemon();
    const pool = await c.storagePoolByName(DIR_POOL);
    vol = await pool.createVolume(
      buildVolumeXml({ name: 'gw-disk.qcow2', capacityBytes: 64n << 20n, format: 'qcow2' }),
    );
    dom = await c.defineDomain(
      buildDomainXml({
        type: daemon.kvm ? 'kvm' : 'qemu',
        name: 'gw-nested',
        description: 'nested query target',
        memoryKiB: 65536n,
        vcpus: 1,
        machine: 'pc',
        disks: [{ kind: 'file', sourcePath: vol.path, targetDev: 'vda', bus: 'virtio', driverType: 'qcow2' }],
        interfaces: [{ type: 'network', source: NAT_NETWORK, mac: '52:54:00:6e:65:01', model: 'virtio' }],
      }),
    );
    gw = await startGateway({ qemu: daemon.uri, builtin: 'test:///default' });
  });
  afterAll(async () => {
    await gw?.close();
    if (await dom?.isActive()) await dom.destroy();
    await dom?.undefine();
    await vol?.delete();
    await c?.close();
  });

  it('resolves disk → volume → pool and NIC → network of a defined domain in one query', async () => {
    const res = await gw.query(`{ domain(host: "qemu", ref: { name: "gw-nested" }) {
      name state persistent description memoryKiB maxMemoryKiB vcpus
      disks { sourcePath format targetDevice bus capacityBytes volume { name format pool { name type active } } }
      interfaces { mac model sourceName network { name active bridge forwardMode ips { address dhcpRanges { start end } } } } } }`);
    expect(res.errors).toBeUndefined();
    expect(res.data?.domain).toMatchObject({
      name: 'gw-nested',
      state: 'SHUTOFF',
      persistent: true,
      description: 'nested query target',
      maxMemoryKiB: '65536',
      vcpus: 1,
      disks: [
        {
          sourcePath: vol.path,
          format: 'qcow2',
          targetDevice: 'vda',
          bus: 'VIRTIO',
          capacityBytes: String(64n << 20n),
          volume: { name: 'gw-disk.qcow2', format: 'qcow2', pool: { name: DIR_POOL, type: 'DIR', active: true } },
        },
      ],
      interfaces: [
        {
          mac: '52:54:00:6e:65:01',
          model: 'virtio',
          sourceName: NAT_NETWORK,
          network: { name: NAT_NETWORK, active: true, forwardMode: 'NAT' },
        },
      ],
    });
    const net = (res.data as { domain: { interfaces: Array<{ network: { bridge: string; ips: unknown[] } }> } }).domain
      .interfaces[0]?.network;
    expect(net?.bridge).toBe(await (await c.networkByName(NAT_NETWORK)).bridgeName());
    expect(net?.ips).toHaveLength(1);
  });

  it('reports a running domain’s live state and target device, and the real hypervisor', async () => {
    await dom.start();
    const res = await gw.query(`{ host(name: "qemu") { hypervisor { type capabilities { domainTypes } }
      domains(filter: { active: true }) { name state stateReason runtimeId cpuTimeNs interfaces { targetDevice } } } }`);
    expect(res.errors).toBeUndefined();
    const host = res.data?.host as {
      hypervisor: { type: string; capabilities: { domainTypes: string[] } };
      domains: Array<Record<string, unknown>>;
    };
    expect(host.hypervisor.type).toBe('QEMU');
    expect(host.hypervisor.capabilities.domainTypes).toContain('qemu');
    const nested = host.domains.find((d) => d.name === 'gw-nested');
    expect(nested).toMatchObject({ state: 'RUNNING', stateReason: 'BOOTED' });
    expect(nested?.runtimeId).toBe(await dom.currentId());
    expect((nested as { interfaces: Array<{ targetDevice: string }> }).interfaces[0]?.targetDevice).toMatch(
      /^vnet\d+$/,
    );
    await dom.destroy();
  });

  it('answers both hosts in one query', async () => {
    const res = await gw.query('{ hosts { name connected hypervisor { type } } }');
    expect(res.data?.hosts).toEqual([
      { name: 'qemu', connected: true, hypervisor: { type: 'QEMU' } },
      { name: 'builtin', connected: true, hypervisor: { type: 'TEST' } },
    ]);
  });
});
