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
import { scrape } from '../support/prometheus.ts';
import { virsh } from '../support/run-command.ts';

const skip = privateDaemonSkipReason();
if (skip) console.warn(`skipping the /metrics QEMU cases: ${skip}`);

/** `virsh domstats NAME`: numbers by key (`block.0.rd.bytes=512`), and the string fields (`net.0.name=vnet0`). */
async function domstats(uri: string, name: string) {
  const out = await virsh(uri, 'domstats', name);
  const fields = new Map<string, string>();
  for (const line of out.split('\n')) {
    const at = line.indexOf('=');
    if (at > 0) fields.set(line.slice(0, at).trim(), line.slice(at + 1).trim());
  }
  return {
    get: (key: string) => (fields.has(key) ? Number(fields.get(key)) : undefined),
    text: (key: string) => fields.get(key),
  };
}

describe.skipIf(skip !== undefined)('/metrics against virsh domstats on a running QEMU domain', () => {
  let c: Connection;
  let gw: TestGateway;
  let vol: Volume;
  let dom: Domain;
  let uri: string;

  beforeAll(async () => {
    const daemon = privateDaemon();
    if (!daemon) throw new Error('unreachable');
    uri = daemon.uri;
    c = await openPrivateDaemon();
    const pool = await c.storagePoolByName(DIR_POOL);
    vol = await pool.createVolume(
      buildVolumeXml({ name: 'metrics-disk.qcow2', capacityBytes: 64n << 20n, format: 'qcow2' }),
    );
    dom = await c.defineDomain(
      buildDomainXml({
        type: daemon.kvm ? 'kvm' : 'qemu',
        name: 'metrics-running',
        memoryKiB: 65536n,
        vcpus: 1,
        machine: 'pc',
        disks: [{ kind: 'file', sourcePath: vol.path, targetDev: 'vda', bus: 'virtio', driverType: 'qcow2' }],
        interfaces: [{ type: 'network', source: NAT_NETWORK, mac: '52:54:00:6d:65:01', model: 'virtio' }],
      }),
    );
    await dom.start();
    gw = await startGateway({ qemu: uri }, 'qemu', { config: { metrics: { maxAgeSeconds: 0 } } });
  });
  afterAll(async () => {
    await gw?.close();
    if (await dom?.isActive()) await dom.destroy();
    await dom?.undefine();
    await vol?.delete();
    await c?.close();
  });

  it('shows the figures virsh domstats shows, between a reading before the scrape and one after', async () => {
    const before = await domstats(uri, 'metrics-running');
    const s = await scrape((request) => gw.app.yoga.fetch(request));
    const after = await domstats(uri, 'metrics-running');
    const domain = { host: 'qemu', domain: 'metrics-running' };
    const device = (target: string) => ({ ...domain, target_device: target });
    const nic = after.text('net.0.name');
    if (!nic) throw new Error('virsh shows no NIC for the running domain');

    expect(s.value('libvirt_up', { host: 'qemu' })).toBe(1);
    expect(s.value('libvirt_domain_info_state', domain)).toBe(after.get('state.state'));
    expect(s.value('libvirt_domain_info_memory_usage_bytes', domain)).toBe(
      (after.get('balloon.current') ?? Number.NaN) * 1024,
    );
    expect(s.value('libvirt_domain_info_maximum_memory_bytes', domain)).toBe(
      (after.get('balloon.maximum') ?? Number.NaN) * 1024,
    );
    expect(s.value('libvirt_domain_info_virtual_cpus', domain)).toBe(after.get('vcpu.current'));
    expect(s.value('libvirt_domain_block_stats_capacity_bytes', device('vda'))).toBe(after.get('block.0.capacity'));

    // Counters move while the guest runs: the scrape's value lies between the two virsh readings.
    const between = (metric: string, labels: Record<string, string>, key: string, scale = 1) => {
      const value = s.value(metric, labels) ?? Number.NaN;
      expect(value, metric).toBeGreaterThanOrEqual((before.get(key) ?? Number.NaN) * scale - 1e-9);
      expect(value, metric).toBeLessThanOrEqual((after.get(key) ?? Number.NaN) * scale + 1e-9);
    };
    between('libvirt_domain_info_cpu_time_seconds_total', domain, 'cpu.time', 1e-9);
    between('libvirt_domain_block_stats_read_bytes_total', device('vda'), 'block.0.rd.bytes');
    between('libvirt_domain_block_stats_read_requests_total', device('vda'), 'block.0.rd.reqs');
    between('libvirt_domain_block_stats_write_bytes_total', device('vda'), 'block.0.wr.bytes');
    between('libvirt_domain_interface_stats_receive_bytes_total', device(nic), 'net.0.rx.bytes');
    between('libvirt_domain_interface_stats_transmit_packets_total', device(nic), 'net.0.tx.pkts');
    expect(s.value('libvirt_domain_info_cpu_time_seconds_total', domain)).toBeGreaterThan(0);
  });

  it("carries prometheus-libvirt-exporter's labels: uuid, source_file of a disk, source_bridge of an interface", async () => {
    const s = await scrape((request) => gw.app.yoga.fetch(request));
    const after = await domstats(uri, 'metrics-running');
    const nic = after.text('net.0.name') ?? '';
    const network = await c.networkByName(NAT_NETWORK);
    const bridge = await network.bridgeName();
    const labels = { host: 'qemu', domain: 'metrics-running', uuid: dom.uuid };
    expect(s.value('libvirt_domain_info_state', labels)).toBe(after.get('state.state'));
    expect(
      s.value('libvirt_domain_block_stats_capacity_bytes', { ...labels, target_device: 'vda', source_file: vol.path }),
    ).toBe(after.get('block.0.capacity'));
    expect(
      s.value('libvirt_domain_interface_stats_receive_bytes_total', {
        ...labels,
        target_device: nic,
        source_bridge: bridge,
      }),
    ).toBeGreaterThanOrEqual(0);
  });
});
