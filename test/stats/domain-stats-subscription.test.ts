import { afterEach, describe, expect, it } from 'vitest';
import { defaultSecurity } from '../../src/config/security.ts';
import { bindingCalls } from '../../src/libvirt/native.ts';
import { buildDomainXml } from '../../src/libvirt/xml/domain-spec-xml.ts';
import {
  type ListeningGateway,
  listen,
  type Subscription,
  stopAll,
  subscribeWs,
  wsClient,
} from '../events/event-clients.ts';
import { fixtureUri } from '../support/test-host.ts';

interface Sample {
  domainStats: {
    sampledAt: string;
    error: string | null;
    domains: Array<{ name: string; rates: { elapsedSeconds: number; cpuPercentOfVcpus: number | null } | null }>;
  };
}

const SUBSCRIPTION = `subscription ($interval: Float!) { domainStats(intervalSeconds: $interval) {
  sampledAt error domains { name rates { elapsedSeconds cpuPercentOfVcpus } } } }`;

const bulkCalls = () => bindingCalls.byName.get('connectGetAllDomainStats') ?? 0;

async function gateway(minInterval: number): Promise<ListeningGateway> {
  const security = defaultSecurity();
  return listen(
    { fixture: fixtureUri },
    { app: { security: { ...security, limits: { ...security.limits, minStatsIntervalSeconds: minInterval } } } },
  );
}

describe('domainStats subscription', () => {
  let gw: ListeningGateway | undefined;
  afterEach(async () => {
    stopAll();
    await gw?.close();
    gw = undefined;
  });

  it('1,000 subscribers of one host and interval cost one bulk stats call per tick', async () => {
    gw = await gateway(0.05);
    const client = wsClient(gw.wsUrl);
    const before = bulkCalls();
    const subs: Array<Subscription<Sample>> = [];
    for (let i = 0; i < 1000; i++) subs.push(subscribeWs<Sample>(client, SUBSCRIPTION, { interval: 1 }));
    // Every subscriber has two samples, the last one the same tick for all.
    await Promise.all(subs.map((s) => s.results.untilSeen(2)));
    const ticks = new Set(subs.flatMap((s) => s.results.seen.map((r) => r.data?.domainStats.sampledAt)));
    expect(bulkCalls() - before).toBe(ticks.size);
    expect(ticks.size).toBeGreaterThanOrEqual(2);
    expect(subs.every((s) => s.results.seen.every((r) => r.errors === undefined))).toBe(true);
    for (const s of subs) s.stop();
    await client.dispose();
  });

  it('rates are null on the first sample, then present; a domain started between ticks appears', async () => {
    gw = await gateway(0.05);
    const client = wsClient(gw.wsUrl);
    const sub = subscribeWs<Sample>(client, SUBSCRIPTION, { interval: 0.1 });
    const first = await sub.results.next();
    expect(first.errors).toBeUndefined();
    const names = (r: typeof first) => r.data?.domainStats.domains.map((d) => d.name).sort();
    expect(names(first)).toEqual(['web']);
    expect(first.data?.domainStats.domains.every((d) => d.rates === null)).toBe(true);
    const second = await sub.results.next();
    const rates = second.data?.domainStats.domains[0]?.rates;
    expect(rates?.elapsedSeconds).toBeGreaterThan(0.05);
    const c = await gw.registry.connection('fixture');
    await c.createDomain(buildDomainXml({ type: 'test', name: 'late', memoryKiB: 131072n, vcpus: 1 }));
    const withLate = await sub.results.next((r) => names(r)?.includes('late') ?? false);
    expect(names(withLate)).toEqual(['late', 'web']);
    expect(withLate.data?.domainStats.domains.find((d) => d.name === 'late')?.rates).toBeNull();
    await (await c.domainByName('late')).destroy();
    const without = await sub.results.next((r) => !(names(r)?.includes('late') ?? true));
    expect(names(without)).toEqual(['web']);
    sub.stop();
    await client.dispose();
  });

  it('refuses an interval below the configured minimum', async () => {
    gw = await gateway(2);
    const client = wsClient(gw.wsUrl);
    const sub = subscribeWs<Sample>(client, SUBSCRIPTION, { interval: 1 });
    const res = await sub.results.next();
    expect(res.errors?.[0]?.message).toMatch(/intervalSeconds: must be at least 2/);
    await client.dispose();
  });
});
