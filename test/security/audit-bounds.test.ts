import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { AuditLog, SUPPRESSED_OPERATION, UNAUTHENTICATED_OPERATION } from '../../src/audit/audit-log.ts';
import type { AuditRecord } from '../../src/audit/audit-record.ts';
import { MAX_ARGUMENT_BYTES, redactArguments } from '../../src/audit/redact-arguments.ts';
import { actedOnHost } from '../../src/audit/use-audit.ts';
import { apiToken } from '../auth/auth-clients.ts';
import { startGateway, type TestGateway } from '../support/gateway.ts';
import { fixtureUri } from '../support/test-host.ts';

const MB = 1024 * 1024;
const admin = apiToken('admin');
const viewer = apiToken('viewer');
let dir: string;
let file: string;
let gw: TestGateway;
let url: string;
let logBytes = 0;
const logLines: Array<Record<string, unknown>> = [];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'virtql-audit-bounds-'));
  file = join(dir, 'audit.jsonl');
  const logger = pino(
    { level: 'info' },
    {
      write: (line: string) => {
        logBytes += Buffer.byteLength(line);
        logLines.push(JSON.parse(line));
      },
    },
  );
  // Two hosts, the default one not the fixture: a record naming the default for a call on the fixture is wrong.
  gw = await startGateway({ other: 'test:///default', fixture: fixtureUri }, 'other', {
    logger,
    config: {
      auth: {
        tokens: [admin.entry, viewer.entry],
        grants: [
          { identity: 'admin', role: 'admin' },
          { identity: 'viewer', role: 'viewer' },
        ],
      },
      audit: { file },
      limits: { rateLimit: { requests: 0 } },
    },
  });
  url = (await gw.app.start()).replace('//localhost:', '//127.0.0.1:');
});

afterAll(async () => {
  await gw?.close();
  await rm(dir, { recursive: true, force: true });
});

async function post(query: string, variables: Record<string, unknown>, authorization?: string) {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(authorization ? { authorization } : {}) },
    body: JSON.stringify({ query, variables }),
  });
  return { status: res.status, body: (await res.json()) as { errors?: Array<{ extensions?: { code?: string } }> } };
}

async function records(): Promise<AuditRecord[]> {
  const text = await readFile(file, 'utf8').catch(() => '');
  return text
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as AuditRecord);
}

const fileSize = () =>
  stat(file).then(
    (s) => s.size,
    () => 0,
  );

