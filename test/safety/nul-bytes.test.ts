import type { GraphQLError } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Connection, NulByteError } from '../../src/libvirt/index.ts';
import { native } from '../../src/libvirt/native.ts';
import { maskError } from '../../src/schema/core/errors.ts';
import { schema } from '../../src/schema/index.ts';
import { startGateway, type TestGateway } from '../support/gateway.ts';
import { type HostSnapshot, snapshotHost } from '../support/host-snapshot.ts';
import { openPrivateDaemon, privateDaemon, privateDaemonSkipReason } from '../support/private-daemon.ts';
import {
  argumentValues,
  fieldsWithArguments,
  operationFor,
  stringPaths,
  valueWith,
} from '../support/schema-arguments.ts';
import { fixtureUri, openFixtureHost } from '../support/test-host.ts';

/** The victim is the domain `web`: cut at the NUL, every one of these names it. */
const NUL = 'web\u0000../x';

const cases = fieldsWithArguments(schema).flatMap((target) =>
  target.field.args.flatMap((arg) =>
    stringPaths(arg.type).map((inner) => ({ target, arg: arg.name, path: [arg.name, ...inner].join('.'), inner })),
  ),
);

describe('NUL bytes in string arguments, on the test driver', () => {
  let gw: TestGateway;
  let host: Connection;
  let before: HostSnapshot;

  beforeAll(async () => {
    gw = await startGateway({ default: fixtureUri });
    host = await gw.registry.connection('default');
    before = await snapshotHost(host);
    expect(before.domains.find((d) => d.name === 'web')?.state).toBe('RUNNING');
  });
  afterAll(() => gw?.close());

  it('covers every string argument of every mutation and lookup', () => {
    const names = new Set(cases.map((c) => c.target.name));
    for (const name of ['Mutation.undefineDomain', 'Mutation.attachDisk', 'Mutation.setDomainVcpus', 'Query.domain']) {
      expect(names).toContain(name);
    }
    expect(cases.some((c) => c.path === 'input.disk.sourcePath')).toBe(true);
    expect(cases.length).toBeGreaterThan(100);
  });

  describe.each([
    ['as variables', false],
    ['as literals', true],
  ])('%s', (_label, inline) => {
    it.each(cases.map((c) => [c.target.name, c.path, c] as const))('%s refuses a NUL in %s', async (_n, path, c) => {
      const arg = c.target.field.args.find((a) => a.name === c.arg);
      if (!arg) throw new Error(`no argument ${c.arg}`);
      const args = argumentValues(c.target.field, { [c.arg]: valueWith(arg.type, c.inner, NUL) });
      const { query, variables } = operationFor(c.target, args, inline);
      const res = await gw.query(query, variables);
      expect(res.errors, query).toHaveLength(1);
      // A mutation's field is named by its path inside the one `input`.
      const field = path.startsWith('input.') ? path.slice('input.'.length) : path;
      expect(res.errors?.[0]?.extensions).toMatchObject({ code: 'INVALID_INPUT', field });
      expect(res.errors?.[0]?.message).toContain(field);
      expect(res.data ?? null).toBeNull();
    });
  });

  it('leaves the victim and the rest of the host untouched', async () => {
    const after = await snapshotHost(host);
    expect(after.domains.find((d) => d.name === 'web')).toEqual(before.domains.find((d) => d.name === 'web'));
    expect(after).toEqual(before);
  });
});

describe('NUL bytes at the binding', () => {
  let c: Connection;
  beforeAll(async () => {
    c = await openFixtureHost();
  });
  afterAll(() => c?.close());

  const raw = (c: Connection) => c.handle;

  it.each<[string, (c: Connection) => Promise<unknown>, string]>([
    ['connectOpen', () => native.connectOpen('test:///default\u0000/x'), 'uri'],
    ['domainLookupByName', (c) => native.domainLookupByName(raw(c), NUL), 'name'],
    ['domainLookupByUUID', (c) => native.domainLookupByUUID(raw(c), 'abc\u0000def'), 'uuid'],
    ['domainDefineXML', (c) => native.domainDefineXML(raw(c), '<domain>\u0000</domain>', 0), 'xml'],
    ['networkLookupByName', (c) => native.networkLookupByName(raw(c), 'lan\u0000x'), 'name'],
    ['storageVolLookupByPath', (c) => native.storageVolLookupByPath(raw(c), '/x\u0000/y'), 'path'],
  ])('%s throws a TypeError naming the argument', async (_name, call, argument) => {
    let thrown: unknown;
    try {
      await call(c);
    } catch (e) {
      thrown = e;
    }
    expect(thrown).toBeInstanceOf(TypeError);
    expect((thrown as Error).message).toBe(`${argument} must not contain a NUL byte`);
  });

  it('refuses a NUL in a device XML on a domain handle, and in migration parameters', async () => {
    const { handle } = await native.domainLookupByName(c.handle, 'web');
    expect(() => native.domainAttachDevice(handle, '<disk>\u0000</disk>', 0)).toThrow(
      new TypeError('xml must not contain a NUL byte'),
    );
    expect(() => native.domainMigrateToURI(handle, 'test:///default', { dname: 'x\u0000y' }, 0)).toThrow(
      new TypeError('migration parameter dname must not contain a NUL byte'),
    );
    expect((await c.domainByName('web')).name).toBe('web');
  });

  it('the port turns it into NulByteError, and the gateway into INVALID_INPUT naming the argument', async () => {
    const error = await c.domainByName(NUL).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NulByteError);
    const masked = maskError(error, 'Unexpected error.') as GraphQLError;
    expect(masked.extensions).toMatchObject({ code: 'INVALID_INPUT', field: 'name' });
    // The victim is still there, under its own name.
    expect((await c.domainByName('web')).name).toBe('web');
  });
});

const skip = privateDaemonSkipReason();
if (skip) console.warn(`skipping the private libvirtd NUL case: ${skip}`);

describe.skipIf(skip !== undefined)('NUL bytes on a private libvirtd', () => {
  let gw: TestGateway;
  let c: Connection;
  const victim = 'nul-victim';

  beforeAll(async () => {
    const daemon = privateDaemon();
    if (!daemon) throw new Error('unreachable');
    gw = await startGateway({ qemu: daemon.uri });
    c = await openPrivateDaemon();
    await c.defineDomain(
      `<domain type="qemu"><name>${victim}</name><memory unit="MiB">64</memory><os><type>hvm</type></os></domain>`,
    );
  });
  afterAll(async () => {
    const d = await c?.domainByName(victim).catch(() => undefined);
    await d?.undefine();
    await gw?.close();
    await c?.close();
  });

  it('undefineDomain with the victim name plus NUL is refused, and the victim stays defined', async () => {
    const d = await c.domainByName(victim);
    const xml = await d.xml({ inactive: true });
    const res = await gw.query(
      'mutation ($d: DomainRef!) { undefineDomain(input: { host: "qemu", domain: $d }) { name } }',
      {
        d: { name: `${victim}\u0000../../x` },
      },
    );
    expect(res.errors?.[0]?.extensions).toMatchObject({ code: 'INVALID_INPUT', field: 'domain.name' });
    const still = await c.domainByName(victim);
    expect(await still.xml({ inactive: true })).toBe(xml);
    expect((await still.state()).state).toBe('SHUTOFF');
  });
});
