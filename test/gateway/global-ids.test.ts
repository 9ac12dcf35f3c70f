import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGateway, type TestGateway } from '../support/gateway.ts';
import { fixtureUri } from '../support/test-host.ts';

const lines: Array<{ level: number; msg: string }> = [];
const logger = pino({ level: 'debug' }, { write: (line: string) => void lines.push(JSON.parse(line)) });
const base64 = (s: string) => Buffer.from(s).toString('base64');

describe('bad global IDs (test driver)', () => {
  let gw: TestGateway;
  let web: string;
  let unknown: string;

  beforeAll(async () => {
    gw = await startGateway({ default: fixtureUri }, 'default', { logger });
    const res = await gw.query<{ domain: { id: string } }>('{ domain(ref: { name: "web" }) { id } }');
    web = res.data?.domain.id as string;
    // The same host and kind with a UUID no domain has: well formed, found nowhere.
    unknown = base64(
      Buffer.from(web, 'base64')
        .toString()
        .replace(/[0-9a-f]{8}-/, '00000000-'),
    );
  });
  afterAll(() => gw?.close());

  it.each([
    ['not base64 of Type:key', 'garbage'],
    ['base64 without a type', base64('nope')],
    ['a type that is no node', base64('Query:x')],
    ['a type the schema lacks', base64('Planet:default\u001fmars')],
  ])('node(id:) with %s is INVALID_INPUT naming id, and no error is logged', async (_label, id) => {
    lines.length = 0;
    const res = await gw.query(`{ node(id: ${JSON.stringify(id)}) { id } }`);
    expect(res.data).toEqual({ node: null });
    expect(res.errors?.map((e) => e.extensions)).toEqual([
      { code: 'INVALID_INPUT', field: 'id', reason: `Invalid global ID: ${id}` },
    ]);
    expect(lines.filter((l) => l.level >= 50)).toEqual([]);
  });

  it('node(id:) with a well-formed ID of nothing is null with NOT_FOUND', async () => {
    const res = await gw.query(`{ node(id: "${unknown}") { id } }`);
    expect(res.data).toEqual({ node: null });
    expect(res.errors?.map((e) => e.extensions?.code)).toEqual(['NOT_FOUND']);
  });

  it('nodes(ids:) resolves every good ID; a malformed or unknown one is an error for its slot only', async () => {
    const res = await gw.query<{ nodes: Array<{ id: string; name?: string } | null> }>(
      `{ nodes(ids: ["garbage", "${web}", "${unknown}", "${web}"]) { id ... on Domain { name } } }`,
    );
    expect(res.data?.nodes).toEqual([null, { id: web, name: 'web' }, null, { id: web, name: 'web' }]);
    expect(res.errors?.map((e) => [e.path, e.extensions?.code, e.extensions?.field])).toEqual([
      [['nodes', 0], 'INVALID_INPUT', 'ids.0'],
      [['nodes', 2], 'NOT_FOUND', undefined],
    ]);
  });
});
