import { GraphQLError } from 'graphql';
import { createClient } from 'graphql-ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { HostRegistryClosedError, HostTimeoutError } from '../../src/hosts/errors.ts';
import { ErrorDomain, ErrorNumber, type ErrorNumberName, LibvirtError } from '../../src/libvirt/index.ts';
import { codeOf, MAX_ERROR_BYTES, maskError } from '../../src/schema/core/errors.ts';
import { type GraphQLResponse, startGateway, type TestGateway } from '../support/gateway.ts';
import { deferred, fixtureUri } from '../support/test-host.ts';

type Errors = NonNullable<GraphQLResponse['errors']>;
interface Change {
  previousState: string;
  state: string;
}

const SUSPEND = 'mutation { suspendDomain(input: { domain: { name: "web" } }) { previousState state } }';
const RESUME = 'mutation { resumeDomain(input: { domain: { name: "web" } }) { previousState state } }';
const DEFINE = 'mutation { defineDomain(input: { domain: { name: "race-vm" } }) { name } }';

describe('the same condition gets the same code, racing or not (test driver)', () => {
  let gw: TestGateway;
  const seen: Errors = [];

  async function send(query: string, variables?: Record<string, unknown>): Promise<GraphQLResponse> {
    const res = await gw.query(query, variables);
    seen.push(...(res.errors ?? []));
    return res;
  }

  async function codeOf1(query: string): Promise<unknown> {
    const res = await send(query);
    expect(res.errors).toHaveLength(1);
    return res.errors?.[0]?.extensions?.code;
  }

  beforeAll(async () => {
    gw = await startGateway({ default: fixtureUri });
  });
  afterAll(() => gw?.close());

  it('50 concurrent suspends and 50 resumes: errors have their twin’s code, and no change reports RUNNING→RUNNING', async () => {
    // The non-racy twins: suspending a paused domain, resuming a running one.
    expect((await send(SUSPEND)).errors).toBeUndefined();
    const pausedTwin = await codeOf1(SUSPEND);
    expect((await send(RESUME)).errors).toBeUndefined();
    const runningTwin = await codeOf1(RESUME);
    expect(pausedTwin).toBe('INVALID_STATE');
    expect(runningTwin).toBe('INVALID_STATE');

    const runs = await Promise.all(
      Array.from({ length: 100 }, (_, i) => (i % 2 === 0 ? SUSPEND : RESUME)).map(async (query) => ({
        query,
        res: await send(query),
      })),
    );
    let changes = 0;
    for (const { query, res } of runs) {
      const change = Object.values(res.data ?? {})[0] as Change | null | undefined;
      if (res.errors) {
        expect(res.errors.map((e) => e.extensions?.code)).toEqual([query === SUSPEND ? pausedTwin : runningTwin]);
        continue;
      }
      changes++;
      expect(change).toEqual(
        query === SUSPEND
          ? { previousState: 'RUNNING', state: 'PAUSED' }
          : { previousState: 'PAUSED', state: 'RUNNING' },
      );
    }
    expect(changes).toBeGreaterThan(0);
  });

  it('20 concurrent defines of one name: one wins, every other gets the twin’s INVALID_INPUT', async () => {
    const twin = await codeOf1('mutation { defineDomain(input: { domain: { name: "web" } }) { name } }');
    expect(twin).toBe('INVALID_INPUT');
    const results = await Promise.all(Array.from({ length: 20 }, () => send(DEFINE)));
    expect(results.filter((r) => !r.errors)).toHaveLength(1);
    for (const r of results.filter((r) => r.errors)) {
      expect(r.errors?.map((e) => e.extensions?.code)).toEqual([twin]);
    }
    const domains = await (await gw.registry.connection('default')).domains();
    expect(domains.filter((d) => d.name === 'race-vm')).toHaveLength(1);
  });

  it.each([
    ['a malformed global ID', '{ node(id: "bm9wZQ==") { id } }', 'id'],
    ['a document nested 10,000 levels deep', `{ host ${'{ host '.repeat(10_000)}${'}'.repeat(10_001)}`, 'query'],
    ['a syntax error', '{ host { name ', 'query'],
    ['an unknown field', '{ hostz { name } }', 'query'],
  ])('%s is INVALID_INPUT', async (_label, query, field) => {
    const res = await send(query);
    expect(res.errors?.length).toBeGreaterThan(0);
    for (const e of res.errors ?? []) expect(e.extensions).toMatchObject({ code: 'INVALID_INPUT', field });
  });

  it('malformed global IDs among several are INVALID_INPUT each, naming its slot', async () => {
    const res = await send('{ nodes(ids: ["bm9wZQ==", "%%%"]) { id } }');
    expect(res.data).toEqual({ nodes: [null, null] });
    expect(res.errors?.map((e) => e.extensions)).toMatchObject([
      { code: 'INVALID_INPUT', field: 'ids.0' },
      { code: 'INVALID_INPUT', field: 'ids.1' },
    ]);
  });

  it('variable coercion errors are INVALID_INPUT naming the variable path', async () => {
    const query = 'query ($d: DomainRef!) { domain(ref: $d) { name } }';
    const oneOf = await send(query, { d: { name: 'x', runtimeId: 26 } });
    expect(oneOf.errors?.[0]?.extensions).toMatchObject({ code: 'INVALID_INPUT', field: '$d' });
    const nested = await send(query, { d: { name: 5 } });
    expect(nested.errors?.[0]?.extensions).toMatchObject({ code: 'INVALID_INPUT', field: '$d.name' });
    const missing = await send(query, {});
    expect(missing.errors?.[0]?.extensions).toMatchObject({ code: 'INVALID_INPUT', field: '$d' });
    const bigint = await send(
      'mutation ($m: BigInt!) { setDomainMemory(input: { domain: { name: "web" }, memoryKiB: $m }) { name } }',
      {
        m: 'lots',
      },
    );
    expect(bigint.errors?.[0]?.extensions).toMatchObject({ code: 'INVALID_INPUT', field: '$m' });
  });

  it('libvirt refusing a value the gateway passed on is INVALID_INPUT naming that field', async () => {
    const vcpus = await send('mutation { setDomainVcpus(input: { domain: { name: "web" }, vcpus: 64 }) { vcpus } }');
    expect(vcpus.errors?.[0]?.extensions).toMatchObject({ code: 'INVALID_INPUT', field: 'vcpus' });
    const memory = await send(
      'mutation { setDomainMemory(input: { domain: { name: "web" }, memoryKiB: "16000000" }) { name } }',
    );
    expect(memory.errors?.[0]?.extensions).toMatchObject({ code: 'INVALID_INPUT', field: 'memoryKiB' });
    const volume = await send(
      'mutation { createVolume(input: { pool: "default-pool", xml: "<volume><name>a/b</name><capacity>1024</capacity></volume>" }) { name } }',
    );
    expect(volume.errors?.[0]?.extensions).toMatchObject({ code: 'INVALID_INPUT', field: 'xml' });
  });

  it('no error carries a message or reason longer than 2 KB, however large the input', async () => {
    const huge = 'x'.repeat(1_000_000);
    const large = [
      await send(`{ ${huge} }`),
      await send('query ($d: DomainRef!) { domain(ref: $d) { name } }', { d: { name: huge, id: 1 } }),
      await send('query ($d: DomainRef!) { domain(ref: $d) { name } }', { d: { name: huge } }),
      await send('mutation ($x: String!) { createVolume(input: { pool: "default-pool", xml: $x }) { name } }', {
        x: `<volume><name>${huge}</name><capacity>1</capacity></volume>`,
      }),
    ];
    // The first three 1 MB inputs are refused (a volume may have a long name); with the racing tests'
    // errors, every error this describe saw is checked.
    for (const res of large.slice(0, 3)) expect(res.errors?.length ?? 0).toBeGreaterThan(0);
    expect(seen.length).toBeGreaterThan(30);
    for (const e of seen) {
      expect(Buffer.byteLength(e.message)).toBeLessThanOrEqual(MAX_ERROR_BYTES);
      expect(Buffer.byteLength(String(e.extensions?.reason ?? ''))).toBeLessThanOrEqual(MAX_ERROR_BYTES);
      expect(Buffer.byteLength(JSON.stringify(e))).toBeLessThan(3 * MAX_ERROR_BYTES);
    }
  });
});

