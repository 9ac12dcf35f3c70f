import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGateway, type TestGateway } from '../support/gateway.ts';
import { scrape } from '../support/prometheus.ts';
import { fixtureUri } from '../support/test-host.ts';

describe('operation metrics', () => {
  let gw: TestGateway;
  const get = () => scrape((request) => gw.app.yoga.fetch(request));
  beforeAll(async () => {
    gw = await startGateway({ lab: fixtureUri });
  });
  afterAll(() => gw?.close());

  it('counts each operation by name, type and the code its client saw, and each HTTP answer by status', async () => {
    expect((await gw.query('query Names { hosts { name } }')).errors).toBeUndefined();
    const unknown = await gw.query('query Missing { domain(host: "lab", ref: { name: "nope" }) { name } }');
    const missingCode = unknown.errors?.[0]?.extensions?.code;
    expect(typeof missingCode).toBe('string');
    const broken = await gw.query('query Broken { noSuchField }');
    expect(broken.errors?.[0]?.extensions?.code).toBe('INVALID_INPUT');

    expect((await gw.app.yoga.fetch('http://localhost/nowhere')).status).toBe(404);
    const s = await get();
    const op = (operation_name: string, code: string) => ({ operation_name, operation_type: 'query', code });
    expect(s.value('virtql_graphql_operations_total', op('Names', 'OK'))).toBe(1);
    expect(s.value('virtql_graphql_operations_total', op('Missing', String(missingCode)))).toBe(1);
    expect(s.value('virtql_graphql_operations_total', op('Broken', 'INVALID_INPUT'))).toBe(1);
    // parse-prometheus-text-format drops a histogram's labels: read the count from prom-client's own view.
    const histogram = await gw.app.metrics.registry.getSingleMetric('virtql_graphql_operation_duration_seconds')?.get();
    const names = histogram?.values.find(
      (v) => (v as { metricName?: string }).metricName?.endsWith('_count') && v.labels.operation_name === 'Names',
    );
    expect(names?.value).toBe(1);
    expect(s.text).toContain(
      'virtql_graphql_operation_duration_seconds_count{operation_name="Names",operation_type="query"} 1',
    );
    // Without an Accept header yoga answers GraphQL errors with 200, as application/json.
    expect(s.value('virtql_http_requests_total', { method: 'POST', path: '/graphql', status: '200' })).toBe(3);
    expect(s.value('virtql_http_requests_total', { method: 'GET', path: 'other', status: '404' })).toBe(1);
    expect(s.family('process_cpu_user_seconds_total').type).toBe('COUNTER');
    expect(s.family('nodejs_eventloop_lag_seconds').type).toBe('GAUGE');
  });

  it('keeps operation_name bounded: 300 random names give at most maxOperationNames series, the rest "other"', async () => {
    const capped = await startGateway({ lab: fixtureUri }, 'lab', { config: { metrics: { maxOperationNames: 5 } } });
    try {
      for (let i = 0; i < 300; i++) {
        const name = `Probe${Math.random().toString(36).slice(2)}`;
        expect((await capped.query(`query ${name} { hosts { name } }`)).errors).toBeUndefined();
      }
      // An operationName the document does not define is the client's text, never a label.
      const res = await capped.app.yoga.fetch('http://localhost/graphql', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ query: '{ hosts { name } }', operationName: 'Injected' }),
      });
      expect(res.status).toBe(400);
      const s = await scrape((request) => capped.app.yoga.fetch(request));
      const names = new Set(
        s.text
          .split('\n')
          .filter((l) => l.startsWith('virtql_graphql_operations_total{'))
          .map((l) => /operation_name="([^"]*)"/.exec(l)?.[1]),
      );
      expect(names.size).toBe(6);
      expect(names.has('other')).toBe(true);
      expect(names.has('Injected')).toBe(false);
      expect(
        s.value('virtql_graphql_operations_total', { operation_name: 'other', operation_type: 'query', code: 'OK' }),
      ).toBe(295);
    } finally {
      await capped.close();
    }
  });

  it('labels only the configured metrics.operationNames by name', async () => {
    const listed = await startGateway({ lab: fixtureUri }, 'lab', {
      config: { metrics: { operationNames: ['Inventory'] } },
    });
    try {
      await listed.query('query Inventory { hosts { name } }');
      await listed.query('query Elsewhere { hosts { name } }');
      const s = await scrape((request) => listed.app.yoga.fetch(request));
      const op = (operation_name: string) => ({ operation_name, operation_type: 'query', code: 'OK' });
      expect(s.value('virtql_graphql_operations_total', op('Inventory'))).toBe(1);
      expect(s.value('virtql_graphql_operations_total', op('other'))).toBe(1);
      expect(s.text).not.toContain('Elsewhere');
    } finally {
      await listed.close();
    }
  });
});
