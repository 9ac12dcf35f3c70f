import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Connection, type Domain, LibvirtError } from '../../src/libvirt/index.ts';
import { native } from '../../src/libvirt/native.ts';
import { openFixtureHost } from '../support/test-host.ts';

const CALLS = [
  'domainManagedSave',
  'domainManagedSaveRemove',
  'domainHasManagedSaveImage',
  'domainSave',
  'domainRestore',
  'domainSaveImageGetXMLDesc',
  'domainReset',
  'domainRename',
  'domainPMWakeup',
  'domainSendKey',
  'domainSetMetadata',
  'domainInterfaceAddresses',
  'domainGetGuestInfo',
  'storageVolCreateXMLFrom',
  'storageVolResize',
  'storageVolWipe',
] as const;

describe('save, metadata, keys, addresses and volume calls of the port on the test driver', () => {
  let host: Connection;
  let web: Domain;

  beforeAll(async () => {
    host = await openFixtureHost();
    web = await host.domainByName('web');
  });
  afterAll(async () => {
    await host.close();
  });

  it('exports every such call of the Native interface', () => {
    for (const name of CALLS) expect(typeof native[name], name).toBe('function');
  });

  it('sets and clears the description and title through virDomainSetMetadata', async () => {
    await web.setMetadata('DESCRIPTION', 'front <end> & co', 'live');
    await web.setMetadata('TITLE', 'Web', 'live');
    const xml = await web.xml();
    expect(xml).toContain('<description>front &lt;end&gt; &amp; co</description>');
    expect(xml).toContain('<title>Web</title>');
    await web.setMetadata('TITLE', null, 'live');
    expect(await web.xml()).not.toContain('<title>');
  });

  it('reads interface addresses with typed address kinds', async () => {
    const [nic] = await web.interfaceAddresses('LEASE');
    expect(nic?.addresses[0]).toMatchObject({ type: 'IPV4', prefix: expect.any(Number) });
  });

  it('renames only through libvirt’s rules: a running domain is refused with libvirt’s error', async () => {
    const err = await web.rename('web2').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(LibvirtError);
    expect(web.name).toBe('web');
  });

  it('clones a volume; the test driver has no resize or wipe (the private libvirtd cases cover them)', async () => {
    const pool = await host.storagePoolByName('default-pool');
    const img = await pool.volumeByName('web.img');
    const copy = await pool.cloneVolume('<volume><name>copy.img</name><capacity>1</capacity></volume>', img);
    expect(copy.name).toBe('copy.img');
    expect((await pool.volumes()).map((v) => v.name).sort()).toEqual(['copy.img', 'web.img']);
    for (const call of [() => img.resize(1n << 30n), () => img.wipe()]) {
      expect(await call().catch((e: unknown) => (e as LibvirtError).codeName)).toBe('NO_SUPPORT');
    }
  });
});