describe('the error contract: documented codes, bounded echoes, nothing internal (test driver)', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startGateway({ default: fixtureUri });
  });
  afterAll(() => gw?.close());

  /** POSTs a body written by hand: JSON.stringify itself overflows on values 5,000 levels deep. */
  async function raw(body: string): Promise<GraphQLResponse> {
    const res = await gw.app.yoga.fetch('http://localhost/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body,
    });
    return (await res.json()) as GraphQLResponse;
  }
  const deep = (inner: string, levels: number) => `${'{"name":'.repeat(levels)}${inner}${'}'.repeat(levels)}`;
  const REF = JSON.stringify('query ($d: DomainRef!) { domain(ref: $d) { name } }');

  it.each([
    ['an input object 5,000 levels deep', `{"query":${REF},"variables":{"d":${deep('"web"', 5000)}}}`, '$d'],
    ['one with a NUL at the bottom', `{"query":${REF},"variables":{"d":${deep('"a\\u0000b"', 5000)}}}`, '$d'],
    [
      'an unused variable 5,000 levels deep',
      `{"query":${REF},"variables":{"d":{"name":"web"},"x":${deep('1', 5000)}}}`,
      '$x',
    ],
    [
      'a list 5,000 levels deep',
      `{"query":${JSON.stringify('query ($i: [ID!]!) { nodes(ids: $i) { id } }')},"variables":{"i":${'['.repeat(5000)}"x"${']'.repeat(5000)}}}`,
      '$i',
    ],
  ])('variables: %s are INVALID_INPUT naming the variable, not INTERNAL', async (_label, body, variable) => {
    const res = await raw(body);
    expect(res.errors).toHaveLength(1);
    expect(res.errors?.[0]?.extensions).toMatchObject({
      code: 'INVALID_INPUT',
      reason: 'is nested more than 100 levels deep',
    });
    expect(String(res.errors?.[0]?.extensions?.field).startsWith(variable)).toBe(true);
  });

  it('a NUL in a variable’s default value is refused before anything runs', async () => {
    const res = await gw.query(
      'mutation ($n: String = "w\\u0000eb") { suspendDomain(input: { domain: { name: $n } }) { state } }',
    );
    expect(res.errors?.[0]?.extensions).toMatchObject({
      code: 'INVALID_INPUT',
      field: '$n',
      reason: 'must not contain a NUL byte',
    });
    const state = await gw.query<{ domain: { state: string } }>('{ domain(ref: { name: "web" }) { state } }');
    expect(state.data?.domain.state).toBe('RUNNING');
    // Sent, the variable's own value is what counts.
    const given = await gw.query('query ($n: String = "a\\u0000b") { domain(ref: { name: $n }) { name } }', {
      n: 'web',
    });
    expect(given.errors?.[0]?.extensions).toMatchObject({ field: '$n' });
  });

  it('a document of two operations without operationName is INVALID_INPUT naming operationName', async () => {
    const res = await gw.query('query A { hosts { name } } query B { hosts { name } }');
    expect(res.errors?.[0]?.extensions).toMatchObject({ code: 'INVALID_INPUT', field: 'operationName' });
  });

  it('an unknown host of 100 KB is echoed cut: message ≤ 2 KB, host ≤ 256 bytes', async () => {
    const host = 'h'.repeat(100_000);
    const res = await gw.query('query ($h: String!) { domain(host: $h, ref: { name: "web" }) { name } }', { h: host });
    const [error] = res.errors ?? [];
    expect(error?.extensions?.code).toBe('UNKNOWN_HOST');
    expect(Buffer.byteLength(error?.message ?? '')).toBeLessThanOrEqual(MAX_ERROR_BYTES);
    expect(Buffer.byteLength(String(error?.extensions?.host))).toBeLessThanOrEqual(256);
    expect(Buffer.byteLength(error?.message ?? '')).toBeLessThan(512);
    expect(Buffer.byteLength(JSON.stringify(error))).toBeLessThan(MAX_ERROR_BYTES);
  });

  it('a global ID without its host separator is INVALID_INPUT naming the field, not UNKNOWN_HOST', async () => {
    const id = Buffer.from('Domain:defaultnoseparator').toString('base64');
    const ref = await gw.query(`{ domain(ref: { id: "${id}" }) { name } }`);
    expect(ref.errors?.[0]?.extensions).toMatchObject({ code: 'INVALID_INPUT', field: 'ref.id' });
    const mutation = await gw.query(`mutation { suspendDomain(input: { domain: { id: "${id}" } }) { state } }`);
    expect(mutation.errors?.[0]?.extensions).toMatchObject({ code: 'INVALID_INPUT', field: 'domain.id' });
    const node = await gw.query(`{ node(id: "${id}") { id } }`);
    expect(node.errors?.[0]?.extensions).toMatchObject({ code: 'INVALID_INPUT', field: 'id' });
  });

  it('cloneVolume with a format the host lacks names the field', async () => {
    const res = await gw.query(
      'mutation { cloneVolume(input: { ref: { path: "/default-pool/web.img" }, name: "copy.img", format: "nosuchfmt" }) { name } }',
    );
    expect(res.errors?.[0]?.extensions).toMatchObject({ field: 'format' });
    expect(['INVALID_INPUT', 'UNSUPPORTED']).toContain(res.errors?.[0]?.extensions?.code);
  });

  it('graphql-ws errors are coded and carry no internal extensions (yoga’s extensions.http)', async () => {
    const url = (await gw.app.start()).replace(/^http/, 'ws');
    const client = createClient({ url, webSocketImpl: WebSocket, retryAttempts: 0, lazy: true });
    const errorsOf = (query: string) => {
      const done = deferred<unknown>();
      client.subscribe(
        { query },
        { next: (r) => done.resolve(r.errors), error: done.resolve, complete: () => done.resolve(undefined) },
      );
      return done.promise;
    };
    const invalid = (await errorsOf('{ nosuchfield }')) as Array<{ extensions?: Record<string, unknown> }>;
    const twoOps = (await errorsOf('query A { hosts { name } } query B { hosts { name } }')) as typeof invalid;
    await client.dispose();
    for (const errors of [invalid, twoOps]) {
      expect(errors?.[0]?.extensions?.code).toBe('INVALID_INPUT');
      expect(errors?.[0]?.extensions).not.toHaveProperty('http');
    }
  });

  it('removeManagedSave with nothing saved succeeds, as described, rather than LIBVIRT_ERROR', async () => {
    const res = await gw.query<{ removeManagedSave: { hasManagedSave: boolean } }>(
      'mutation { removeManagedSave(input: { domain: { name: "web" } }) { hasManagedSave } }',
    );
    expect(res).toEqual({
      extensions: { cost: expect.any(Object) },
      data: { removeManagedSave: { hasManagedSave: false } },
    });
  });
});

