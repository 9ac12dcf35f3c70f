import { describe, expect, it } from 'vitest';
import { bindingCalls } from '../../src/libvirt/native.ts';
import { MAX_PARALLEL_CHUNKS } from '../../src/libvirt/parallel-chunks.ts';
import { buildDomainXml } from '../../src/libvirt/xml/domain-spec-xml.ts';
import { startGateway } from '../support/gateway.ts';
import { fixtureUri } from '../support/test-host.ts';

const inventory = `{ host { domains { name uuid state stateReason vcpus maxVcpus memoryKiB maxMemoryKiB cpuTimeNs
  osType description persistent autostart active
  disks { sourcePath capacityBytes volume { name capacityBytes pool { name state capacityBytes } } }
  interfaces { mac sourceName network { name active bridge } } } } }`;

/** The batches split into parallel chunks on a large host. */
const CHUNKED = ['domainDefinitionsMany', 'domainGetInfoMany'];

/** Binding calls one inventory query makes on a fresh fixture host grown to `count` domains. */
async function callsForInventory(count: number): Promise<{ calls: number; chunkedCalls: number[]; domains: number }> {
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
    const chunkedBefore = CHUNKED.map((name) => bindingCalls.byName.get(name) ?? 0);
    const res = await gw.query<{ host: { domains: Array<{ disks: unknown[]; interfaces: unknown[] }> } }>(inventory);
    const calls = bindingCalls.total - before;
    const chunkedCalls = CHUNKED.map((name, i) => (bindingCalls.byName.get(name) ?? 0) - (chunkedBefore[i] ?? 0));
    expect(res.errors).toBeUndefined();
    const domains = res.data?.host.domains ?? [];
    expect(domains.every((d) => d.disks.length === 1 && d.interfaces.length === 1)).toBe(true);
    return { calls, chunkedCalls, domains: domains.length };
  } finally {
    await gw.close();
  }
}

describe('Batching', () => {
  it('makes as many libvirt calls for 600 domains as for 20, but for the parallel chunks, and no more than for 1', async () => {
    const one = await callsForInventory(1);
    const twenty = await callsForInventory(20);
    const many = await callsForInventory(600);
    expect([one.domains, twenty.domains, many.domains]).toEqual([1, 20, 600]);
    // Per-domain batches of a large host (definitions, and info where the bulk stats lack it) run in
    // up to MAX_PARALLEL_CHUNKS concurrent calls (one per thread of the connection);
    // every other kind stays one call.
    const sum = (n: number[]) => n.reduce((a, b) => a + b, 0);
    expect(twenty.chunkedCalls.every((n) => n <= 1)).toBe(true);
    expect(many.chunkedCalls[0]).toBe(MAX_PARALLEL_CHUNKS);
    expect(many.chunkedCalls.every((n) => n <= MAX_PARALLEL_CHUNKS)).toBe(true);
    expect(many.calls - sum(many.chunkedCalls)).toBe(twenty.calls - sum(twenty.chunkedCalls));
    expect(one.calls).toBeLessThanOrEqual(twenty.calls);
    // list, stats, batch info, persistent + autostart lists, XML, pools, volumes, volume info,
    // pool info, networks, network flags and XML: one or two calls per kind of object.
    expect(twenty.calls).toBeLessThanOrEqual(16);
  }, 60_000);
});

describe('Mutations', () => {
  it('suspend and resume with the domain’s state make at most 4 binding calls, and the state is the one libvirt holds', async () => {
    const gw = await startGateway({ fixture: fixtureUri });
    try {
      // Opens the connection, so that only the mutations' own calls are counted.
      await gw.query('{ domain(ref: { name: "web" }) { name } }');
      const counted = async (query: string) => {
        const before = bindingCalls.total;
        const res = await gw.query<Record<string, { state: string; domain: { state: string; vcpus: number } }>>(query);
        return { calls: bindingCalls.total - before, res };
      };
      const suspend = await counted(
        'mutation { suspendDomain(input: { domain: { name: "web" } }) { state domain { state } } }',
      );
      expect(suspend.res.data?.suspendDomain).toEqual({ state: 'PAUSED', domain: { state: 'PAUSED' } });
      // The connection checked alive once, the lookup, the state check, the action: the state after it is known.
      expect(suspend.calls).toBeLessThanOrEqual(4);
      const c = await gw.registry.connection('fixture');
      expect((await (await c.domainByName('web')).state()).state).toBe('PAUSED');

      const resume = await counted(
        'mutation { resumeDomain(input: { domain: { name: "web" } }) { state domain { state vcpus } } }',
      );
      expect(resume.res.data?.resumeDomain).toEqual({ state: 'RUNNING', domain: { state: 'RUNNING', vcpus: 2 } });
      expect((await (await c.domainByName('web')).state()).state).toBe('RUNNING');
    } finally {
      await gw.close();
    }
  });
});

describe('Shut-off domains', () => {
  it('take vCPUs and memory from the definition the query reads anyway, equal to virDomainGetInfo, with no info call', async () => {
    const gw = await startGateway({ fixture: fixtureUri });
    try {
      const c = await gw.registry.connection('fixture');
      await (await c.domainByName('web')).destroy();
      const before = bindingCalls.byName.get('domainGetInfoMany') ?? 0;
      const res = await gw.query<{
        host: {
          domains: Array<{ name: string; state: string; vcpus: number; memoryKiB: string; maxMemoryKiB: string }>;
        };
      }>('{ host { domains { name state vcpus memoryKiB maxMemoryKiB disks { sourcePath } } } }');
      expect(res.errors).toBeUndefined();
      expect((bindingCalls.byName.get('domainGetInfoMany') ?? 0) - before).toBe(0);
      const domains = res.data?.host.domains ?? [];
      expect(domains.map((d) => d.state)).toEqual(['SHUTOFF', 'SHUTOFF']);
      for (const d of domains) {
        const info = await (await c.domainByName(d.name)).info();
        expect(d).toMatchObject({
          vcpus: info.vcpus,
          memoryKiB: String(info.memoryKiB),
          maxMemoryKiB: String(info.maxMemoryKiB),
        });
      }
    } finally {
      await gw.close();
    }
  });
});
