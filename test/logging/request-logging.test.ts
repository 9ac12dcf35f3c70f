import { GraphQLError } from 'graphql';
import pino from 'pino';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ErrorDomain, ErrorNumber, LibvirtError } from '../../src/libvirt/index.ts';
import { createRequestLogging } from '../../src/logging/use-request-logging.ts';
import { clientErrorCode } from '../../src/schema/core/errors.ts';
import { wsConnect, wsQuery } from '../auth/auth-clients.ts';
import { startGateway, type TestGateway } from '../support/gateway.ts';

type Line = Record<string, unknown>;

let gw: TestGateway;
let lines: Line[] = [];
const logger = pino({ level: 'debug' }, { write: (line: string) => void lines.push(JSON.parse(line) as Line) });

async function post(query: string, headers: Record<string, string> = {}) {
  const res = await gw.app.yoga.fetch('http://localhost/graphql', {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ query }),
  });
  const body = (await res.json()) as { errors?: Array<{ extensions?: { code?: string } }> };
  return { id: res.headers.get('x-request-id'), body };
}

const accessLines = (requestId: string | null) =>
  lines.filter((l) => l.msg === 'operation' && l.requestId === requestId);

beforeAll(async () => {
  gw = await startGateway({ default: 'test:///default' }, 'default', { logger });
});
afterAll(() => gw?.close());
beforeEach(() => {
  lines = [];
});

describe('request ids', () => {
  it('returns the caller’s x-request-id and logs the operation under it', async () => {
    const { id } = await post('query Inventory { hosts { name domains { name } } }', { 'x-request-id': 'req-42.a_b' });
    expect(id).toBe('req-42.a_b');
    const [access, ...more] = accessLines('req-42.a_b');
    expect(more).toEqual([]);
    expect(access).toMatchObject({
      level: 30,
      operationName: 'Inventory',
      operationType: 'query',
      codes: [],
      identity: 'anonymous',
    });
    expect(access?.durationMs).toBeTypeOf('number');
  });

  it.each([
    ['too long', 'a'.repeat(129)],
    ['with spaces', 'one two'],
    ['with a newline', 'x\nlevel=60'],
    ['empty', ''],
  ])('replaces an id %s with a generated one', async (_label, sent) => {
    const { id } = await post('{ hosts { name } }', { 'x-request-id': sent.replace('\n', '%0A') });
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
    expect(accessLines(id)).toHaveLength(1);
    expect(lines.some((l) => l.requestId !== undefined && l.requestId !== id)).toBe(false);
  });

  it('generates a different id for each request without one', async () => {
    const first = await post('{ hosts { name } }');
    const second = await post('{ hosts { name } }');
    expect(first.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(second.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(first.id).not.toBe(second.id);
  });

  it('puts the id on yoga’s own lines and on the audit line, not under a key "0"', async () => {
    const { id } = await post('mutation Stop { suspendDomain(input: { domain: { name: "test" } }) { state } }', {
      'x-request-id': 'audit-me',
    });
    expect(id).toBe('audit-me');
    const yogaLines = lines.filter((l) => l.component === 'graphql');
    expect(yogaLines.length).toBeGreaterThan(0);
    for (const line of yogaLines) {
      expect(line.requestId).toBe('audit-me');
      expect(line.msg).toBeTypeOf('string');
      expect(line).not.toHaveProperty('0');
    }
    const audit = lines.find((l) => l.audit === true);
    expect(audit).toMatchObject({ requestId: 'audit-me', operation: 'suspendDomain', result: 'ok' });
    expect(accessLines('audit-me')).toMatchObject([{ operationName: 'Stop', operationType: 'mutation', codes: [] }]);
    await post('mutation { resumeDomain(input: { domain: { name: "test" } }) { state } }');
  });
});

describe('the access line', () => {
  it('names the codes of the errors the client got', async () => {
    const { id, body } = await post('query Missing { domain(ref: { name: "nope" }) { name } }');
    const codes = body.errors?.map((e) => e.extensions?.code);
    expect(codes).toEqual(['NOT_FOUND']);
    expect(accessLines(id)).toMatchObject([{ operationName: 'Missing', operationType: 'query', codes: ['NOT_FOUND'] }]);
  });

  it('logs an operation refused at validation, with the code the client got', async () => {
    const { id, body } = await post('query Bad { noSuchField }');
    const code = body.errors?.[0]?.extensions?.code;
    expect(code).toBeTypeOf('string');
    expect(accessLines(id)).toMatchObject([{ operationName: 'Bad', operationType: 'query', codes: [code] }]);
  });

  it('logs a syntax error as an operation without a type', async () => {
    const { id, body } = await post('{ hosts {');
    const code = body.errors?.[0]?.extensions?.code;
    expect(accessLines(id)).toMatchObject([{ operationName: null, operationType: null, codes: [code] }]);
  });
});

describe('over graphql-ws', () => {
  it('gives each operation an id of its own and logs its access line', async () => {
    const url = await gw.app.start();
    const { client } = wsConnect(url.replace(/^http/, 'ws'));
    try {
      await wsQuery(client, 'query First { hosts { name } }');
      await wsQuery(client, 'query Second { hosts { name } }');
    } finally {
      await client.dispose();
    }
    const access = lines.filter((l) => l.msg === 'operation');
    expect(access).toMatchObject([
      { operationName: 'First', operationType: 'query', codes: [], identity: 'anonymous' },
      { operationName: 'Second', operationType: 'query', codes: [], identity: 'anonymous' },
    ]);
    expect(access[0]?.requestId).toMatch(/^[0-9a-f-]{36}$/);
    expect(access[1]?.requestId).toMatch(/^[0-9a-f-]{36}$/);
    expect(access[0]?.requestId).not.toBe(access[1]?.requestId);
  });
});

describe('what yoga logs of the errors it masks', () => {
  const logged: Line[] = [];
  const logging = createRequestLogging({
    logger: pino({ level: 'info' }, { write: (line: string) => void logged.push(JSON.parse(line) as Line) }),
    codeOf: clientErrorCode,
    identityOf: () => undefined,
  });
  const located = (original: Error) => new GraphQLError(original.message, { originalError: original, path: ['x'] });

  it('an expected client error (a name taken, a format the host lacks) is one info line with its code, no stack', () => {
    logged.length = 0;
    const taken = new LibvirtError(
      "operation failed: domain 'web' already exists with uuid 1234",
      ErrorNumber.OPERATION_FAILED,
      ErrorDomain.DOMAIN,
      2,
    );
    const format = new LibvirtError(
      'unknown volume format type nosuchfmt',
      ErrorNumber.CONFIG_UNSUPPORTED,
      ErrorDomain.STORAGE,
      2,
    );
    logging.yogaLogger.error(located(taken));
    logging.yogaLogger.error(located(format));
    expect(logged.map((l) => [l.level, l.code, 'err' in l, 'stack' in l])).toEqual([
      [30, 'INVALID_INPUT', false, false],
      [30, 'UNSUPPORTED', false, false],
    ]);
  });

  it('an unexpected one stays at error with its stack, its message bounded', () => {
    logged.length = 0;
    logging.yogaLogger.error(located(new TypeError(`cannot read ${'x'.repeat(1_000_000)}`)));
    const [line] = logged;
    expect(line?.level).toBe(50);
    expect((line?.err as { stack?: string } | undefined)?.stack).toContain('TypeError');
    expect(JSON.stringify(line).length).toBeLessThan(1_100_000);
    expect(String(line?.msg).length).toBeLessThan(2_200);
  });
});
