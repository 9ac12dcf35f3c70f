import { readFileSync } from 'node:fs';
import {
  type GraphQLInputType,
  getNamedType,
  isEnumType,
  isInputObjectType,
  isListType,
  isNonNullType,
  isScalarType,
} from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Connection } from '../../src/libvirt/index.ts';
import { schema } from '../../src/schema/index.ts';
import { type GraphQLResponse, startGateway, type TestGateway } from '../support/gateway.ts';
import { type HostSnapshot, snapshotHost } from '../support/host-snapshot.ts';
import {
  type ArgumentField,
  argumentValues,
  fieldsWithArguments,
  literalOf,
  operationFor,
  sampleValue,
  stringPaths,
  valueWith,
} from '../support/schema-arguments.ts';
import { fixtureUri } from '../support/test-host.ts';

const REQUESTS = 5_000;
const CONCURRENCY = 16;
const SEED = Number(process.env.FUZZ_SEED ?? 0x5eed_2026) >>> 0;

/** mulberry32: small, fast and the same sequence for the same seed on every platform. */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The codes README.md documents for extensions.code (its "Failures are GraphQL errors" item). */
function documentedCodes(): Set<string> {
  const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
  const item = /^- Failures are GraphQL errors[\s\S]*?(?=\n- |\n\n)/m.exec(readme)?.[0] ?? '';
  const graphqlJs = [
    'GRAPHQL_PARSE_FAILED',
    'GRAPHQL_VALIDATION_FAILED',
    'BAD_USER_INPUT',
    'OPERATION_RESOLUTION_FAILURE',
  ];
  return new Set(
    [...item.matchAll(/`([A-Z][A-Z_]+)`/g)].map((m) => m[1] as string).filter((c) => !graphqlJs.includes(c)),
  );
}

/** The members of the ErrorCode union in src/schema/core/errors.ts. */
function errorCodeUnion(): string[] {
  const source = readFileSync(new URL('../../src/schema/core/errors.ts', import.meta.url), 'utf8');
  const union = /export type ErrorCode =([^;]+);/.exec(source)?.[1] ?? '';
  return [...union.matchAll(/'([A-Z_]+)'/g)].map((m) => m[1] as string);
}

type Mutation = (type: GraphQLInputType, sample: unknown, name: string) => unknown;

interface Gen {
  next: () => number;
  pick: <T>(items: readonly T[]) => T;
  int: (max: number) => number;
}

function generator(seed: number): Gen {
  const next = random(seed);
  return {
    next,
    pick: (items) => items[Math.floor(next() * items.length)] as (typeof items)[number],
    int: (max) => Math.floor(next() * max),
  };
}

/**
 * Integer arguments whose valid range takes in values the generic pool below counts as invalid
 * (0, 4097...): for these the pool is the values just outside the range.
 */
const INT_RANGES: Record<string, [min: number, max: number]> = { holdTimeMs: [1, 60_000] };

/** An invalid value for a type: each generator yields a value no field may accept. */
function invalidValue(g: Gen, type: GraphQLInputType, name: string): unknown {
  const named = getNamedType(type);
  const sample = sampleValue(type);
  const wrongType = () => {
    if (isInputObjectType(named)) return g.pick(['web', 7, true]);
    if (isEnumType(named)) return g.pick([5, true, { v: 1 }]);
    if (named.name === 'Int') return g.pick(['1', 1.5, true, { n: 1 }, [1, 2]]);
    if (named.name === 'BigInt') return g.pick([1.5, true, 'lots', '12e3', { n: 1 }]);
    if (named.name === 'Boolean') return g.pick(['yes', 1, 0, { b: true }]);
    return g.pick([true, 1.5, { s: 'web' }, [[1]]]);
  };
  const mutations: Mutation[] = [wrongType];
  if (named.name === 'Int') {
    const range = INT_RANGES[name];
    mutations.push(() =>
      range
        ? g.pick([range[0] - 1, range[1] + 1, -(2 ** 31) - 1, 2 ** 31])
        : g.pick([2 ** 31, -(2 ** 31) - 1, -1, 0, 4097, 1e9, -7]),
    );
  }
  if (named.name === 'BigInt') mutations.push(() => g.pick(['-1', '0', '99999999999999999999999', '1', '3']));
  if (named.name === 'String' || named.name === 'ID') {
    mutations.push(
      () => `${String(sample)}\u0000${g.pick(['../x', '', 'x'])}`,
      () => String(sample).repeat(1 + g.int(3)) + 'é'.repeat(5_000 + g.int(25_000)),
    );
  }
  if (named.name === 'ID') {
    mutations.push(() =>
      g.pick([
        'bm9wZQ==',
        '',
        '%%%',
        Buffer.from('Domain:').toString('base64'),
        Buffer.from('Domain:default:not-a-uuid').toString('base64'),
        Buffer.from(`Volume:${'x'.repeat(3000)}`).toString('base64'),
        Buffer.from('Nope:a:b').toString('base64'),
      ]),
    );
  }
  if (name === 'xml') {
    mutations.push(() =>
      g.pick([
        '<domain>',
        '<a><b></a>',
        'not xml at all',
        '<domain><name>fz</name>',
        '<!DOCTYPE d [<!ENTITY e "eeeeeeeeee">]><domain><name>&e;</name></domain>',
        `${'<a>'.repeat(20_000)}${'</a>'.repeat(19_999)}`,
        '<?xml version="1.0"?><domain type="test"><name>fz\u0001</name></domain>',
        '<x:disk xmlns:x="urn:x"/>',
      ]),
    );
  }
  if (isEnumType(named)) {
    mutations.push(() => {
      const real = named.getValues()[g.int(named.getValues().length)]?.name ?? 'X';
      return g.pick([real.toLowerCase(), `${real}_NOT`, '', 'NOT_A_VALUE']);
    });
  }
  if (isInputObjectType(named)) {
    const fields = Object.values(named.getFields());
    mutations.push(() => ({ ...(sample as object), bogusField: g.pick([1, 'x', null]) }));
    const required = fields.filter((f) => isNonNullType(f.type));
    if (required.length > 0) {
      mutations.push(() => {
        const drop = g.pick(required).name;
        return Object.fromEntries(Object.entries(sample as object).filter(([k]) => k !== drop));
      });
    }
    if (named.isOneOf && fields.length > 1) {
      mutations.push(() => Object.fromEntries(fields.slice(0, 2).map((f) => [f.name, sampleValue(f.type)])));
      mutations.push(() => ({}));
    }
    // One field of the input object made invalid, the others left well formed.
    mutations.push(() => {
      const field = named.isOneOf ? fields[0] : g.pick(fields);
      if (!field) return {};
      const base = named.isOneOf ? {} : (sample as object);
      return { ...base, [field.name]: invalidValue(g, field.type, field.name) };
    });
  }
  if (isListType(isNonNullType(type) ? type.ofType : type)) {
    mutations.push(() => [invalidValue(g, (isNonNullType(type) ? type.ofType : type) as never, name)]);
  }
  if (isNonNullType(type)) mutations.push(() => null);
  return g.pick(mutations)(type, sample, name);
}

