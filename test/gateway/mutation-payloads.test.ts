import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createApiToken } from '../../src/auth/authenticator.ts';
import { startGateway, type TestGateway } from '../support/gateway.ts';
import { fixtureUri } from '../support/test-host.ts';

// Issue 23 items 1-3 on the test driver's fixture (web runs, db is shut off, network lan, pool
// default-pool with web.img, host interface eth1). libvirt is the oracle: what the answer says was
// deleted or changed is read back from the host.

const tokens = { admin: createApiToken(), webOnly: createApiToken(), auditor: createApiToken() };
const config = {
  auth: {
    tokens: Object.entries(tokens).map(([name, t]) => ({ name, sha256: t.sha256 })),
    roles: { 'web-power': ['VM.Audit', 'VM.PowerMgmt', 'VM.Snapshot'], 'vm-audit': ['VM.Audit'] },
    grants: [
      { identity: 'admin', role: 'admin' },
      // No Sys.Audit, and only the domain web.
      { identity: 'webOnly', role: 'web-power', domains: ['web'] },
      // Sees every domain, may change none, and sees no pool or host interface.
      { identity: 'auditor', role: 'vm-audit' },
    ],
  },
};

let gw: TestGateway;
beforeEach(async () => {
  gw = await startGateway({ fixture: fixtureUri }, undefined, { config });
});
afterEach(async () => {
  await gw.close();
});

const as = (who: keyof typeof tokens) => ({ authorization: `Bearer ${tokens[who].secret}` });
const admin = <D = Record<string, unknown>>(query: string, variables?: Record<string, unknown>) =>
  gw.ok<D>(query, variables, as('admin'));

async function libvirtState(name: string): Promise<string> {
  const c = await gw.registry.connection('fixture');
  return (await (await c.domainByName(name)).state()).state;
}

describe('partial success: each mutation field answers alone', () => {
  it('keeps the result of the mutation that ran when the next one fails, with the error at its path', async () => {
    const res = await gw.query(
      `mutation {
        ok: suspendDomain(input: { domain: { name: "web" } }) { state }
        bad: suspendDomain(input: { domain: { name: "nowhere" } }) { state }
      }`,
      {},
      as('admin'),
    );
    expect(res.data).toEqual({ ok: { state: 'PAUSED' }, bad: null });
    expect(res.errors).toHaveLength(1);
    expect(res.errors?.[0]).toMatchObject({ path: ['bad'], extensions: { code: 'NOT_FOUND' } });
    expect(await libvirtState('web')).toBe('PAUSED');
  });

  it('echoes clientMutationId in a payload, null when none was sent, and refuses an oversized one', async () => {
    const echoed = await admin<{ suspendDomain: { clientMutationId: string | null; state: string } }>(
      'mutation { suspendDomain(input: { domain: { name: "web" }, clientMutationId: "req-7" }) { clientMutationId state } }',
    );
    expect(echoed.suspendDomain).toEqual({ clientMutationId: 'req-7', state: 'PAUSED' });
    const silent = await admin<{ resumeDomain: { clientMutationId: string | null } }>(
      'mutation { resumeDomain(input: { domain: { name: "web" } }) { clientMutationId } }',
    );
    expect(silent.resumeDomain.clientMutationId).toBeNull();
    const long = await gw.query(
      'mutation ($id: String) { suspendDomain(input: { domain: { name: "web" }, clientMutationId: $id }) { state } }',
      { id: 'x'.repeat(257) },
      as('admin'),
    );
    expect(long.errors?.[0]?.extensions).toMatchObject({ code: 'INVALID_INPUT', field: 'clientMutationId' });
    expect(await libvirtState('web')).toBe('RUNNING');
  });
});

