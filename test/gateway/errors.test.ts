import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config/config.ts';
import { startGateway, type TestGateway } from '../support/gateway.ts';
import { fixtureUri } from '../support/test-host.ts';

let gw: TestGateway;
beforeAll(async () => {
  gw = await startGateway({ fixture: fixtureUri });
});
afterAll(async () => {
  await gw.close();
});

describe('Bad input comes back as typed errors naming the field', () => {
  it.each([
    ['a malformed UUID', '{ domain(ref: { uuid: "nope" }) { name } }', 'INVALID_INPUT', 'ref.uuid'],
    ['a negative runtime id', '{ domain(ref: { id: -3 }) { name } }', 'INVALID_INPUT', 'ref.id'],
    ['an unknown host', '{ domain(host: "mars", ref: { name: "web" }) { name } }', 'UNKNOWN_HOST', 'host'],
    ['an unknown host by name', '{ host(name: "mars") { name } }', 'UNKNOWN_HOST', 'host'],
  ])('%s', async (_what, query, code, field) => {
    const res = await gw.query(query);
    expect(res.errors?.[0]?.extensions).toMatchObject({ code, field });
    expect(res.errors?.[0]?.message).toMatch(new RegExp(`^${field}: `));
  });

  it.each([
    ['domain', '{ domain(ref: { name: "ghost" }) { name } }', 'NO_DOMAIN'],
    ['domain by UUID', '{ domain(ref: { uuid: "00000000-0000-0000-0000-000000000009" }) { name } }', 'NO_DOMAIN'],
    ['network', '{ network(name: "ghost") { name } }', undefined],
    ['pool', '{ storagePool(name: "ghost") { name } }', undefined],
    ['volume', '{ volume(ref: { path: "/nowhere.img" }) { name } }', undefined],
    ['interface', '{ interface(ref: { mac: "00:00:00:00:00:01" }) { name } }', undefined],
  ])('an unknown %s is NOT_FOUND', async (_what, query, libvirtCode) => {
    const res = await gw.query(query);
    expect(res.data).toEqual({ [Object.keys(res.data ?? {})[0] ?? '']: null });
    expect(res.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    if (libvirtCode) expect(res.errors?.[0]?.extensions?.libvirt).toMatchObject({ codeName: libvirtCode });
  });

  it('refuses a DomainRef with two identities before resolving anything', async () => {
    const res = await gw.query('{ domain(ref: { name: "web", id: 1 }) { name } }');
    expect(res.data).toBeUndefined();
    expect(res.errors?.[0]?.message).toMatch(/exactly one key/);
  });

  it('keeps the rest of the query when one field fails', async () => {
    const res = await gw.query(
      '{ a: domain(ref: { name: "ghost" }) { name } b: domain(ref: { name: "web" }) { name } }',
    );
    expect(res.data).toEqual({ a: null, b: { name: 'web' } });
    expect(res.errors).toHaveLength(1);
  });

  it('masks unexpected errors without a stack trace', async () => {
    const res = await gw.query('{ domain(ref: { name: "web" }) { xml(inactive: true) } }');
    expect(res.errors).toBeUndefined();
    expect(JSON.stringify(res)).not.toMatch(/at .*\.ts:\d+/);
  });
});

describe('Malformed host configuration', () => {
  it('names the host entry, the part and the reason', async () => {
    const failure = await loadConfig({ env: { VIRTQL_HOSTS: 'bad=qemu+tcp://127.0.0.1:99999/system' } }).catch(
      (e: unknown) => e,
    );
    expect(failure).toBeInstanceOf(ConfigError);
    expect((failure as Error).message).toMatch(/VIRTQL_HOSTS\[bad\].*port/);
  });
});
