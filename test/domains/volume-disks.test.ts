import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Connection, Volume } from '../../src/libvirt/index.ts';
import { buildVolumeXml } from '../../src/libvirt/xml/volume-xml.ts';
import { startGateway, type TestGateway } from '../support/gateway.ts';
import { DIR_POOL, openPrivateDaemon, privateDaemon, privateDaemonSkipReason } from '../support/private-daemon.ts';
import { fixtureUri } from '../support/test-host.ts';

const DISKS = `disks { type sourcePath source { kind path pool volume protocol name } volume { path name pool { name } } capacityBytes }`;

const domainWithVolumeDisk = (type: string, name: string, pool: string, volume: string) => `<domain type='${type}'>
  <name>${name}</name><memory unit='MiB'>64</memory>
  <os><type arch='x86_64' machine='pc'>hvm</type></os>
  <devices>
    <disk type='volume' device='disk'>
      <driver name='qemu' type='qcow2'/>
      <source pool='${pool}' volume='${volume}'/>
      <target dev='vda' bus='virtio'/>
    </disk>
  </devices>
</domain>`;

describe('disks backed by pool volumes (test driver)', () => {
  let gw: TestGateway;

  beforeEach(async () => {
    gw = await startGateway({ fixture: fixtureUri });
  });
  afterEach(async () => {
    await gw.close();
  });

  it('resolve sourcePath, volume and pool through the pool and volume they name', async () => {
    const xml = domainWithVolumeDisk('test', 'vd', 'default-pool', 'web.img').replace(" machine='pc'", '');
    const defined = await gw.query('mutation ($xml: String!) { defineDomainFromXml(input: { xml: $xml }) { name } }', {
      xml,
    });
    expect(defined.errors).toBeUndefined();
    const res = await gw.query<{ domain: { disks: unknown[] } }>(`{ domain(ref: { name: "vd" }) { ${DISKS} } }`);
    expect(res.errors).toBeUndefined();
    expect(res.data?.domain.disks).toEqual([
      {
        type: 'VOLUME',
        sourcePath: '/default-pool/web.img',
        source: {
          kind: 'VOLUME',
          path: '/default-pool/web.img',
          pool: 'default-pool',
          volume: 'web.img',
          protocol: null,
          name: null,
        },
        volume: { path: '/default-pool/web.img', name: 'web.img', pool: { name: 'default-pool' } },
        capacityBytes: expect.any(String),
      },
    ]);
  });

  it('a file disk says so in source too', async () => {
    const res = await gw.query<{ domain: { disks: Array<{ source: unknown }> } }>(
      '{ domain(ref: { name: "web" }) { disks { source { kind path pool volume } } } }',
    );
    expect(res.data?.domain.disks[0]?.source).toEqual({
      kind: 'FILE',
      path: '/default-pool/web.img',
      pool: null,
      volume: null,
    });
  });
});

const skip = privateDaemonSkipReason();
describe.skipIf(skip !== undefined)('disks backed by pool volumes (private libvirtd)', () => {
  let gw: TestGateway;
  let c: Connection;
  let vol: Volume;

  beforeAll(async () => {
    const daemon = privateDaemon();
    if (!daemon) throw new Error('unreachable');
    gw = await startGateway({ qemu: daemon.uri });
    c = await openPrivateDaemon();
    vol = await (await c.storagePoolByName(DIR_POOL)).createVolume(
      buildVolumeXml({ name: 'vd-disk.qcow2', capacityBytes: 8n << 20n, format: 'qcow2' }),
    );
    await c.defineDomain(domainWithVolumeDisk(daemon.kvm ? 'kvm' : 'qemu', 'vd-vm', DIR_POOL, 'vd-disk.qcow2'));
  });
  afterAll(async () => {
    await (await c?.domainByName('vd-vm').catch(() => undefined))?.undefine();
    await vol?.delete();
    await gw?.close();
    await c?.close();
  });

  it('resolve to their volume and pool, with the volume’s size', async () => {
    const res = await gw.query<{ domain: { disks: unknown[] } }>(
      `{ domain(host: "qemu", ref: { name: "vd-vm" }) { ${DISKS} } }`,
    );
    expect(res.errors).toBeUndefined();
    expect(res.data?.domain.disks).toEqual([
      {
        type: 'VOLUME',
        sourcePath: vol.path,
        source: { kind: 'VOLUME', path: vol.path, pool: DIR_POOL, volume: 'vd-disk.qcow2', protocol: null, name: null },
        volume: { path: vol.path, name: 'vd-disk.qcow2', pool: { name: DIR_POOL } },
        capacityBytes: String(8n << 20n),
      },
    ]);
  });
});
