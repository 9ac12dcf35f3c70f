import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  type Connection,
  Domain,
  HostInterface,
  LibvirtError,
  Network,
  StoragePool,
  Volume,
} from '../../src/libvirt/index.ts';
import { bindingCalls } from '../../src/libvirt/native.ts';
import { openFixtureHost } from '../support/test-host.ts';

let c: Connection;
beforeEach(async () => {
  c = await openFixtureHost();
});
afterEach(async () => {
  await c.close();
});

/** Binding calls made while `fn` runs. */
async function callsOf(fn: () => Promise<unknown>): Promise<number> {
  const before = bindingCalls.total;
  await fn();
  return bindingCalls.total - before;
}

describe('Batch calls: many objects, one binding call, results in order', () => {
  it('reads info and XML of every domain in one call each, matching the single calls', async () => {
    const domains = await c.domains();
    let infos: Awaited<ReturnType<typeof Domain.infoMany>> = [];
    expect(
      await callsOf(async () => {
        infos = await Domain.infoMany(domains);
      }),
    ).toBe(1);
    // cpuTimeNs moves on between the two reads of a running domain.
    const withoutCpuTime = (i: unknown) => ({ ...(i as object), cpuTimeNs: undefined });
    expect(infos.map(withoutCpuTime)).toEqual((await Promise.all(domains.map((d) => d.info()))).map(withoutCpuTime));
    const xmls = await Domain.xmlMany(domains, { inactive: true });
    expect(xmls).toEqual(await Promise.all(domains.map((d) => d.xml({ inactive: true }))));
  });

  it('puts an object’s own failure in its slot and answers the others', async () => {
    const other = await openFixtureHost();
    const [closedOne] = await other.domains();
    await other.close();
    const web = await c.domainByName('web');
    const gone = await c.defineDomain(
      '<domain type="test"><name>gone</name><memory>65536</memory><os><type>hvm</type></os></domain>',
    );
    await gone.undefine();
    const slots = await Domain.infoMany([web, closedOne as Domain, gone]);
    expect(slots[0]).toMatchObject({ state: 'RUNNING' });
    expect(slots[1]).toBeInstanceOf(LibvirtError);
    expect(slots[1]).toMatchObject({ codeName: 'INVALID_CONN' });
    expect(slots[2]).toMatchObject({ codeName: 'NO_DOMAIN' });
  });

  it('batches networks, interfaces, pools and volumes', async () => {
    const networks = await c.networks();
    expect(await Network.xmlMany(networks)).toEqual([await networks[0]?.xml()]);
    const ifaces = await c.interfaces();
    expect(await HostInterface.xmlMany(ifaces)).toEqual([await ifaces[0]?.xml()]);
    const pools = await c.storagePools();
    expect(await StoragePool.infoMany(pools)).toEqual([await pools[0]?.info()]);
    expect(await StoragePool.xmlMany(pools)).toEqual([await pools[0]?.xml()]);
    const [volumes] = await StoragePool.volumesMany(pools);
    expect(Array.isArray(volumes) && volumes.map((v) => v.path)).toEqual(['/default-pool/web.img']);
    const vols = volumes as Volume[];
    expect(await Volume.infoMany(vols)).toEqual([await vols[0]?.info()]);
    expect(await Volume.xmlMany(vols)).toEqual([await vols[0]?.xml()]);
    expect(await StoragePool.volumesMany([])).toEqual([]);
  });
});
