import { GraphQLError } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HostRegistryClosedError, HostTimeoutError } from '../../src/hosts/errors.ts';
import { ErrorDomain, ErrorNumber, type ErrorNumberName, LibvirtError } from '../../src/libvirt/index.ts';
import { codeOf, MAX_ERROR_BYTES, maskError } from '../../src/schema/errors.ts';
import { type GraphQLResponse, startGateway, type TestGateway } from '../support/gateway.ts';
import { fixtureUri } from '../support/test-host.ts';

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
    await send(`{ ${huge} }`);
    await send('query ($d: DomainRef!) { domain(ref: $d) { name } }', { d: { name: huge, id: 1 } });
    await send('query ($d: DomainRef!) { domain(ref: $d) { name } }', { d: { name: huge } });
    await send('mutation ($x: String!) { createVolume(input: { pool: "default-pool", xml: $x }) { name } }', {
      x: `<volume><name>${huge}</name><capacity>1</capacity></volume>`,
    });
    expect(seen.length).toBeGreaterThan(100);
    for (const e of seen) {
      expect(Buffer.byteLength(e.message)).toBeLessThanOrEqual(MAX_ERROR_BYTES);
      expect(Buffer.byteLength(String(e.extensions?.reason ?? ''))).toBeLessThanOrEqual(MAX_ERROR_BYTES);
      expect(Buffer.byteLength(JSON.stringify(e))).toBeLessThan(3 * MAX_ERROR_BYTES);
    }
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
