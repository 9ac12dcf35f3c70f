import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Connection, Domain } from '../../src/libvirt/index.ts';
import { type GraphQLResponse, startGateway, type TestGateway } from '../support/gateway.ts';
import { bareDomainXml, openPrivateDaemon, privateDaemon, privateDaemonSkipReason } from '../support/private-daemon.ts';
import { scrape } from '../support/prometheus.ts';
import { startRedis, stopRedis } from '../support/redis-server.ts';
import { virsh } from '../support/run-command.ts';

// Truthful answers on a private libvirtd with QEMU: concurrent lifecycle actions on one domain each
// report their own transition (in one gateway, and across two replicas sharing Redis), and a
// domain that never ran reports no CPU time (libvirt 9.0 reports libvirtd's own for it).

const skip = privateDaemonSkipReason();
if (skip) console.warn(`skipping the truthful-answer QEMU cases: ${skip}`);

const RUNNING = 'truthful-vm';
const NEVER_STARTED = 'truthful-off';
const CALLS = 50;

type Change = { suspendDomain?: Transition; resumeDomain?: Transition };
type Transition = { previousState: string; state: string };

/** How many answers made the transition, and the codes of the others. */
function tally(answers: Array<GraphQLResponse<Change>>, field: keyof Change) {
  const made = answers.filter((a) => a.data?.[field] != null).map((a) => a.data?.[field]);
  const codes = answers.flatMap((a) => (a.errors ?? []).map((e) => String(e.extensions?.code)));
  return { made, codes };
}

const suspend = (gw: TestGateway) =>
  gw.query<Change>(`mutation { suspendDomain(input: { domain: { name: "${RUNNING}" } }) { previousState state } }`);
const resume = (gw: TestGateway) =>
  gw.query<Change>(`mutation { resumeDomain(input: { domain: { name: "${RUNNING}" } }) { previousState state } }`);

