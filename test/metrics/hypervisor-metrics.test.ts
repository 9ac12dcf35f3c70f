import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Connection, Domain, LibvirtError } from '../../src/libvirt/index.ts';
import { bindingCalls } from '../../src/libvirt/native.ts';
import { startGateway, type TestGateway } from '../support/gateway.ts';
import { type Scrape, scrape } from '../support/prometheus.ts';
import { fixtureUri } from '../support/test-host.ts';

/** A host whose connection can never open: the test driver refuses a file that does not exist. */
const DOWN_URI = 'test:///nonexistent/virtql-metrics-down.xml';

const bulkStatsCalls = () => bindingCalls.byName.get('connectGetAllDomainStats') ?? 0;

describe('libvirt metrics of the configured hosts', () => {
  let gw: TestGateway;
  const get = () => scrape((request) => gw.app.yoga.fetch(request));

  beforeAll(async () => {
    gw = await startGateway({ fixture: fixtureUri, down: DOWN_URI }, 'fixture', {
      config: { metrics: { maxAgeSeconds: 0 } },
    });
  });
  afterAll(() => gw?.close());

  it('matches what the binding reads on the same connection', async () => {
    const connection = await gw.registry.connection('fixture');
    const infosOf = async () => {
      const rows = await connection.allDomainStats(['STATE'], 'all', { enforce: false });
      const infos = await Domain.infoMany(rows.map((r) => r.domain));
      return rows.map((r, i) => ({ domain: r.domain, state: r.params['state.state'], info: infos[i] }));
    };
    const before = await infosOf();
    const s = await get();
    const after = await infosOf();

    expect(s.family('libvirt_domain_info_state').metrics).toHaveLength(before.length);
    expect(before.length).toBeGreaterThan(0);
    for (const [i, { domain, state, info }] of before.entries()) {
      if (!info || info instanceof LibvirtError) throw new Error(`no info for ${domain.name}`);
      const labels = { host: 'fixture', domain: domain.name };
      expect(s.value('libvirt_domain_info_state', labels)).toBe(state);
      expect(s.value('libvirt_domain_info_memory_usage_bytes', labels)).toBe(Number(info.memoryKiB) * 1024);
      expect(s.value('libvirt_domain_info_maximum_memory_bytes', labels)).toBe(Number(info.maxMemoryKiB) * 1024);
      expect(s.value('libvirt_domain_info_virtual_cpus', labels)).toBe(info.vcpus);
      // The test driver's CPU time runs with the clock: the scrape's falls between two readings.
      const later = after[i]?.info;
      if (!later || later instanceof LibvirtError) throw new Error(`no second info for ${domain.name}`);
      const cpu = s.value('libvirt_domain_info_cpu_time_seconds_total', labels) ?? Number.NaN;
      expect(cpu).toBeGreaterThanOrEqual(Number(info.cpuTimeNs) / 1e9 - 1e-6);
      expect(cpu).toBeLessThanOrEqual(Number(later.cpuTimeNs) / 1e9 + 1e-6);
    }
    expect(s.family('libvirt_domain_info_cpu_time_seconds_total').type).toBe('COUNTER');

    const pools = await connection.storagePools();
    const poolInfos = await Promise.all(pools.map((p) => p.info()));
    expect(pools.length).toBeGreaterThan(0);
    for (const [i, pool] of pools.entries()) {
      const labels = { host: 'fixture', storage_pool: pool.name };
      expect(s.value('libvirt_storage_pool_capacity_bytes', labels)).toBe(Number(poolInfos[i]?.capacityBytes));
      expect(s.value('libvirt_storage_pool_allocation_bytes', labels)).toBe(Number(poolInfos[i]?.allocationBytes));
    }
    for (const network of await connection.networks()) {
      expect(s.value('libvirt_network_active', { host: 'fixture', network: network.name })).toBe(
        (await network.isActive()) ? 1 : 0,
      );
    }
  });

  it('shows a host that cannot be reached as libvirt_up 0, and still answers for the others', async () => {
    const s = await get();
    expect(s.value('libvirt_up', { host: 'fixture' })).toBe(1);
    expect(s.value('libvirt_up', { host: 'down' })).toBe(0);
    expect(s.value('virtql_host_connected', { host: 'down' })).toBe(0);
    expect(s.samples('libvirt_domain_info_state').some((m) => m.labels.host === 'down')).toBe(false);
  });

  it('only grows its counters across two scrapes with activity between them', async () => {
    const first = await get();
    const res = await gw.query('query Inventory { host(name: "fixture") { name domains { name state } } }');
    expect(res.errors).toBeUndefined();
    const second = await get();
    const counters = [...first.families.values()].filter((f) => f.type === 'COUNTER');
    expect(counters.length).toBeGreaterThan(10);
    for (const family of counters) {
      for (const sample of first.samples(family.name)) {
        const later = second.value(family.name, sample.labels);
        expect(later, `${family.name} ${JSON.stringify(sample.labels)}`).toBeGreaterThanOrEqual(sample.value);
      }
    }
    const ops = { operation_name: 'Inventory', operation_type: 'query', code: 'OK' };
    expect(second.value('virtql_graphql_operations_total', ops)).toBe(
      (first.value('virtql_graphql_operations_total', ops) ?? 0) + 1,
    );
    const domain = { host: 'fixture', domain: 'web' };
    expect(second.value('libvirt_domain_info_cpu_time_seconds_total', domain)).toBeGreaterThan(
      first.value('libvirt_domain_info_cpu_time_seconds_total', domain) ?? Number.POSITIVE_INFINITY,
    );
    const calls = { function: 'connectGetAllDomainStats', outcome: 'ok' };
    expect(second.value('virtql_libvirt_calls_total', calls)).toBeGreaterThan(
      first.value('virtql_libvirt_calls_total', calls) ?? 0,
    );
  });
});

