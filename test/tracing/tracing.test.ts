import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { resolveConfig } from '../../src/config/config.ts';
import { defaultSecurity } from '../../src/config/security.ts';
import { tracingSchema } from '../../src/config/security-schema.ts';
import { isTracing } from '../../src/tracing/tracing.ts';
import { type ListeningGateway, listen } from '../events/event-clients.ts';
import { builtEntrySkipReason, runGateway, stopGateway } from '../support/built-entry.ts';
import { problemsOf } from '../support/config-problems.ts';
import { freePort } from '../support/redis-server.ts';
import { fixtureUri } from '../support/test-host.ts';

/** One span as OTLP/HTTP JSON carries it, with its attributes flattened. */
interface ExportedSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  traceState?: string;
  name: string;
  attributes: Record<string, string | number | boolean | undefined>;
  service: string | undefined;
}

type OtlpValue = { stringValue?: string; intValue?: string | number; boolValue?: boolean; doubleValue?: number };
type OtlpAttribute = { key: string; value: OtlpValue };
interface OtlpExport {
  resourceSpans: Array<{
    resource: { attributes: OtlpAttribute[] };
    scopeSpans: Array<{
      spans: Array<{
        traceId: string;
        spanId: string;
        parentSpanId?: string;
        traceState?: string;
        name: string;
        attributes: OtlpAttribute[];
      }>;
    }>;
  }>;
}

const flat = (attributes: OtlpAttribute[]) =>
  Object.fromEntries(
    attributes.map(({ key, value }) => [
      key,
      value.stringValue ?? (value.intValue === undefined ? undefined : Number(value.intValue)) ?? value.boolValue,
    ]),
  );

