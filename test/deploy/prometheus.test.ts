import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { repoRoot } from '../support/built-entry.ts';
import { startGateway, type TestGateway } from '../support/gateway.ts';
import { scrape } from '../support/prometheus.ts';
import { runCommand } from '../support/run-command.ts';
import { fixtureUri } from '../support/test-host.ts';
import { toolSkipReason } from '../support/tool-availability.ts';

const rulesDir = join(repoRoot, 'deploy', 'prometheus');
const promtoolSkip = toolSkipReason(
  'promtool',
  ['--version'],
  'apt-get install prometheus; scripts/setup.sh test does',
);
if (promtoolSkip) console.warn(`skipping the promtool checks: ${promtoolSkip}`);

describe.skipIf(promtoolSkip !== undefined)('the Prometheus alert rules (promtool)', () => {
  it('pass promtool check rules', async () => {
    const { stdout } = await runCommand('promtool', ['check', 'rules', join(rulesDir, 'alerts.yml')]);
    expect(stdout).toContain('SUCCESS');
  });

  it('and the compose Prometheus configuration pass promtool check config', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'virtql-prometheus-'));
    try {
      // The container's rule path, pointed at the file in the repository.
      const config = (await readFile(join(rulesDir, 'prometheus.yml'), 'utf8')).replace(
        '/etc/prometheus/alerts.yml',
        join(rulesDir, 'alerts.yml'),
      );
      await writeFile(join(dir, 'prometheus.yml'), config);
      const { stdout } = await runCommand('promtool', ['check', 'config', join(dir, 'prometheus.yml')]);
      expect(stdout).toContain('SUCCESS');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('fire as their unit tests say (host down on every replica, server errors but not client ones, certificate expiry)', async () => {
    const { stdout } = await runCommand('promtool', ['test', 'rules', join(rulesDir, 'alerts.test.yml')]);
    expect(stdout).toContain('SUCCESS');
  });
});

describe('the metrics the alert rules and the Grafana dashboards read', () => {
  let dir: string;
  let gw: TestGateway;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'virtql-alerts-'));
    // A certificate valid for 3 days, so the expiry metric is there to read.
    await runCommand('openssl', [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-days',
      '3',
      '-subj',
      '/CN=localhost',
      '-keyout',
      join(dir, 'server.key'),
      '-out',
      join(dir, 'server.crt'),
    ]);
    gw = await startGateway({ fixture: fixtureUri }, 'fixture', {
      config: { tls: { cert: 'server.crt', key: 'server.key' }, metrics: { maxAgeSeconds: 0 } },
      baseDir: dir,
    });
    await gw.query('query Inventory { hosts { name domains { name } } }');
  });
  afterAll(async () => {
    await gw?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('all exist on /metrics, so no rule or dashboard panel watches a name that is not there', async () => {
    const rules = parseYaml(await readFile(join(rulesDir, 'alerts.yml'), 'utf8')) as {
      groups: Array<{ rules: Array<{ expr: string }> }>;
    };
    const dashboards = await Promise.all(
      ['virtql.json', 'libvirt.json'].map(
        async (file) =>
          JSON.parse(await readFile(join(repoRoot, 'deploy', 'grafana', 'dashboards', file), 'utf8')) as {
            panels: Array<{ targets: Array<{ expr: string }> }>;
          },
      ),
    );
    const exprs = [
      ...rules.groups.flatMap((g) => g.rules.map((r) => r.expr)),
      ...dashboards.flatMap((d) => d.panels.flatMap((p) => p.targets.map((t) => t.expr))),
    ];
    const names = new Set(
      exprs.flatMap((e) => [...e.matchAll(/\b((?:virtql|libvirt)_[a-z_]+)/g)].map((m) => m[1] as string)),
    );
    expect(names.size).toBeGreaterThan(5);
    const s = await scrape((request) => gw.app.yoga.fetch(request));
    for (const name of names) {
      // Histograms are read by their series (_bucket); the family carries the base name.
      expect(() => s.family(name.replace(/_bucket$/, '')), name).not.toThrow();
    }
    const expiry = s.value('virtql_tls_certificate_expiry_timestamp_seconds') ?? 0;
    expect(expiry - Date.now() / 1000).toBeGreaterThan(2.9 * 86400);
    expect(expiry - Date.now() / 1000).toBeLessThan(3.1 * 86400);
  });
});
