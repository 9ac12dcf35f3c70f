import { describe, expect, it } from 'vitest';
import { buildStoragePoolXml, parseStoragePoolXml } from '../../src/libvirt/xml/storage-pool-xml.ts';
import { useTestDriverHosts } from '../support/test-host.ts';
import { readXmlFixture } from './xml-fixtures.ts';

describe('libvirt test driver storage pools', () => {
  const hosts = useTestDriverHosts();

  it('parses every pool as the port reports it', async () => {
    for (const conn of [hosts.def, hosts.host]) {
      for (const pool of await conn.storagePools()) {
        const parsed = parseStoragePoolXml(await pool.xml());
        const info = await pool.info();
        expect(parsed).toMatchObject({
          type: 'dir',
          name: pool.name,
          uuid: pool.uuid,
          capacityBytes: info.capacityBytes,
          allocationBytes: info.allocationBytes,
          availableBytes: info.availableBytes,
          source: { devices: [] },
        });
      }
    }
    const fixturePool = parseStoragePoolXml(await (await hosts.host.storagePoolByName('default-pool')).xml());
    expect(fixturePool.capacityBytes).toBe(100n * 1024n ** 3n);
    expect(fixturePool.targetPath).toBe('/default-pool');
  });

  it('builds a dir pool from the parsed spec that libvirt accepts and reads back the same', async () => {
    const original = parseStoragePoolXml(await (await hosts.host.storagePoolByName('default-pool')).xml());
    const copy = await hosts.host.defineStoragePool(
      // libvirt refuses two pools on one directory.
      buildStoragePoolXml({ type: 'dir', name: 'pool-copy', targetPath: `${original.targetPath}-copy` }),
    );
    try {
      expect(parseStoragePoolXml(await copy.xml())).toMatchObject({
        type: 'dir',
        name: 'pool-copy',
        uuid: copy.uuid,
        targetPath: `${original.targetPath}-copy`,
        source: original.source,
      });
    } finally {
      await copy.undefine();
    }
  });

  it('builds logical and netfs pools that libvirt accepts', async () => {
    const logical = await hosts.def.defineStoragePool(
      buildStoragePoolXml({ type: 'logical', name: 'vg-pool', sourceName: 'vg0', devices: ['/dev/sdx1', '/dev/sdy1'] }),
    );
    const netfs = await hosts.def.defineStoragePool(
      buildStoragePoolXml({
        type: 'netfs',
        name: 'nfs-pool',
        host: 'nas.example.test',
        sourceDir: '/export/images',
        format: 'nfs',
        targetPath: '/mnt/images',
      }),
    );
    try {
      expect(parseStoragePoolXml(await logical.xml())).toMatchObject({
        type: 'logical',
        name: 'vg-pool',
        source: { devices: ['/dev/sdx1', '/dev/sdy1'], name: 'vg0', format: 'lvm2' },
      });
      expect(parseStoragePoolXml(await netfs.xml())).toMatchObject({
        type: 'netfs',
        name: 'nfs-pool',
        targetPath: '/mnt/images',
        source: { host: 'nas.example.test', dir: '/export/images', format: 'nfs', devices: [] },
      });
    } finally {
      await logical.undefine();
      await netfs.undefine();
    }
  });
});

describe('QEMU storage pools', () => {
  it("parses a dir pool from QEMU's libvirt", () => {
    expect(parseStoragePoolXml(readXmlFixture('qemu-pool-dir.xml'))).toEqual({
      type: 'dir',
      name: 'virtql-pool',
      uuid: 'b149616f-c4a7-47eb-a159-5e96af45c842',
      capacityBytes: 270553174016n,
      allocationBytes: 24067911680n,
      availableBytes: 246485262336n,
      targetPath: '/tmp/virtql-libvirtd-xmlfix-lron83/pool',
      source: { devices: [] },
    });
  });
});
