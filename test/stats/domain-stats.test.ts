import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiToken } from '../../src/auth/authenticator.ts';
import { parseDomainStats } from '../../src/libvirt/index.ts';
import { bindingCalls } from '../../src/libvirt/native.ts';
import { buildDomainXml } from '../../src/libvirt/xml/domain-spec-xml.ts';
import { startGateway, type TestGateway } from '../support/gateway.ts';
import { fixtureUri } from '../support/test-host.ts';

const STATS = `stats { sampledAt cpu { timeNs userNs systemNs } balloon { currentKiB maximumKiB rssKiB }
  vcpuCount vcpus { index state timeNs } blockDevices { name readBytes writeBytes capacityBytes }
  interfaces { name rxBytes txBytes } }`;

const bulkCalls = () => bindingCalls.byName.get('connectGetAllDomainStats') ?? 0;

describe('Domain.stats and Host.stats on the test driver', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startGateway({ fixture: fixtureUri });
  });
  afterAll(() => gw.close());

  it('equals the binding’s own bulk reading, domain by domain', async () => {
    const c = await gw.registry.connection('fixture');
    const own = await c.allDomainStats(['STATE', 'CPU_TOTAL', 'BALLOON', 'VCPU', 'INTERFACE', 'BLOCK'], 'all', {
      enforce: false,
    });
    const res = await gw.query<{ host: { domains: Array<{ name: string; stats: Record<string, unknown> }> } }>(
      `{ host { domains { name ${STATS} } } }`,
    );
    expect(res.errors).toBeUndefined();
    const domains = res.data?.host.domains ?? [];
    expect(domains.map((d) => d.name).sort()).toEqual(own.map((r) => r.domain.name).sort());
    for (const { domain, params } of own) {
      const p = parseDomainStats(params);
      const got = domains.find((d) => d.name === domain.name)?.stats as Record<string, never>;
      const s = (v: bigint | undefined) => (v === undefined ? null : String(v));
      expect(got).toMatchObject({
        cpu: { timeNs: s(p.cpu.timeNs) },
        balloon: { currentKiB: s(p.balloon.currentKiB), maximumKiB: s(p.balloon.maximumKiB) },
        vcpuCount: p.vcpu.current ?? null,
        vcpus: p.vcpu.vcpus.map((v) => ({ index: v.index, timeNs: s(v.timeNs) })),
        blockDevices: p.blocks.map((b) => ({ name: b.name ?? null, readBytes: s(b.readBytes) })),
        interfaces: p.nics.map((n) => ({ name: n.name ?? null, rxBytes: s(n.rxBytes) })),
      });
      expect(Date.parse(String(got.sampledAt))).toBeGreaterThan(Date.now() - 60_000);
    }
  });

  it('Host.stats: CPU times and free memory per NUMA cell; memory stats the test driver lacks fail alone', async () => {
    // test:///default has two NUMA cells (2 and 4 MiB free); the fixture host declares none.
    const def = await startGateway({ def: 'test:///default' });
    const res = await def.query<{
      host: { stats: { cpu: Record<string, string | null>; memory: unknown; cellsFreeMemory: unknown[] } };
    }>(
      '{ host { stats { cpu { kernelNs userNs idleNs iowaitNs } memory { totalKiB } cellsFreeMemory { cell freeBytes } } } }',
    );
    const stats = res.data?.host.stats;
    for (const v of Object.values(stats?.cpu ?? {})) expect(v).toMatch(/^\d+$/);
    expect(stats?.cpu.userNs).not.toBeNull();
    expect(stats?.cellsFreeMemory.length).toBeGreaterThan(0);
    stats?.cellsFreeMemory.forEach((c, i) => {
      expect(c).toEqual({ cell: i, freeBytes: expect.stringMatching(/^\d+$/) });
    });
    expect(stats?.memory).toBeNull();
    expect(res.errors?.map((e) => e.path?.join('.'))).toEqual(['host.stats.memory']);
    expect(stats?.cellsFreeMemory).toEqual([
      { cell: 0, freeBytes: String(2048 * 1024) },
      { cell: 1, freeBytes: String(4096 * 1024) },
    ]);
    await def.close();
  });
});

describe('Domain.stats cost', () => {
  it('one bulk stats call for 1,000 domains', async () => {
    const gw = await startGateway({ fixture: fixtureUri });
    try {
      const c = await gw.registry.connection('fixture');
      for (let i = 0; i < 998; i++) {
        const d = await c.defineDomain(buildDomainXml({ type: 'test', name: `vm-${i}`, memoryKiB: 131072n, vcpus: 1 }));
        if (i % 2) await d.start();
      }
      const before = bulkCalls();
      const res = await gw.query<{ host: { domains: unknown[] } }>(`{ host { domains { name ${STATS} } } }`);
      expect(res.errors).toBeUndefined();
      expect(res.data?.host.domains).toHaveLength(1000);
      expect(bulkCalls() - before).toBe(1);
    } finally {
      await gw.close();
    }
  });
});

describe('Stats privileges', () => {
  const tokens = { viewer: createApiToken(), nobody: createApiToken() };
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startGateway({ fixture: fixtureUri }, undefined, {
      config: {
        auth: {
          tokens: Object.entries(tokens).map(([name, t]) => ({ name, sha256: t.sha256 })),
          roles: { 'power-only': ['VM.PowerMgmt'] },
          grants: [
            { identity: 'viewer', role: 'viewer' },
            { identity: 'nobody', role: 'power-only' },
          ],
        },
      },
    });
  });
  afterAll(() => gw.close());
  const as = (who: keyof typeof tokens, query: string) =>
    gw.query<{ host: Record<string, unknown> }>(query, {}, { authorization: `Bearer ${tokens[who].secret}` });

  it('a viewer reads Host.stats and Domain.stats', async () => {
    const res = await as('viewer', `{ host { stats { cpu { userNs } } domains { name ${STATS} } } }`);
    expect(res.errors).toBeUndefined();
    expect(res.data?.host.domains).toHaveLength(2);
  });

  it('an identity without Host.Audit or VM.Audit is refused both', async () => {
    const host = await as('nobody', '{ host { stats { cpu { userNs } } } }');
    expect(host.data?.host?.stats ?? null).toBeNull();
    expect(host.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    const domains = await as('nobody', `{ host { domains { name ${STATS} } } }`);
    expect(domains.data?.host?.domains ?? null).toBeNull();
    expect(domains.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
  });
});