/** An OTLP/HTTP receiver on a free port of 127.0.0.1 that keeps every span it is sent. */
async function collector(): Promise<{
  url: string;
  spans: ExportedSpan[];
  requests: string[];
  close(): Promise<void>;
}> {
  const spans: ExportedSpan[] = [];
  const requests: string[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      requests.push(`${req.method} ${req.url} ${req.headers['content-type']}`);
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as OtlpExport;
      for (const rs of body.resourceSpans) {
        const service = flat(rs.resource.attributes)['service.name'] as string | undefined;
        for (const ss of rs.scopeSpans) {
          for (const s of ss.spans) {
            spans.push({
              traceId: s.traceId,
              spanId: s.spanId,
              ...(s.parentSpanId ? { parentSpanId: s.parentSpanId } : {}),
              ...(s.traceState ? { traceState: s.traceState } : {}),
              name: s.name,
              attributes: flat(s.attributes),
              service,
            });
          }
        }
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/v1/traces`,
    spans,
    requests,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

const builtSkip = builtEntrySkipReason();

const QUERY = 'query Inventory { host { domains { name stats { cpu { timeNs } } } } }';

async function inventory(gw: { url: string }, headers: Record<string, string> = {}): Promise<void> {
  const res = await fetch(gw.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ query: QUERY }),
  });
  const body = (await res.json()) as { errors?: unknown; data?: { host: { domains: unknown[] } } };
  expect(body.errors).toBeUndefined();
  expect(body.data?.host.domains.length).toBeGreaterThan(0);
}

describe('tracing', () => {
  let gw: ListeningGateway | undefined;
  let otlp: Awaited<ReturnType<typeof collector>> | undefined;
  afterEach(async () => {
    await gw?.close();
    await otlp?.close();
    gw = undefined;
    otlp = undefined;
  });

  it('is configured by a tracing section whose otlpUrl is an http(s) URL', async () => {
    expect((await resolveConfig({})).security.tracing).toBeUndefined();
    const on = await resolveConfig({ tracing: { otlpUrl: 'http://127.0.0.1:4318/v1/traces' } });
    expect(on.security.tracing).toEqual({
      otlpUrl: 'http://127.0.0.1:4318/v1/traces',
      serviceName: 'virtql',
      exportDelayMs: 5000,
    });
    const problems = await problemsOf(() => resolveConfig({ tracing: { otlpUrl: 'file:///tmp/spans' } }));
    expect(problems).toContainEqual(expect.objectContaining({ path: 'tracing.otlpUrl' }));
  });

  it('is off by default: no spans, no hooks', async () => {
    otlp = await collector();
    gw = await listen({ fixture: fixtureUri });
    await inventory(gw);
    expect(isTracing()).toBe(false);
    await gw.close();
    expect(otlp.requests).toEqual([]);
  });

  it('exports the operation span, its loader batches and their libvirt calls over OTLP/HTTP JSON', async () => {
    otlp = await collector();
    const tracing = tracingSchema.parse({ otlpUrl: otlp.url, serviceName: 'virtql-test' });
    gw = await listen({ fixture: fixtureUri }, { app: { security: { ...defaultSecurity(), tracing } } });
    expect(isTracing()).toBe(true);
    await inventory(gw);
    // Stopping sends what is left in the batch.
    await gw.close();
    expect(isTracing()).toBe(false);
    expect(otlp.requests[0]).toBe('POST /v1/traces application/json');

    const ops = otlp.spans.filter((s) => s.name === 'query Inventory');
    expect(ops).toHaveLength(1);
    const op = ops[0] as ExportedSpan;
    expect(op.parentSpanId).toBeUndefined();
    expect(op.service).toBe('virtql-test');
    expect(op.attributes).toMatchObject({ 'graphql.operation.type': 'query', 'graphql.operation.name': 'Inventory' });
    const trace = otlp.spans.filter((s) => s.traceId === op.traceId);
    const childrenOf = (parent: ExportedSpan) => trace.filter((s) => s.parentSpanId === parent.spanId);

    // Each batch a child of the operation, named after its loader, with the host and its size.
    const batches = childrenOf(op).filter((s) => s.name.startsWith('loader '));
    expect(batches.length).toBeGreaterThanOrEqual(2);
    for (const b of batches) {
      expect(b.attributes['virtql.host']).toBe('fixture');
      expect(b.attributes['virtql.batch.size']).toBeGreaterThanOrEqual(1);
      expect(b.name).toBe(`loader ${b.attributes['virtql.loader']}`);
    }
    // The bulk stats read: its batch (schema/domain/stats.ts), and under it the one binding call.
    const statsBatch = batches.find((b) =>
      /^schema\/domain\/stats\.ts:\d+$/.test(String(b.attributes['virtql.loader'])),
    );
    if (!statsBatch) throw new Error(`no stats batch among ${batches.map((b) => b.name).join(', ')}`);
    const statsCalls = childrenOf(statsBatch).filter((s) => s.name === 'libvirt connectGetAllDomainStats');
    expect(statsCalls).toHaveLength(1);
    expect(statsCalls[0]?.attributes['libvirt.function']).toBe('connectGetAllDomainStats');
    // The domain list: a batch of its own with the list call under it.
    const listed = trace.find((s) => s.name === 'libvirt connectListAllDomains');
    const listBatch = trace.find((s) => s.spanId === listed?.parentSpanId);
    expect(listBatch?.name).toMatch(/^loader schema\/domain\/domain\.ts:\d+$/);
    // Every libvirt call of the trace sits under a batch under the operation.
    const calls = trace.filter((s) => s.name.startsWith('libvirt '));
    for (const c of calls) {
      let parent = trace.find((s) => s.spanId === c.parentSpanId);
      while (parent && parent.parentSpanId !== op.spanId) parent = trace.find((s) => s.spanId === parent?.parentSpanId);
      expect(parent?.name, c.name).toMatch(/^loader /);
    }
  });

  it("continues the caller's W3C trace: traceparent becomes the operation span's parent, tracestate carried", async () => {
    otlp = await collector();
    const tracing = tracingSchema.parse({ otlpUrl: otlp.url });
    gw = await listen({ fixture: fixtureUri }, { app: { security: { ...defaultSecurity(), tracing } } });
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    const parent = '00f067aa0ba902b7';
    await inventory(gw, { traceparent: `00-${traceId}-${parent}-01`, tracestate: 'vendor=opaque,other=1' });
    // A malformed traceparent starts a trace of its own rather than failing the request.
    await inventory(gw, { traceparent: '00-00000000000000000000000000000000-00f067aa0ba902b7-01' });
    await gw.close();
    const ops = otlp.spans.filter((s) => s.name === 'query Inventory');
    expect(ops).toHaveLength(2);
    const [continued, fresh] = ops as [ExportedSpan, ExportedSpan];
    expect(continued.traceId).toBe(traceId);
    expect(continued.parentSpanId).toBe(parent);
    expect(continued.traceState).toBe('vendor=opaque,other=1');
    // Its loader batches and libvirt calls stay in the caller's trace.
    expect(otlp.spans.filter((s) => s.traceId === traceId && s.name.startsWith('loader ')).length).toBeGreaterThan(0);
    expect(fresh.traceId).not.toBe('00000000000000000000000000000000');
    expect(fresh.parentSpanId).toBeUndefined();
  });

  it.skipIf(builtSkip !== undefined)(
    `names loader spans from the built code too (node dist/index.js)${builtSkip ? ` (skipped: ${builtSkip})` : ''}`,
    async () => {
      otlp = await collector();
      const dir = await mkdtemp(join(tmpdir(), 'virtql-tracing-'));
      const config = join(dir, 'virtql.yaml');
      await writeFile(config, `tracing:\n  otlpUrl: ${otlp.url}\n  exportDelayMs: 100\n`);
      const port = await freePort();
      const run = runGateway(
        { VIRTQL_CONFIG: config, PORT: String(port), VIRTQL_HOSTS: `fixture=${fixtureUri}` },
        { until: /GraphQL and GraphiQL at/ },
      );
      try {
        await run.started;
        await inventory({ url: `http://127.0.0.1:${port}/graphql` });
      } finally {
        const exit = await stopGateway(run);
        await rm(dir, { recursive: true, force: true });
        expect(exit.code, exit.stderr).toBe(0);
      }
      const batches = otlp.spans.filter((s) => s.name.startsWith('loader '));
      expect(batches.length).toBeGreaterThanOrEqual(2);
      for (const b of batches) expect(b.name).toMatch(/^loader schema\/[a-z/-]+\.js:\d+$/);
      expect(batches.map((b) => b.name)).toContainEqual(
        expect.stringMatching(/^loader schema\/domain\/stats\.js:\d+$/),
      );
    },
  );
});