interface Request {
  target: ArgumentField;
  query: string;
  variables: Record<string, unknown>;
}

/** Subscriptions get only what graphql-js itself refuses (types, NUL, unknown arguments), so no stream opens. */
function requestFor(g: Gen, targets: ArgumentField[]): Request {
  const target = g.pick(targets);
  const { field } = target;
  const args = argumentValues(field, {}) as Record<string, unknown>;
  const inline = g.next() < 0.3;
  const subscription = target.operation === 'subscription';
  const roll = g.next();
  if (roll < 0.08) {
    const unknown = `bogus${g.int(3)}`;
    return { target, ...operationFor(target, { ...args, [unknown]: g.pick([1, 'x', true]) }, inline) };
  }
  if (roll < 0.14 && !subscription) {
    // Required means no default: dropping `paused: Boolean! = false` leaves a valid request.
    const required = field.args.filter((a) => isNonNullType(a.type) && a.defaultValue === undefined);
    if (required.length > 0) {
      const drop = g.pick(required).name;
      const rest = Object.fromEntries(Object.entries(args).filter(([k]) => k !== drop));
      return { target, ...operationFor(target, rest, inline) };
    }
  }
  const count = 1 + (g.next() < 0.25 ? 1 : 0);
  for (let i = 0; i < count; i++) {
    const arg = g.pick(field.args);
    let value = invalidValue(g, arg.type, arg.name);
    // A subscription with a value its type allows would open a stream: keep only type errors and NUL.
    if (subscription && !isRefusedBeforeResolving(arg.type, value)) value = `web\u0000${g.int(9)}`;
    args[arg.name] = value;
  }
  if (inline && Object.values(args).some((v) => typeof v === 'string' && v.length > 100_000)) {
    return { target, ...operationFor(target, args, false) };
  }
  return { target, ...operationFor(target, args, inline) };
}

/** Whether graphql-js refuses a value for the type before any resolver runs (a scalar or enum of the wrong type). */
function isRefusedBeforeResolving(type: GraphQLInputType, value: unknown): boolean {
  const inner = isNonNullType(type) ? type.ofType : type;
  if (value === null) return isNonNullType(type);
  if (isListType(inner)) return Array.isArray(value) && value.some((v) => isRefusedBeforeResolving(inner.ofType, v));
  if (isEnumType(inner)) return typeof value !== 'string' || !inner.getValue(value);
  if (isScalarType(inner)) {
    if (inner.name === 'String' || inner.name === 'ID') return typeof value === 'string' ? value.includes('\0') : true;
    if (inner.name === 'Float') return typeof value !== 'number' || !Number.isFinite(value);
    return typeof value !== (inner.name === 'Boolean' ? 'boolean' : 'number') || !Number.isInteger(value);
  }
  return false;
}

