import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type Connection, ErrorNumber } from '../../src/libvirt/index.ts';
import { openFixtureHost } from '../support/test-host.ts';

function poolXml(name: string): string {
  return `<pool type="dir"><name>${name}</name><target><path>/${name}</path></target></pool>`;
}

function volumeXml(name: string, capacity: string): string {
  return `<volume><name>${name}</name><capacity unit="bytes">${capacity}</capacity></volume>`;
}

let c: Connection;
beforeEach(async () => {
  c = await openFixtureHost();
});
afterEach(async () => {
  await c.close();
});

describe('StoragePool', () => {
  it('lists and finds pools, with 64-bit sizes', async () => {
    expect((await c.storagePools()).map((p) => p.name)).toEqual(['default-pool']);
    expect((await c.storagePools('active')).map((p) => p.name)).toEqual(['default-pool']);
    const pool = await c.storagePoolByName('default-pool');
    expect((await c.storagePoolByUuid(pool.uuid)).name).toBe('default-pool');
    expect(await pool.info()).toEqual({
      state: 'RUNNING',
      capacityBytes: 100n * 2n ** 30n,
      allocationBytes: 2n ** 30n,
      availableBytes: 99n * 2n ** 30n,
    });
    expect(await pool.isActive()).toBe(true);
    expect(await pool.isPersistent()).toBe(true);
    expect(await pool.autostart()).toBe(false);
    expect(await pool.xml()).toContain('<path>/default-pool</path>');
  });

  it('defines, builds, starts, refreshes, stops, deletes and undefines a pool', async () => {
    const pool = await c.defineStoragePool(poolXml('extra'));
    expect((await pool.info()).state).toBe('INACTIVE');
    await pool.build();
    await pool.setAutostart(true);
    expect(await pool.autostart()).toBe(true);
    await pool.start();
    expect((await pool.info()).state).toBe('RUNNING');
    await pool.refresh();
    await pool.stop();
    expect(await pool.isActive()).toBe(false);
    await pool.deleteBacking();
    await pool.undefine();
    await expect(c.storagePoolByName('extra')).rejects.toMatchObject({ code: ErrorNumber.NO_STORAGE_POOL });
  });

  it('refuses build flags the driver does not support on create', async () => {
    await expect(c.createStoragePool(poolXml('built'), 'WITH_BUILD')).rejects.toMatchObject({
      codeName: 'INVALID_ARG',
    });
  });

  it('creates a transient pool, started at once', async () => {
    const pool = await c.createStoragePool(poolXml('transient'));
    expect(await pool.isActive()).toBe(true);
    expect(await pool.isPersistent()).toBe(false);
    await pool.stop();
    await expect(c.storagePoolByName('transient')).rejects.toMatchObject({ codeName: 'NO_STORAGE_POOL' });
  });
});

describe('Volume', () => {
  it('lists a pool’s volumes with path and key, and finds them by path, key and name', async () => {
    const pool = await c.storagePoolByName('default-pool');
    const [vol] = await pool.volumes();
    expect(vol).toMatchObject({ name: 'web.img', path: '/default-pool/web.img' });
    expect((await c.volumeByPath('/default-pool/web.img')).key).toBe(vol?.key);
    expect((await c.volumeByKey(vol?.key ?? '')).name).toBe('web.img');
    expect((await pool.volumeByName('web.img')).path).toBe('/default-pool/web.img');
    expect(await vol?.info()).toEqual({ type: 'FILE', capacityBytes: 10n * 2n ** 30n, allocationBytes: 2n ** 30n });
    expect(await vol?.xml()).toContain('<name>web.img</name>');
    expect((await vol?.pool())?.name).toBe('default-pool');
  });

  it('creates a volume and deletes it', async () => {
    const pool = await c.storagePoolByName('default-pool');
    const vol = await pool.createVolume(volumeXml('huge.img', '5368709121'));
    expect(vol.path).toBe('/default-pool/huge.img');
    expect((await vol.info()).capacityBytes).toBe(5368709121n);
    await vol.delete();
    await expect(c.volumeByPath('/default-pool/huge.img')).rejects.toMatchObject({ code: ErrorNumber.NO_STORAGE_VOL });
  });
});