describe('refused calls with 1 MB arguments', () => {
  const DESCRIBE =
    'mutation ($n: String!) { setDomainDescription(input: { host: "fixture", domain: { name: "web" }, description: $n }) { name } }';

  it('400 refused calls (100 INVALID_INPUT and 100 FORBIDDEN by a viewer, 200 unauthenticated) add little to the audit file and the log', async () => {
    const huge = 'x'.repeat(MB);
    const [fileBefore, logBefore] = [await fileSize(), logBytes];
    // Over the description's 4,096 characters: refused by validation, before the privilege check.
    for (let i = 0; i < 100; i++) {
      const res = await post(DESCRIBE, { n: `${huge}${i}` }, viewer.bearer);
      expect(res.body.errors?.[0]?.extensions?.code).toBe('INVALID_INPUT');
    }
    // Valid, but a viewer lacks VM.Config.
    for (let i = 0; i < 100; i++) {
      const res = await post(DESCRIBE, { n: `${'d'.repeat(4000)}${i}` }, viewer.bearer);
      expect(res.body.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    }
    for (let i = 0; i < 200; i++) {
      const res = await post(DESCRIBE, { n: `${huge}${i}` });
      expect(res.status).toBe(401);
    }
    const [fileGrowth, logGrowth] = [(await fileSize()) - fileBefore, logBytes - logBefore];
    console.info(
      `400 refused calls (300 with 1 MB arguments): audit file +${fileGrowth} bytes, log +${logGrowth} bytes`,
    );
    // 400 MB were sent. At most 60 records per identity and per address each minute, each under 1 KB.
    expect(fileGrowth).toBeLessThan(32 * 1024);
    expect(logGrowth).toBeLessThan(192 * 1024);
    expect(logLines.every((l) => JSON.stringify(l).length < 16 * 1024)).toBe(true);

    // The summaries are written when their window ends, or when the log closes (here; it reopens its file for what follows).
    await gw.app.audit.close();
    const written = await records();
    const refused = written.filter((r) => r.operation === 'setDomainDescription');
    expect(refused.length).toBe(60);
    expect(refused[0]).toMatchObject({
      identity: { name: 'viewer', kind: 'token' },
      host: 'fixture',
      result: 'INVALID_INPUT',
      arguments: { domain: { name: 'web' }, description: { bytes: MB + 1 } },
    });
    const unauthenticated = written.filter((r) => r.operation === UNAUTHENTICATED_OPERATION);
    // The same address made both series: the viewer's 60 used up most of its window.
    expect(written.filter((r) => r.operation !== SUPPRESSED_OPERATION).length).toBeLessThanOrEqual(120);
    const summaries = written.filter((r) => r.operation === SUPPRESSED_OPERATION);
    expect(summaries.length).toBeGreaterThan(0);
    const suppressed = summaries.reduce((n, r) => n + Number((r.arguments as { suppressed: number }).suppressed), 0);
    expect(suppressed).toBeGreaterThanOrEqual(400 - 120);
    expect(summaries.some((r) => r.result.endsWith('more suppressed'))).toBe(true);
    if (unauthenticated[0]) expect(unauthenticated[0]).toMatchObject({ result: 'UNAUTHENTICATED', arguments: {} });
  });
});

describe('unauthenticated attempts, on an address of their own', () => {
  it('a POST without credentials is recorded', async () => {
    const g = await startGateway({ fixture: fixtureUri }, 'fixture', {
      config: { auth: { tokens: [admin.entry] }, audit: { file: join(dir, 'unauth.jsonl') } },
    });
    const res = await g.app.yoga.fetch('http://localhost/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: 'mutation { suspendDomain(input: { domain: { name: "web" } }) { state } }' }),
    });
    expect(res.status).toBe(401);
    await g.close();
    const lines = (await readFile(join(dir, 'unauth.jsonl'), 'utf8')).trim().split('\n');
    expect(lines.map((l) => JSON.parse(l))).toMatchObject([
      { operation: UNAUTHENTICATED_OPERATION, result: 'UNAUTHENTICATED', identity: { kind: 'anonymous' } },
    ]);
  });
});

describe('unauthenticated WebSockets', () => {
  it('a graphql-ws connection refused for its credentials (4401) is recorded with its address', async () => {
    const auditFile = join(dir, 'unauth-ws.jsonl');
    const g = await startGateway({ fixture: fixtureUri }, 'fixture', {
      config: { auth: { tokens: [admin.entry] }, audit: { file: auditFile } },
    });
    try {
      const wsUrl = (await g.app.start()).replace('//localhost:', '//127.0.0.1:').replace(/^http/, 'ws');
      const socket = new WebSocket(wsUrl, 'graphql-transport-ws');
      const closed = new Promise<number>((resolve) => socket.once('close', (code) => resolve(code)));
      socket.once('open', () =>
        socket.send(JSON.stringify({ type: 'connection_init', payload: { authorization: 'Bearer vq_forged' } })),
      );
      expect(await closed).toBe(4401);
    } finally {
      await g.close();
    }
    const lines = (await readFile(auditFile, 'utf8')).trim().split('\n');
    expect(lines.map((l) => JSON.parse(l))).toMatchObject([
      {
        operation: UNAUTHENTICATED_OPERATION,
        identity: { kind: 'anonymous' },
        source: expect.stringContaining('127.0.0.1'),
      },
    ]);
  });
});

