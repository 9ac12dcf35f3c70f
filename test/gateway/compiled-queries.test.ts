import { buildSchema, parse } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runsCompiled } from '../../src/execution/use-compiled-queries.ts';
import { startGateway, type TestGateway } from '../support/gateway.ts';
import { fixtureUri } from '../support/test-host.ts';

const sdl = buildSchema(`
  input Ref @oneOf { name: String, uuid: String }
  type Query { find(ref: Ref!): String }
  type Mutation { change(ref: Ref!): String }
  type Subscription { watch: String }
`);
const args = (source: string, variableValues?: Record<string, unknown>, operationName?: string) => ({
  schema: sdl,
  document: parse(source),
  variableValues,
  operationName,
});

describe('which requests run compiled', () => {
  it('compiles queries only: mutations and subscriptions keep graphql-js’s executor', () => {
    expect(runsCompiled(args('{ find(ref: { name: "a" }) }'))).toBe(true);
    expect(runsCompiled(args('mutation { change(ref: { name: "a" }) }'))).toBe(false);
    expect(runsCompiled(args('subscription { watch }'))).toBe(false);
    expect(
      runsCompiled(args('query A { find(ref: { name: "a" }) } mutation B { change(ref: { name: "a" }) }', {}, 'B')),
    ).toBe(false);
    // Two operations and no name: graphql-js refuses it, so graphql-js runs it.
    expect(runsCompiled(args('query A { find(ref: { name: "a" }) } query B { find(ref: { name: "b" }) }'))).toBe(false);
  });

  it('leaves to graphql-js a query whose variables graphql-js refuses (graphql-jit knows no @oneOf)', () => {
    const q = 'query ($ref: Ref!) { find(ref: $ref) }';
    expect(runsCompiled(args(q, { ref: { name: 'a' } }))).toBe(true);
    expect(runsCompiled(args(q, { ref: { name: 'a', uuid: 'b' } }))).toBe(false);
    expect(runsCompiled(args(q, {}))).toBe(false);
  });
});

describe('compiled queries through the gateway', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startGateway({ fixture: fixtureUri });
  });
  afterAll(async () => {
    await gw?.close();
  });

  it('refuses a DomainRef with two members in variables, as graphql-js does, and runs a good one', async () => {
    const q = 'query ($ref: DomainRef!) { host { domain(ref: $ref) { name } } }';
    const bad = await gw.query(q, { ref: { name: 'web', uuid: '00000000-0000-0000-0000-000000000000' } });
    expect(bad.data).toBeUndefined();
    expect(bad.errors?.[0]?.message).toMatch(/exactly one key|DomainRef/);
    const good = await gw.ok<{ host: { domain: { name: string } } }>(q, { ref: { name: 'web' } });
    expect(good.host.domain.name).toBe('web');
  });

  it('keeps partial success: a failing field is null with its error at its path, its siblings answer', async () => {
    const res = await gw.query<{ host: { a: unknown; b: { name: string } } }>(
      '{ host { a: domain(ref: { name: "nope" }) { name } b: domain(ref: { name: "web" }) { name } } }',
    );
    expect(res.data?.host.a).toBeNull();
    expect(res.data?.host.b).toEqual({ name: 'web' });
    expect(res.errors).toHaveLength(1);
    expect(res.errors?.[0]).toMatchObject({ path: ['host', 'a'], extensions: { code: 'NOT_FOUND' } });
  });
});