describe.skipIf(skip !== undefined)('truthful answers on a private libvirtd with QEMU', () => {
  let c: Connection;
  let gw: TestGateway;
  let running: Domain;
  let off: Domain;
  let uri: string;

  beforeAll(async () => {
    const daemon = privateDaemon();
    if (!daemon) throw new Error('unreachable');
    uri = daemon.uri;
    c = await openPrivateDaemon();
    running = await c.defineDomain(bareDomainXml(RUNNING, daemon.kvm));
    await running.start();
    off = await c.defineDomain(bareDomainXml(NEVER_STARTED, daemon.kvm));
    gw = await startGateway({ qemu: uri }, 'qemu', { config: { metrics: { maxAgeSeconds: 0 } } });
  });
  afterAll(async () => {
    await gw?.close();
    for (const d of [running, off]) {
      if (await d?.isActive()) await d.destroy();
      await d?.undefine();
    }
    await c?.close();
  });

  it(`${CALLS} suspends at once: exactly one RUNNING → PAUSED, the others INVALID_STATE; likewise resumes`, async () => {
    const suspends = tally(await Promise.all(Array.from({ length: CALLS }, () => suspend(gw))), 'suspendDomain');
    expect(suspends.made).toEqual([{ previousState: 'RUNNING', state: 'PAUSED' }]);
    expect(suspends.codes).toEqual(Array(CALLS - 1).fill('INVALID_STATE'));
    expect((await running.state()).state).toBe('PAUSED');

    const resumes = tally(await Promise.all(Array.from({ length: CALLS }, () => resume(gw))), 'resumeDomain');
    expect(resumes.made).toEqual([{ previousState: 'PAUSED', state: 'RUNNING' }]);
    expect(resumes.codes).toEqual(Array(CALLS - 1).fill('INVALID_STATE'));
    expect((await running.state()).state).toBe('RUNNING');
  });

  it('a suspend of a paused domain, a resume of a running one and a start of an active one are INVALID_STATE', async () => {
    const first = await suspend(gw);
    expect(first.data?.suspendDomain).toEqual({ previousState: 'RUNNING', state: 'PAUSED' });
    expect((await suspend(gw)).errors?.[0]?.extensions?.code).toBe('INVALID_STATE');
    expect((await resume(gw)).data?.resumeDomain).toEqual({ previousState: 'PAUSED', state: 'RUNNING' });
    expect((await resume(gw)).errors?.[0]?.extensions?.code).toBe('INVALID_STATE');
    const start = await gw.query(`mutation { startDomain(input: { domain: { name: "${RUNNING}" } }) { state } }`);
    expect(start.errors?.[0]?.extensions?.code).toBe('INVALID_STATE');
  });

  it('a never-started domain reports no CPU time in cpuTimeNs, stats and /metrics (libvirt 9.0 reports libvirtd’s)', async () => {
    // The quirk this guards against: libvirt's own figure for the inactive domain is libvirtd's CPU time.
    const raw = (await c.allDomainStats(['CPU_TOTAL'], 'all')).find((r) => r.domain.name === NEVER_STARTED);
    const virshStats = await virsh(uri, 'domstats', '--cpu-total', NEVER_STARTED);
    console.info(
      `virsh domstats --cpu-total ${NEVER_STARTED}: ${/cpu\.time=\d+/.exec(virshStats)?.[0] ?? 'no cpu.time'}`,
    );
    expect(raw?.params['cpu.time'] ?? 0n).toBe(0n);
    expect((await off.info()).cpuTimeNs).toBe(0n);

    const res = await gw.query<{
      domain: { state: string; cpuTimeNs: string; cpuTimeSeconds: number; stats: { cpu: { timeNs: string | null } } };
    }>(
      `{ domain(host: "qemu", ref: { name: "${NEVER_STARTED}" }) { state cpuTimeNs cpuTimeSeconds stats { cpu { timeNs } } } }`,
    );
    expect(res.errors).toBeUndefined();
    expect(res.data?.domain).toMatchObject({ state: 'SHUTOFF', cpuTimeNs: '0', cpuTimeSeconds: 0 });
    expect(res.data?.domain.stats.cpu.timeNs ?? null).toBeNull();

    const s = await scrape((request) => gw.app.yoga.fetch(request));
    const domain = { host: 'qemu', domain: NEVER_STARTED };
    expect(s.value('libvirt_domain_info_cpu_time_seconds_total', domain) ?? 0).toBe(0);
    // The running domain still reports its own.
    expect(s.value('libvirt_domain_info_cpu_time_seconds_total', { host: 'qemu', domain: RUNNING })).toBeGreaterThan(0);
  });
});

const redis = skip ? { unavailable: skip } : await startRedis();
const noRedis = 'unavailable' in redis ? redis.unavailable : undefined;

describe.skipIf(noRedis !== undefined)('lifecycle actions across two replicas sharing Redis', () => {
  let c: Connection;
  let replicas: TestGateway[] = [];
  let running: Domain;

  beforeAll(async () => {
    const daemon = privateDaemon();
    if (!daemon || !('url' in redis)) throw new Error('unreachable');
    c = await openPrivateDaemon();
    running = await c.defineDomain(bareDomainXml(RUNNING, daemon.kvm));
    await running.start();
    replicas = await Promise.all(
      [0, 1].map(() => startGateway({ qemu: daemon.uri }, 'qemu', { redis: { url: redis.url } })),
    );
  });
  afterAll(async () => {
    for (const gw of replicas) await gw.close();
    if (await running?.isActive()) await running.destroy();
    await running?.undefine();
    await c?.close();
    if ('process' in redis) await stopRedis(redis.process);
  });

  it(`${CALLS} suspends split over two replicas: exactly one RUNNING → PAUSED, the others INVALID_STATE`, async () => {
    const answers = await Promise.all(Array.from({ length: CALLS }, (_, i) => suspend(replicas[i % 2] as TestGateway)));
    const { made, codes } = tally(answers, 'suspendDomain');
    expect(made).toEqual([{ previousState: 'RUNNING', state: 'PAUSED' }]);
    expect(codes).toEqual(Array(CALLS - 1).fill('INVALID_STATE'));

    const resumes = await Promise.all(Array.from({ length: CALLS }, (_, i) => resume(replicas[i % 2] as TestGateway)));
    expect(tally(resumes, 'resumeDomain').made).toEqual([{ previousState: 'PAUSED', state: 'RUNNING' }]);
  });
});