describe('deletes answer the global ID the client cached', () => {
  const gone = async (id: string) => {
    const res = await gw.query<{ node: unknown }>('query ($id: ID!) { node(id: $id) { id } }', { id }, as('admin'));
    return res.data?.node === null;
  };

  it('undefineDomain: deletedId is the domain’s id, and libvirt no longer has it', async () => {
    const { domain } = await admin<{ domain: { id: string } }>('{ domain(ref: { name: "db" }) { id } }');
    const { undefineDomain } = await admin<{ undefineDomain: { deletedId: string; clientMutationId: string } }>(
      'mutation { undefineDomain(input: { domain: { name: "db" }, clientMutationId: "u1" }) { deletedId clientMutationId } }',
    );
    expect(undefineDomain).toEqual({ deletedId: domain.id, clientMutationId: 'u1' });
    const c = await gw.registry.connection('fixture');
    expect((await c.domains()).map((d) => d.name)).not.toContain('db');
    expect(await gone(domain.id)).toBe(true);
  });

  it('deleteVolume, undefineNetwork, undefineStoragePool and undefineInterface too', async () => {
    const ids = await admin<{
      volume: { id: string };
      network: { id: string };
      storagePool: { id: string };
      interface: { id: string };
    }>(`{
      volume(ref: { path: "/default-pool/web.img" }) { id }
      network(name: "lan") { id }
      storagePool(name: "default-pool") { id }
      interface(ref: { name: "eth1" }) { id }
    }`);
    const deleted = await admin<Record<string, { deletedId: string }>>(`mutation {
      deleteVolume(input: { ref: { path: "/default-pool/web.img" } }) { deletedId }
      stopNetwork(input: { name: "lan" }) { name }
      undefineNetwork(input: { name: "lan" }) { deletedId }
      undefineInterface(input: { name: "eth1" }) { deletedId }
    }`);
    expect(deleted.deleteVolume?.deletedId).toBe(ids.volume.id);
    expect(deleted.undefineNetwork?.deletedId).toBe(ids.network.id);
    expect(deleted.undefineInterface?.deletedId).toBe(ids.interface.id);
    const pool = await admin<Record<string, { deletedId?: string }>>(`mutation {
      stopStoragePool(input: { name: "default-pool" }) { name }
      undefineStoragePool(input: { name: "default-pool" }) { deletedId }
    }`);
    expect(pool.undefineStoragePool?.deletedId).toBe(ids.storagePool.id);
    const c = await gw.registry.connection('fixture');
    expect((await c.networks()).map((n) => n.name)).not.toContain('lan');
    expect((await c.storagePools()).map((p) => p.name)).not.toContain('default-pool');
    for (const id of Object.values(ids).map((o) => o.id)) expect(await gone(id)).toBe(true);
  });
});