describe('the host recorded is the one acted on', () => {
  it('a DomainRef by global ID records its host, not the default one', async () => {
    const found = await post('{ domain(host: "fixture", ref: { name: "web" }) { id } }', {}, admin.bearer);
    const { id } = (found.body as { data: { domain: { id: string } } }).data.domain;
    const suspend = await post(
      'mutation ($id: ID!) { suspendDomain(input: { domain: { id: $id } }) { state } }',
      { id },
      admin.bearer,
    );
    expect(suspend.body.errors).toBeUndefined();
    await post('mutation ($id: ID!) { resumeDomain(input: { domain: { id: $id } }) { state } }', { id }, admin.bearer);
    const mine = (await records()).filter((r) => r.identity.name === 'admin');
    expect(mine.map((r) => [r.operation, r.host, r.result])).toEqual([
      ['suspendDomain', 'fixture', 'ok'],
      ['resumeDomain', 'fixture', 'ok'],
    ]);
  });

  it('cancelOperation records its operation’s host', async () => {
    const context = {
      hosts: { defaultName: 'kvm1' } as never,
      operations: { get: async (op: string) => (op === 'op-1' ? { host: 'kvm2' } : undefined) },
    };
    expect(await actedOnHost({ id: 'op-1' }, context)).toBe('kvm2');
    expect(await actedOnHost({ id: 'op-unknown' }, context)).toBe('kvm1');
    expect(await actedOnHost({ host: 'kvm3', id: 'op-1' }, context)).toBe('kvm3');
  });
});

describe('arguments', () => {
  it(`anything over ${MAX_ARGUMENT_BYTES} bytes is kept as { sha256, bytes }; small values as they are`, () => {
    const names = Array.from({ length: 100 }, (_, i) => `volume-name-${i}`);
    const redacted = redactArguments({
      name: 'web',
      long: 'y'.repeat(2048),
      multibyte: 'é'.repeat(600),
      names,
      few: names.slice(0, 3),
      domain: { name: 'z'.repeat(5000) },
    });
    expect(redacted).toMatchObject({
      name: 'web',
      long: { bytes: 2048 },
      multibyte: { bytes: 1200 },
      names: { bytes: JSON.stringify(names).length },
      few: names.slice(0, 3),
      domain: { name: { bytes: 5000 } },
    });
    expect(JSON.stringify(redacted).length).toBeLessThan(1024);
  });
});

describe('rotation', () => {
  it('keeps at most keep + 1 files, each within maxBytes, the newest records last', async () => {
    const rotated = join(dir, 'rotated.jsonl');
    const maxBytes = 4096;
    const keep = 2;
    const log = new AuditLog({ file: rotated, maxBytes, keep, logger: pino({ level: 'silent' }) });
    const record = (i: number): AuditRecord => ({
      time: new Date().toISOString(),
      identity: { name: 'admin', kind: 'token' },
      source: '127.0.0.1',
      host: 'fixture',
      operation: 'suspendDomain',
      arguments: { domain: { name: `vm-${i}` } },
      result: 'ok',
      durationMs: 1,
    });
    for (let i = 0; i < 300; i++) await log.write(record(i));
    await log.close();
    const files = (await readdir(dir)).filter((f) => f.startsWith('rotated.jsonl')).sort();
    expect(files).toEqual(['rotated.jsonl', 'rotated.jsonl.1', 'rotated.jsonl.2']);
    const sizes = await Promise.all(files.map((f) => stat(join(dir, f)).then((s) => s.size)));
    console.info(`rotation: ${files.map((f, i) => `${f} ${sizes[i]} bytes`).join(', ')}`);
    for (const size of sizes) expect(size).toBeLessThanOrEqual(maxBytes);
    const kept = (
      await Promise.all([files[2], files[1], files[0]].map((f) => readFile(join(dir, f as string), 'utf8')))
    )
      .join('')
      .trim()
      .split('\n')
      .map((l) => (JSON.parse(l) as AuditRecord).arguments as { domain: { name: string } });
    const numbers = kept.map((a) => Number(a.domain.name.slice(3)));
    expect(numbers.at(-1)).toBe(299);
    expect(numbers).toEqual(numbers.map((_, i) => (numbers[0] as number) + i));
  });
});
