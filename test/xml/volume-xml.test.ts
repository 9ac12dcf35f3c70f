import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Connection } from '../../src/libvirt/index.ts';
import { buildVolumeXml, parseVolumeXml } from '../../src/libvirt/xml/volume-xml.ts';
import { parseRoot } from '../../src/libvirt/xml/xml-codec.ts';
import { fixtureUri } from '../support/test-host.ts';
import { readXmlFixture } from './xml-fixtures.ts';

describe('libvirt test driver volumes', () => {
  let host: Connection;

  beforeAll(async () => {
    host = await Connection.open(fixtureUri);
  });
  afterAll(async () => {
    await host.close();
  });

  it('parses a volume as the port reports it', async () => {
    const volume = await (await host.storagePoolByName('default-pool')).volumeByName('web.img');
    const info = await volume.info();
    expect(parseVolumeXml(await volume.xml())).toEqual({
      type: 'file',
      name: volume.name,
      key: volume.key,
      capacityBytes: info.capacityBytes,
      allocationBytes: info.allocationBytes,
      targetPath: volume.path,
      format: 'raw',
    });
  });

  it('builds a volume from the parsed spec that libvirt creates and reads back the same', async () => {
    const pool = await host.storagePoolByName('default-pool');
    const original = parseVolumeXml(await (await pool.volumeByName('web.img')).xml());
    const copy = await pool.createVolume(
      buildVolumeXml({
        name: 'web-copy.img',
        capacityBytes: original.capacityBytes,
        allocationBytes: original.allocationBytes,
        format: original.format,
      }),
    );
    try {
      expect(parseVolumeXml(await copy.xml())).toEqual({
        ...original,
        name: 'web-copy.img',
        key: copy.key,
        targetPath: copy.path,
      });
    } finally {
      await copy.delete();
    }
  });

  it('keeps sizes beyond 2^53 bytes exact', async () => {
    const pool = await host.storagePoolByName('default-pool');
    const capacity = 2n ** 53n + 1n;
    const volume = await pool.createVolume(
      buildVolumeXml({ name: 'huge <&>.img', capacityBytes: capacity, allocationBytes: 0n }),
    );
    try {
      const parsed = parseVolumeXml(await volume.xml());
      expect(parsed.name).toBe('huge <&>.img');
      expect(parsed.capacityBytes).toBe(capacity);
      expect((await volume.info()).capacityBytes).toBe(capacity);
    } finally {
      await volume.delete();
    }
  });
});

describe('QEMU volumes', () => {
  it("parses qcow2 and raw volumes from QEMU's libvirt", () => {
    const dir = '/tmp/virtql-libvirtd-xmlfix-lron83/pool';
    expect(parseVolumeXml(readXmlFixture('qemu-volume-qcow2.xml'))).toEqual({
      type: 'file',
      name: 'disk0.qcow2',
      key: `${dir}/disk0.qcow2`,
      capacityBytes: 2n * 1024n ** 3n,
      allocationBytes: 200704n,
      physicalBytes: 196640n,
      targetPath: `${dir}/disk0.qcow2`,
      format: 'qcow2',
      clusterSizeBytes: 65536n,
    });
    expect(parseVolumeXml(readXmlFixture('qemu-volume-raw.xml'))).toMatchObject({
      name: 'data.img',
      capacityBytes: 16777216n,
      allocationBytes: 16777216n,
      format: 'raw',
    });
  });

  it('reads a backing store and writes sizes in bytes', () => {
    const overlay = buildVolumeXml({
      name: 'overlay.qcow2',
      capacityBytes: 10n * 1024n ** 3n,
      format: 'qcow2',
      backingStore: { path: '/images/base.qcow2', format: 'qcow2' },
    });
    const root = parseRoot(overlay, 'volume');
    expect(root.attrAt(['capacity'], 'unit')).toBe('bytes');
    expect(root.textAt('capacity')).toBe('10737418240');
    expect(parseVolumeXml(overlay)).toMatchObject({
      capacityBytes: 10737418240n,
      format: 'qcow2',
      backingStore: { path: '/images/base.qcow2', format: 'qcow2' },
    });
    expect(parseVolumeXml("<volume><name>v</name><capacity unit='G'>1</capacity></volume>").capacityBytes).toBe(
      1024n ** 3n,
    );
  });
});