describe('every object a Node', () => {
  it('a snapshot has a global ID node() finds, deleteDomainSnapshot answers it, and a tenant of another domain sees none', async () => {
    const created = await admin<{ createDomainSnapshot: { id: string; name: string } }>(
      'mutation { createDomainSnapshot(input: { domain: { name: "db" }, snapshot: { name: "s1" } }) { id name } }',
    );
    const child = await admin<{ createDomainSnapshot: { id: string } }>(
      'mutation { createDomainSnapshot(input: { domain: { name: "db" }, snapshot: { name: "s2" } }) { id } }',
    );
    const { id } = created.createDomainSnapshot;
    const found = await admin<{ node: { __typename: string; name: string; domain: { name: string } } }>(
      'query ($id: ID!) { node(id: $id) { __typename ... on DomainSnapshot { name domain { name } } } }',
      { id },
    );
    expect(found.node).toEqual({ __typename: 'DomainSnapshot', name: 's1', domain: { name: 'db' } });
    const hidden = await gw.query<{ node: unknown }>(
      'query ($id: ID!) { node(id: $id) { id } }',
      { id },
      as('webOnly'),
    );
    expect(hidden.data?.node).toBeNull();

    const deleted = await admin<{
      deleteDomainSnapshot: { deletedId: string; deletedIds: string[]; domain: { snapshots: unknown[] } };
    }>(
      'mutation { deleteDomainSnapshot(input: { domain: { name: "db" }, name: "s1", children: true }) { deletedId deletedIds domain { snapshots { name } } } }',
    );
    expect(deleted.deleteDomainSnapshot).toEqual({
      deletedId: id,
      deletedIds: [id, child.createDomainSnapshot.id],
      domain: { snapshots: [] },
    });
    const c = await gw.registry.connection('fixture');
    expect(await (await c.domainByName('db')).snapshots()).toEqual([]);
  });

  it('an operation is a Node: node(), operation() and cancelOperation take its global ID (and the bare id of 0.1)', async () => {
    const { cloneDomain } = await admin<{ cloneDomain: { id: string; kind: string } }>(
      'mutation { cloneDomain(input: { domain: { name: "db" }, name: "db-copy" }) { id kind } }',
    );
    expect(cloneDomain.kind).toBe('CLONE');
    const byNode = await admin<{ node: { __typename: string; kind: string } }>(
      'query ($id: ID!) { node(id: $id) { __typename ... on Operation { kind } } }',
      { id: cloneDomain.id },
    );
    expect(byNode.node).toEqual({ __typename: 'Operation', kind: 'CLONE' });
    const byField = await admin<{ operation: { id: string } }>('query ($id: ID!) { operation(id: $id) { id } }', {
      id: cloneDomain.id,
    });
    expect(byField.operation.id).toBe(cloneDomain.id);
    const bare = Buffer.from(cloneDomain.id, 'base64').toString('utf8').split('\u001f')[1] as string;
    const byBare = await admin<{ operation: { id: string } }>('query ($id: ID!) { operation(id: $id) { id } }', {
      id: bare,
    });
    expect(byBare.operation.id).toBe(cloneDomain.id);
    // Another identity, without Sys.Audit, cannot follow it: node() answers null.
    const other = await gw.query<{ node: unknown }>(
      'query ($id: ID!) { node(id: $id) { id } }',
      { id: cloneDomain.id },
      as('webOnly'),
    );
    expect(other.data?.node).toBeNull();
  });
});

describe('closed sets are enums', () => {
  it('a disk’s type and device and a NIC’s type are enum values of what libvirt’s XML says', async () => {
    const { domain } = await admin<{
      domain: { disks: Array<{ type: string; device: string }>; interfaces: Array<{ type: string }> };
    }>('{ domain(ref: { name: "web" }) { disks { type device } interfaces { type } } }');
    const c = await gw.registry.connection('fixture');
    const xml = await (await c.domainByName('web')).xml();
    const disk = /<disk type='(\w+)' device='(\w+)'/.exec(xml);
    const nic = /<interface type='(\w+)'/.exec(xml);
    expect(domain.disks[0]).toEqual({ type: disk?.[1]?.toUpperCase(), device: disk?.[2]?.toUpperCase() });
    expect(domain.interfaces[0]?.type).toBe(nic?.[1]?.toUpperCase());
  });
});

