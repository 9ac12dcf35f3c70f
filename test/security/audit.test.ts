import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditLog } from '../../src/audit/audit-log.ts';
import type { AuditRecord } from '../../src/audit/audit-record.ts';
import { apiToken, postGraphQL, type WsConnection, wsConnect } from '../auth/auth-clients.ts';
import { type Subscription, stopAll, subscribeWs } from '../events/event-clients.ts';
import { startGateway, type TestGateway } from '../support/gateway.ts';
import { deferred, fixtureUri } from '../support/test-host.ts';

const AUDIT_EVENTS = `subscription { auditEvents {
  time identity { name kind } source host operation arguments result durationMs
} }`;

interface AuditEventData {
  auditEvents: Omit<AuditRecord, 'arguments'> & { arguments: string };
}

const XML = `<domain type="test">
  <name>audited</name>
  <memory unit="KiB">262144</memory>
  <vcpu>1</vcpu>
  <os><type arch="x86_64">hvm</type></os>
</domain>`;

const auditor = apiToken('auditor');
const viewer = apiToken('viewer');
const logged: Array<Record<string, unknown>> = [];
let dir: string;
let file: string;
let gw: TestGateway;
let url: string;
let socket: WsConnection;
let live: Subscription<AuditEventData>;

/** Resolves once the log has `n` live streams. */
function untilSubscribers(log: AuditLog, n: number): Promise<void> {
  const done = deferred<void>();
  const check = () => log.subscribers === n && done.resolve();
  const off = log.onChange(check);
  check();
  return done.promise.finally(off);
}

const mutate = (query: string, token = auditor) => postGraphQL(url, query, { authorization: token.bearer });

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'virtql-audit-'));
  file = join(dir, 'audit.jsonl');
  const logger = pino({ level: 'info' }, { write: (line: string) => void logged.push(JSON.parse(line)) });
  gw = await startGateway({ fixture: fixtureUri }, 'fixture', {
    logger,
    config: {
      auth: {
        tokens: [auditor.entry, viewer.entry],
        grants: [
          { identity: 'auditor', role: 'admin' },
          { identity: 'viewer', role: 'viewer' },
        ],
      },
      audit: { file },
    },
  });
  url = (await gw.app.start()).replace('//localhost:', '//127.0.0.1:');
  socket = wsConnect(url.replace(/^http/, 'ws'), auditor.bearer);
  live = subscribeWs<AuditEventData>(socket.client, AUDIT_EVENTS);
  await untilSubscribers(gw.app.audit, 1);
});

afterAll(async () => {
  stopAll();
  await socket?.client.dispose();
  await gw?.close();
  await rm(dir, { recursive: true, force: true });
});

describe('audit records', () => {
  it('records a mutation that succeeded: who, from where, on which host, what, ok, how long', async () => {
    const res = await mutate('mutation { suspendDomain(input: { domain: { name: "web" } }) { state } }');
    expect(res.body.data).toEqual({ suspendDomain: { state: 'PAUSED' } });
    const { auditEvents: event } = (await live.results.next()).data as AuditEventData;
    expect(event).toMatchObject({
      identity: { name: 'auditor', kind: 'TOKEN' },
      host: 'fixture',
      operation: 'suspendDomain',
      result: 'ok',
    });
    expect(event.source).toMatch(/127\.0\.0\.1$/);
    expect(JSON.parse(event.arguments)).toEqual({ domain: { name: 'web' } });
    expect(Date.now() - Date.parse(event.time)).toBeLessThan(60_000);
    expect(event.durationMs).toBeGreaterThan(0);
  });

  it('records a mutation that failed with the code the caller got', async () => {
    const res = await mutate(
      'mutation { suspendDomain(input: { host: "fixture", domain: { name: "web" } }) { state } }',
    );
    expect(res.body.errors?.[0]?.extensions?.code).toBe('INVALID_STATE');
    const { auditEvents: event } = (await live.results.next()).data as AuditEventData;
    expect(event).toMatchObject({ operation: 'suspendDomain', host: 'fixture', result: 'INVALID_STATE' });
    expect(JSON.parse(event.arguments)).toEqual({ host: 'fixture', domain: { name: 'web' } });
  });

  it('records a refused call under the caller’s identity', async () => {
    const res = await mutate('mutation { resumeDomain(input: { domain: { name: "web" } }) { state } }', viewer);
    expect(res.body.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    const { auditEvents: event } = (await live.results.next()).data as AuditEventData;
    expect(event).toMatchObject({
      identity: { name: 'viewer', kind: 'TOKEN' },
      operation: 'resumeDomain',
      result: 'FORBIDDEN',
    });
  });

  it('keeps an XML body as its digest and size only', async () => {
    const res = await mutate(`mutation { defineDomainFromXml(input: { xml: ${JSON.stringify(XML)} }) { name } }`);
    expect(res.body.data).toEqual({ defineDomainFromXml: { name: 'audited' } });
    const { auditEvents: event } = (await live.results.next()).data as AuditEventData;
    expect(event.operation).toBe('defineDomainFromXml');
    expect(event.arguments).not.toContain('<domain');
    expect(JSON.parse(event.arguments)).toEqual({
      xml: { sha256: createHash('sha256').update(XML).digest('hex'), bytes: Buffer.byteLength(XML) },
      autostart: false,
    });
  });

  it('writes one record per root field of a request, in order', async () => {
    const res = await mutate(`mutation {
      resumed: resumeDomain(input: { domain: { name: "web" } }) { state }
      missing: suspendDomain(input: { domain: { name: "no-such-domain" } }) { state }
    }`);
    // The second field is non-null, so its failure nulls the whole data; the first one ran all the same.
    expect(res.body.errors?.map((e) => e.extensions?.code)).toEqual(['NOT_FOUND']);
    const first = (await live.results.next()).data?.auditEvents;
    const second = (await live.results.next()).data?.auditEvents;
    expect([first?.operation, first?.result]).toEqual(['resumeDomain', 'ok']);
    expect([second?.operation, second?.result]).toEqual(['suspendDomain', 'NOT_FOUND']);
  });

  it('appended every record to the JSONL file and logged each with audit: true', async () => {
    const streamed = live.results.seen.map((r) => {
      const event = (r.data as AuditEventData).auditEvents;
      // The file keeps libvirt-style lower-case kinds; the API answers the IdentityKind enum.
      return {
        ...event,
        identity: { ...event.identity, kind: event.identity.kind.toLowerCase() },
        arguments: JSON.parse(event.arguments),
      };
    });
    expect(streamed.map((e) => e.operation)).toEqual([
      'suspendDomain',
      'suspendDomain',
      'resumeDomain',
      'defineDomainFromXml',
      'resumeDomain',
      'suspendDomain',
    ]);
    const lines = (await readFile(file, 'utf8')).trimEnd().split('\n');
    expect(lines.map((l) => JSON.parse(l))).toEqual(streamed);
    const audited = logged.filter((l) => l.audit === true);
    expect(audited.map((l) => [l.operation, l.result, (l.identity as { name: string }).name])).toEqual(
      streamed.map((e) => [e.operation, e.result, e.identity.name]),
    );
    expect(JSON.stringify(audited)).not.toContain('<domain');
  });

  it('streams only to identities with Sys.Audit', async () => {
    const other = wsConnect(url.replace(/^http/, 'ws'), viewer.bearer);
    const sub = subscribeWs(other.client, AUDIT_EVENTS);
    const first = await sub.results.next();
    expect(first.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    expect(JSON.stringify(first.errors)).toContain('Sys.Audit');
    sub.stop();
    await other.client.dispose();
  });
});
