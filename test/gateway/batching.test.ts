import { describe, expect, it } from 'vitest';
import { bindingCalls } from '../../src/libvirt/native.ts';
import { buildDomainXml } from '../../src/libvirt/xml/domain-xml.ts';
import { startGateway } from '../support/gateway.ts';
import { fixtureUri } from '../support/test-host.ts';

const inventory = `{ host { domains { name uuid state stateReason vcpus maxVcpus memoryKiB maxMemoryKiB cpuTimeNs
  osType description persistent autostart active
  disks { sourcePath capacityBytes volume { name capacityBytes pool { name state capacityBytes } } }
  interfaces { mac sourceName network { name active bridge } } } } }`;

/** Binding calls one inventory query makes on a fresh fixture host grown to `count` domains. */
async function callsForInventory(count: number): Promise<{ calls: number; domains: number }> {
  const gw = await startGateway({ fixture: fixtureUri });
  try {
    const c = await gw.registry.connection('fixture');
    await (await c.domainByName('db')).undefine();
    for (let i = 1; i < count; i++) {
      const d = await c.defineDomain(
        buildDomainXml({
          type: 'test',
          name: `vm-${i}`,
          memoryKiB: 131072n,
          vcpus: 1,
          disks: [{ kind: 'file', sourcePath: '/default-pool/web.img', targetDev: 'vda' }],
          interfaces: [{ type: 'network', source: 'lan' }],
        }),
      );
      if (i % 2) await d.start();
    }
    await gw.query(inventory);
    const before = bindingCalls.total;
    const res = await gw.query<{ host: { domains: Array<{ disks: unknown[]; interfaces: unknown[] }> } }>(inventory);
    const calls = bindingCalls.total - before;
    expect(res.errors).toBeUndefined();
    const domains = res.data?.host.domains ?? [];
    expect(domains.every((d) => d.disks.length === 1 && d.interfaces.length === 1)).toBe(true);
    return { calls, domains: domains.length };
  } finally {
    await gw.close();
  }
}

describe('Batching', () => {
  it('makes as many libvirt calls for 200 domains as for 20, and no more than for 1', async () => {
    const one = await callsForInventory(1);
    const twenty = await callsForInventory(20);
    const twoHundred = await callsForInventory(200);
    expect([one.domains, twenty.domains, twoHundred.domains]).toEqual([1, 20, 200]);
    expect(twoHundred.calls).toBe(twenty.calls);
    expect(one.calls).toBeLessThanOrEqual(twoHundred.calls);
    // list, stats, batch info, persistent + autostart lists, XML, pools, volumes, volume info,
    // pool info, networks, network flags and XML: one or two calls per kind of object.
    expect(twoHundred.calls).toBeLessThanOrEqual(16);
  });
});