describe('global IDs wherever a reference is taken', () => {
  it('network and pool actions take the object’s id instead of its name, with the same privilege check', async () => {
    const { network } = await admin<{ network: { id: string } }>('{ network(name: "lan") { id } }');
    const stopped = await admin<{ stopNetwork: { name: string; active: boolean } }>(
      'mutation ($id: ID!) { stopNetwork(input: { id: $id }) { name active } }',
      { id: network.id },
    );
    expect(stopped.stopNetwork).toEqual({ name: 'lan', active: false });
    const c = await gw.registry.connection('fixture');
    expect(await (await c.networkByName('lan')).isActive()).toBe(false);

    // webOnly holds no Network privilege: by id as by name, refused, and nothing changes.
    const refused = await gw.query(
      'mutation ($id: ID!) { startNetwork(input: { id: $id }) { name } }',
      { id: network.id },
      as('webOnly'),
    );
    expect(refused.data?.startNetwork).toBeNull();
    expect(['FORBIDDEN', 'NOT_FOUND']).toContain(refused.errors?.[0]?.extensions?.code);
    expect(await (await c.networkByName('lan')).isActive()).toBe(false);

    const both = await gw.query(
      'mutation ($id: ID!) { startNetwork(input: { id: $id, name: "lan" }) { name } }',
      { id: network.id },
      as('admin'),
    );
    expect(both.errors?.[0]?.extensions).toMatchObject({ code: 'INVALID_INPUT', field: 'name' });
    const { storagePool } = await admin<{ storagePool: { id: string } }>(
      '{ storagePool(name: "default-pool") { id } }',
    );
    const wrongKind = await gw.query(
      'mutation ($id: ID!) { startNetwork(input: { id: $id }) { name } }',
      { id: storagePool.id },
      as('admin'),
    );
    expect(wrongKind.errors?.[0]?.extensions).toMatchObject({ code: 'INVALID_INPUT', field: 'id' });
    expect(await (await c.networkByName('lan')).isActive()).toBe(false);
  });

  it('revertDomainSnapshot and deleteDomainSnapshot take the snapshot’s id alone', async () => {
    const { createDomainSnapshot: snap } = await admin<{ createDomainSnapshot: { id: string } }>(
      'mutation { createDomainSnapshot(input: { domain: { name: "db" }, snapshot: { name: "by-id" } }) { id } }',
    );
    const reverted = await admin<{ revertDomainSnapshot: { name: string } }>(
      'mutation ($id: ID!) { revertDomainSnapshot(input: { id: $id }) { name } }',
      { id: snap.id },
    );
    expect(reverted.revertDomainSnapshot.name).toBe('db');
    const mixed = await gw.query(
      'mutation ($id: ID!) { deleteDomainSnapshot(input: { id: $id, name: "by-id" }) { deletedId } }',
      { id: snap.id },
      as('admin'),
    );
    expect(mixed.errors?.[0]?.extensions).toMatchObject({ code: 'INVALID_INPUT', field: 'id' });
    const hidden = await gw.query(
      'mutation ($id: ID!) { deleteDomainSnapshot(input: { id: $id }) { deletedId } }',
      { id: snap.id },
      as('webOnly'),
    );
    expect(hidden.data?.deleteDomainSnapshot).toBeNull();
    const deleted = await admin<{ deleteDomainSnapshot: { deletedId: string } }>(
      'mutation ($id: ID!) { deleteDomainSnapshot(input: { id: $id }) { deletedId } }',
      { id: snap.id },
    );
    expect(deleted.deleteDomainSnapshot.deletedId).toBe(snap.id);
    const c = await gw.registry.connection('fixture');
    expect(await (await c.domainByName('db')).snapshots()).toEqual([]);
  });
});

describe('what a role without the privilege gets', () => {
  it('deleteDomainCheckpoint needs VM.Snapshot: FORBIDDEN naming it, before libvirt is asked', async () => {
    const res = await gw.query(
      'mutation { deleteDomainCheckpoint(input: { domain: { name: "web" }, name: "cp" }) { deletedId } }',
      {},
      as('auditor'),
    );
    expect(res.data?.deleteDomainCheckpoint).toBeNull();
    expect(res.errors?.[0]?.extensions).toMatchObject({ code: 'FORBIDDEN', privilege: 'VM.Snapshot' });
  });

  it('the new connections need what their lists need: Storage.Audit for pools, Host.Audit for interfaces', async () => {
    const pools = await gw.query('{ host { storagePoolConnection { totalCount } } }', {}, as('auditor'));
    expect(pools.errors?.[0]?.extensions).toMatchObject({ code: 'FORBIDDEN' });
    const ifaces = await gw.query('{ host { interfaceConnection { totalCount } } }', {}, as('auditor'));
    expect(ifaces.errors?.[0]?.extensions).toMatchObject({ code: 'FORBIDDEN', privilege: 'Host.Audit' });
    // A domain it cannot see has no snapshots to page: the domain is NOT_FOUND.
    const hidden = await gw.query(
      '{ domain(ref: { name: "db" }) { snapshotConnection { totalCount } } }',
      {},
      as('webOnly'),
    );
    expect(hidden.errors?.[0]?.extensions).toMatchObject({ code: 'NOT_FOUND' });
    const seen = await gw.ok<{ domain: { snapshotConnection: { totalCount: number } } }>(
      '{ domain(ref: { name: "web" }) { snapshotConnection { totalCount } } }',
      {},
      as('webOnly'),
    );
    expect(seen.domain.snapshotConnection.totalCount).toBe(0);
  });
});
