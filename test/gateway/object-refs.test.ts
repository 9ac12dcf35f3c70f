import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGateway, type TestGateway } from '../support/gateway.ts';
import { fixtureUri } from '../support/test-host.ts';

// Two hosts, each with a domain named "test"/"web": a global ID names one of them and its host.
describe('object refs by global ID (test driver, two hosts)', () => {
  let gw: TestGateway;
  let web: string;
  let builtin: string;

  beforeAll(async () => {
    gw = await startGateway({ fixture: fixtureUri, builtin: 'test:///default' });
    const res = await gw.query<{ a: { id: string }; b: { id: string } }>(
      '{ a: domain(ref: { name: "web" }) { id } b: domain(host: "builtin", ref: { name: "test" }) { id } }',
    );
    web = res.data?.a.id as string;
    builtin = res.data?.b.id as string;
  });
  afterAll(() => gw?.close());

  it('a mutation acts on the domain a global ID names, on the host it implies', async () => {
    const res = await gw.query(
      'mutation ($id: ID!) { suspendDomain(input: { domain: { id: $id } }) { state domain { name host { name } } } }',
      { id: builtin },
    );
    expect(res.errors).toBeUndefined();
    expect(res.data).toEqual({
      suspendDomain: { state: 'PAUSED', domain: { name: 'test', host: { name: 'builtin' } } },
    });
    await gw.query('mutation ($id: ID!) { resumeDomain(input: { domain: { id: $id } }) { state } }', { id: builtin });
  });

  it('a global ID with the same host given works; with another host it is INVALID_INPUT and nothing changes', async () => {
    const same = await gw.query(
      'mutation ($id: ID!) { suspendDomain(input: { host: "fixture", domain: { id: $id } }) { state } }',
      { id: web },
    );
    expect(same.data).toEqual({ suspendDomain: { state: 'PAUSED' } });
    await gw.query('mutation ($id: ID!) { resumeDomain(input: { domain: { id: $id } }) { state } }', { id: web });
    const other = await gw.query(
      'mutation ($id: ID!) { suspendDomain(input: { host: "builtin", domain: { id: $id } }) { state } }',
      { id: web },
    );
    expect(other.errors?.map((e) => e.extensions)).toMatchObject([{ code: 'INVALID_INPUT', field: 'domain.id' }]);
    const state = await gw.query('{ domain(ref: { name: "web" }) { state } }');
    expect(state.data).toEqual({ domain: { state: 'RUNNING' } });
  });

  it('a malformed global ID or one of another kind is INVALID_INPUT naming domain.id', async () => {
    const hostId = (await gw.query<{ host: { id: string } }>('{ host { id } }')).data?.host.id as string;
    for (const id of ['garbage', hostId]) {
      const res = await gw.query('mutation ($id: ID!) { suspendDomain(input: { domain: { id: $id } }) { state } }', {
        id,
      });
      expect(res.errors?.map((e) => e.extensions)).toMatchObject([{ code: 'INVALID_INPUT', field: 'domain.id' }]);
    }
  });

  it('lookups take the global ID and the runtime id as runtimeId', async () => {
    const res = await gw.query<{ byId: { name: string }; byRuntime: { name: string; runtimeId: number } }>(
      `{ byId: domain(ref: { id: "${web}" }) { name } byRuntime: domain(ref: { runtimeId: 1 }) { name runtimeId } }`,
    );
    expect(res.errors).toBeUndefined();
    expect(res.data?.byId.name).toBe('web');
    expect(res.data?.byRuntime.runtimeId).toBe(1);
  });

  it('volume and interface refs take the global ID too, on its own host only', async () => {
    const ids = await gw.query<{ host: { volume: { id: string }; interface: { id: string } } }>(
      '{ host(name: "fixture") { volume(ref: { path: "/default-pool/web.img" }) { id } interface(ref: { name: "eth1" }) { id } } }',
    );
    const volume = ids.data?.host.volume.id as string;
    const nic = ids.data?.host.interface.id as string;
    const found = await gw.query(
      `{ host(name: "fixture") { volume(ref: { id: "${volume}" }) { path } interface(ref: { id: "${nic}" }) { name } } }`,
    );
    expect(found.data).toEqual({ host: { volume: { path: '/default-pool/web.img' }, interface: { name: 'eth1' } } });
    const elsewhere = await gw.query(`{ host(name: "builtin") { volume(ref: { id: "${volume}" }) { path } } }`);
    expect(elsewhere.errors?.map((e) => e.extensions)).toMatchObject([{ code: 'INVALID_INPUT', field: 'ref.id' }]);
    // A mutation without host acts on the volume's host.
    const copied = await gw.query(
      `mutation { cloneVolume(input: { ref: { id: "${volume}" }, name: "web-copy.img" }) { path } }`,
    );
    expect(copied.errors).toBeUndefined();
    expect(copied.data).toEqual({ cloneVolume: { path: '/default-pool/web-copy.img' } });
  });

  it('domain(ref: { id }) and volume(ref: { id }) without host read the ID’s host, not the default one', async () => {
    const made = await gw.query<{ createVolume: { id: string } }>(
      `mutation { createVolume(input: { host: "builtin", pool: "default-pool",
        xml: "<volume><name>by-id.img</name><capacity>1048576</capacity></volume>" }) { id } }`,
    );
    expect(made.errors).toBeUndefined();
    const volume = made.data?.createVolume.id as string;
    expect(volume).toBeTruthy();
    const res = await gw.query<{ domain: { name: string; host: { name: string } }; volume: { path: string } }>(
      `{ domain(ref: { id: "${builtin}" }) { name host { name } } volume(ref: { id: "${volume}" }) { path } }`,
    );
    expect(res.errors).toBeUndefined();
    expect(res.data).toEqual({
      domain: { name: 'test', host: { name: 'builtin' } },
      volume: { path: '/default-pool/by-id.img' },
    });
    const disagreeing = await gw.query(
      `{ domain(host: "fixture", ref: { id: "${builtin}" }) { name } volume(host: "fixture", ref: { id: "${volume}" }) { path } }`,
    );
    expect(disagreeing.errors?.map((e) => e.extensions?.code)).toEqual(['INVALID_INPUT', 'INVALID_INPUT']);
  });
});