describe('connection failures are CONNECTION_FAILED', () => {
  it('a closed registry', async () => {
    const gw = await startGateway({ default: fixtureUri });
    await gw.registry.close();
    const res = await gw.query('{ domain(ref: { name: "web" }) { name } }');
    expect(res.errors?.[0]?.extensions).toMatchObject({ code: 'CONNECTION_FAILED' });
    await gw.close();
  });

  it.each([
    ['a connection timeout', new HostTimeoutError('kvm1', 5000)],
    ['a closed registry', new HostRegistryClosedError('kvm1')],
  ])('%s, as maskError sees it', (_label, error) => {
    const located = new GraphQLError(error.message, { originalError: error, path: ['domain'] });
    expect((maskError(located, 'Unexpected error.') as GraphQLError).extensions).toMatchObject({
      code: 'CONNECTION_FAILED',
      host: 'kvm1',
    });
  });
});

describe('libvirt wordings map to the code of the gateway’s own check', () => {
  const error = (code: ErrorNumberName, domain: keyof typeof ErrorDomain, message: string) =>
    new LibvirtError(message, ErrorNumber[code], ErrorDomain[domain], 2);

  it.each([
    ['RPC', 'RPC', 'Unable to encode message payload', 'INVALID_INPUT'],
    ['RPC', 'RPC', 'message length 34000000 exceeds maximum 33554432', 'INVALID_INPUT'],
    ['INTERNAL_ERROR', 'RPC', 'internal error: client socket is closed', 'CONNECTION_FAILED'],
    ['SYSTEM_ERROR', 'RPC', 'Cannot recv data: Connection reset by peer', 'CONNECTION_FAILED'],
    ['RPC', 'RPC', 'failed to connect to the hypervisor', 'CONNECTION_FAILED'],
    ['INTERNAL_ERROR', 'TEST', "internal error: domain 'web' not paused", 'INVALID_STATE'],
    ['INTERNAL_ERROR', 'TEST', "internal error: domain 'web' not running", 'INVALID_STATE'],
    ['INTERNAL_ERROR', 'TEST', "internal error: Domain 'web' is already running", 'INVALID_STATE'],
    ['OPERATION_INVALID', 'QEMU', 'Requested operation is not valid: domain is not running', 'INVALID_STATE'],
    ['OPERATION_FAILED', 'DOMAIN', "operation failed: domain 'x' already exists with uuid 1234", 'INVALID_INPUT'],
    ['OPERATION_FAILED', 'NETWORK', "operation failed: network 'n' already exists with uuid 1234", 'INVALID_INPUT'],
    ['OPERATION_INVALID', 'STORAGE', "volume name 'a/b' cannot contain '/'", 'INVALID_INPUT'],
    ['STORAGE_VOL_EXIST', 'STORAGE', "storage volume 'v' exists already", 'INVALID_INPUT'],
    ['INTERNAL_ERROR', 'QEMU', 'internal error: something else', 'LIBVIRT_ERROR'],
  ] as const)('%s (%s) "%s" → %s', (code, domain, message, expected) => {
    expect(codeOf(error(code, domain, message))).toBe(expected);
  });
});