describe(`fuzzing every field that takes arguments (seed ${SEED}; FUZZ_SEED=${SEED} repeats this run)`, () => {
  let gw: TestGateway;
  let host: Connection;
  let before: HostSnapshot;
  const targets = fieldsWithArguments(schema);

  beforeAll(async () => {
    console.info(`fuzz seed ${SEED}: rerun with FUZZ_SEED=${SEED}`);
    gw = await startGateway({ default: fixtureUri }, undefined, { config: { limits: { rateLimit: { requests: 0 } } } });
    host = await gw.registry.connection('default');
    before = await snapshotHost(host);
  });
  afterAll(() => gw?.close());

  it('is reproducible: the same seed gives the same requests', () => {
    const a = generator(SEED);
    const b = generator(SEED);
    for (let i = 0; i < 200; i++) expect(requestFor(a, targets).query).toBe(requestFor(b, targets).query);
    expect(literalOf({ a: 'x' })).toBe('{ a: "x" }');
  });

  it(`${REQUESTS} invalid requests: each error has a documented code, none INTERNAL, and the host is unchanged`, async () => {
    const documented = documentedCodes();
    // Every code the gateway can raise is documented, and only the masked INTERNAL beside them.
    expect([...documented].sort()).toEqual([...errorCodeUnion(), 'INTERNAL'].sort());
    const g = generator(SEED);
    const requests = Array.from({ length: REQUESTS }, () => requestFor(g, targets));
    expect(new Set(requests.map((r) => r.target.name)).size).toBe(targets.length);

    const codes = new Map<string, number>();
    const problems: string[] = [];
    const check = (r: Request, res: GraphQLResponse) => {
      if (r.target.operation === 'mutation' && !res.errors?.length) problems.push(`accepted: ${r.query.slice(0, 300)}`);
      for (const e of res.errors ?? []) {
        const code = String(e.extensions?.code);
        codes.set(code, (codes.get(code) ?? 0) + 1);
        if (!documented.has(code) || code === 'INTERNAL') {
          problems.push(`${code}: ${e.message.slice(0, 200)} ← ${r.query.slice(0, 300)}`);
        }
        if (Buffer.byteLength(e.message) > 2048)
          problems.push(`long message (${e.message.length}) ← ${r.query.slice(0, 200)}`);
      }
    };
    for (let i = 0; i < requests.length; i += CONCURRENCY) {
      const batch = requests.slice(i, i + CONCURRENCY);
      const responses = await Promise.all(batch.map((r) => gw.query(r.query, r.variables)));
      batch.forEach((r, j) => {
        check(r, responses[j] as GraphQLResponse);
      });
    }
    console.info(`fuzz seed ${SEED}: codes ${JSON.stringify(Object.fromEntries(codes))}`);
    expect(problems.slice(0, 20)).toEqual([]);
    expect(await snapshotHost(host)).toEqual(before);
  }, 60_000);

  it('every field: an argument 5,000 levels deep, and a NUL in a variable’s default value, are INVALID_INPUT before anything runs', async () => {
    const documented = documentedCodes();
    const problems: string[] = [];
    const expectRefused = (what: string, res: GraphQLResponse) => {
      const codes = (res.errors ?? []).map((e) => String(e.extensions?.code));
      if (!codes.includes('INVALID_INPUT') || codes.some((c) => c === 'INTERNAL' || !documented.has(c))) {
        problems.push(`${what}: ${JSON.stringify(res).slice(0, 300)}`);
      }
    };
    const post = async (body: string): Promise<GraphQLResponse> => {
      const res = await gw.app.yoga.fetch('http://localhost/graphql', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body,
      });
      return (await res.json()) as GraphQLResponse;
    };
    let nulDefaults = 0;
    for (const target of targets) {
      const args = argumentValues(target.field, {}) as Record<string, unknown>;
      const [first] = target.field.args;
      if (!first) continue;
      const { query, variables } = operationFor(target, { [first.name]: null, ...args }, false);
      // Written by hand: JSON.stringify of a value 5,000 levels deep overflows the test's own stack.
      const deep = `${'{"x":'.repeat(5_000)}1${'}'.repeat(5_000)}`;
      const others = JSON.stringify({ ...variables, a0: undefined }).slice(1, -1);
      expectRefused(
        `${target.name} deep`,
        await post(`{"query":${JSON.stringify(query)},"variables":{"a0":${deep}${others ? `,${others}` : ''}}}`),
      );
      // The first argument with a string inside, given as the default of its variable and not sent.
      const arg = target.field.args.find((a) => stringPaths(a.type).length > 0);
      if (!arg) continue;
      const [path] = stringPaths(arg.type) as [string[]];
      const withNul = valueWith(arg.type, path, 'web\u0000x');
      const call = operationFor(target, { ...args, [arg.name]: withNul }, false);
      const index = Object.keys({ ...args, [arg.name]: withNul }).indexOf(arg.name);
      const definition = `$a${index}: ${String(arg.type)}`;
      const withDefault = call.query.replace(definition, `${definition} = ${literalOf(withNul, arg.type)}`);
      const { [`a${index}`]: _sent, ...rest } = call.variables;
      expectRefused(`${target.name} default`, await gw.query(withDefault, rest));
      nulDefaults++;
    }
    expect(nulDefaults).toBeGreaterThan(targets.length / 2);
    expect(problems.slice(0, 20)).toEqual([]);
    expect(await snapshotHost(host)).toEqual(before);
  }, 60_000);
});