describe("prometheus-libvirt-exporter's state descriptions", () => {
  it('are used with metrics.stateDescriptions: exporter, the short names staying the default', async () => {
    const gw = await startGateway({ fixture: fixtureUri }, 'fixture', {
      config: { metrics: { maxAgeSeconds: 0, stateDescriptions: 'exporter' } },
    });
    try {
      const s = await scrape((request) => gw.app.yoga.fetch(request));
      const web = s.samples('libvirt_domain_info_state').find((m) => m.labels.domain === 'web');
      expect(web?.labels.state_desc).toBe('the domain is running');
      expect(web?.labels.uuid).toMatch(/^[0-9a-f-]{36}$/);
    } finally {
      await gw.close();
    }
  });
});

describe('the cost of a scrape', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startGateway({ a: fixtureUri, b: 'test:///default', down: DOWN_URI }, 'a', {
      config: { metrics: { maxAgeSeconds: 60 } },
    });
  });
  afterAll(() => gw?.close());

  it('is one bulk stats call per reachable host, however many scrapes arrive together', async () => {
    const before = bulkStatsCalls();
    const scrapes: Scrape[] = await Promise.all([1, 2, 3].map(() => scrape((request) => gw.app.yoga.fetch(request))));
    expect(bulkStatsCalls() - before).toBe(2);
    for (const s of scrapes) expect(s.samples('libvirt_up').map((m) => m.value)).toEqual([1, 1, 0]);
    // Within maxAgeSeconds a later scrape is served from the same sample, with the same figures.
    const later = await scrape((request) => gw.app.yoga.fetch(request));
    expect(bulkStatsCalls() - before).toBe(2);
    // Two domains on the fixture host, one on test:///default.
    expect(later.samples('libvirt_domain_info_state')).toHaveLength(3);
    for (const name of ['libvirt_up', 'libvirt_domain_info_state', 'libvirt_domain_info_memory_usage_bytes']) {
      expect(later.samples(name)).toEqual(scrapes[0]?.samples(name));
    }
  });

  it('reads a host again after libvirt reports a change made behind the gateway’s back, however young the sample', async () => {
    const state = (s: Scrape) =>
      s.samples('libvirt_domain_info_state').find((m) => m.labels.host === 'b' && m.labels.domain === 'test')?.value;
    const first = await scrape((request) => gw.app.yoga.fetch(request));
    expect(state(first)).toBe(1);
    // Another connection to the same driver, as virsh would be: the gateway learns of it only
    // through libvirt's event (test:///default is one driver per process, its connections share it).
    const other = await Connection.open('test:///default');
    const events = await gw.registry.connection('b');
    const suspended = new Promise<void>((resolve) => {
      void events.subscribe((e) => {
        if (e.kind === 'domain' && e.domain.name === 'test' && e.type === 'SUSPENDED') resolve();
      });
    });
    try {
      await (await other.domainByName('test')).suspend();
      await suspended;
      const before = bulkStatsCalls();
      expect(state(await scrape((request) => gw.app.yoga.fetch(request)))).toBe(3);
      expect(bulkStatsCalls() - before).toBe(1);
      await (await other.domainByName('test')).resume();
    } finally {
      await other.close();
    }
  });
});
