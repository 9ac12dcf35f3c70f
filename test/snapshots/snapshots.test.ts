import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createApiToken } from '../../src/auth/authenticator.ts';
import { bindingCalls } from '../../src/libvirt/native.ts';
import { startGateway, type TestGateway } from '../support/gateway.ts';
import { fixtureUri } from '../support/test-host.ts';

interface Snap {
  name: string;
  description: string | null;
  creationTime: string | null;
  state: string | null;
  current: boolean;
  diskOnly: boolean;
  parent: { name: string } | null;
  children: Array<{ name: string }>;
}

const SNAP = 'name description creationTime state current diskOnly parent { name } children { name }';

describe('domain snapshots on the test driver', () => {
  let gw: TestGateway;

  async function ok<D = Record<string, unknown>>(query: string, variables?: Record<string, unknown>): Promise<D> {
    const res = await gw.query<D>(query, variables);
    expect(res.errors).toBeUndefined();
    return res.data as D;
  }

  async function snapshotsOf(domain = 'web'): Promise<Snap[]> {
    const data = await ok<{ domain: { snapshots: Snap[] } }>(
      `{ domain(ref: { name: "${domain}" }) { snapshots { ${SNAP} } } }`,
    );
    return data.domain.snapshots;
  }

  const create = (name: string, extra = '') =>
    ok<{ createDomainSnapshot: Snap }>(
      `mutation { createDomainSnapshot(input: { domain: { name: "web" }, snapshot: { name: "${name}"${extra} } }) { ${SNAP} } }`,
    );

  beforeEach(async () => {
    gw = await startGateway({ fixture: fixtureUri });
  });
  afterEach(async () => {
    await gw.close();
  });

  it('creates a snapshot that becomes current, with what was asked', async () => {
    const before = Date.now();
    const { createDomainSnapshot: s } = await create('base', ', description: "before <upgrade> & reboot"');
    expect(s).toMatchObject({
      name: 'base',
      description: 'before <upgrade> & reboot',
      state: 'RUNNING',
      current: true,
      diskOnly: false,
      parent: null,
      children: [],
    });
    expect(Math.abs(Date.parse(s.creationTime as string) - before)).toBeLessThan(60_000);
    expect(await snapshotsOf()).toEqual([s]);
  });

  it('lists the snapshots as a tree with parent, children and the current one', async () => {
    await create('root');
    await create('a');
    await ok('mutation { revertDomainSnapshot(input: { domain: { name: "web" }, name: "root" }) { name } }');
    await create('b');
    await create('b1');
    const data = await ok<{ domain: { snapshots: Snap[]; currentSnapshot: { name: string } } }>(
      `{ domain(ref: { name: "web" }) { currentSnapshot { name }
          snapshots(rootsOnly: true) { name children { name parent { name } children { name } } } } }`,
    );
    expect(data.domain.currentSnapshot).toEqual({ name: 'b1' });
    const [root] = data.domain.snapshots as unknown as Array<{
      name: string;
      children: Array<{ name: string; parent: { name: string }; children: Array<{ name: string }> }>;
    }>;
    expect(data.domain.snapshots).toHaveLength(1);
    expect(root?.name).toBe('root');
    expect(root?.children.map((c) => c.name).sort()).toEqual(['a', 'b']);
    expect(root?.children.find((c) => c.name === 'b')).toEqual({
      name: 'b',
      parent: { name: 'root' },
      children: [{ name: 'b1' }],
    });
    const all = await snapshotsOf();
    expect(all.map((s) => [s.name, s.current]).sort()).toEqual([
      ['a', false],
      ['b', false],
      ['b1', true],
      ['root', false],
    ]);
  });

  it('reads the snapshots of every domain of a request in one binding call', async () => {
    await create('one');
    await ok(
      'mutation { createDomainSnapshot(input: { domain: { name: "db" }, snapshot: { name: "two" } }) { name } }',
    );
    const calls = bindingCalls.byName.get('domainSnapshotDetailsMany') ?? 0;
    const data = await ok<{
      host: { domains: Array<{ name: string; snapshots: Array<{ name: string; state: string }> }> };
    }>('{ host { domains { name snapshots { name state } currentSnapshot { name } } } }');
    expect(bindingCalls.byName.get('domainSnapshotDetailsMany')).toBe(calls + 1);
    expect(Object.fromEntries(data.host.domains.map((d) => [d.name, d.snapshots]))).toEqual({
      web: [{ name: 'one', state: 'RUNNING' }],
      db: [{ name: 'two', state: 'SHUTOFF' }],
    });
  });

  it('reverts to the state the snapshot holds, or the one asked for', async () => {
    await create('up');
    await ok('mutation { destroyDomain(input: { domain: { name: "web" } }) { state } }');
    const state = async () =>
      (await ok<{ domain: { state: string } }>('{ domain(ref: { name: "web" }) { state } }')).domain.state;
    expect(await state()).toBe('SHUTOFF');
    const reverted = await ok<{ revertDomainSnapshot: { state: string; currentSnapshot: { name: string } } }>(
      'mutation { revertDomainSnapshot(input: { domain: { name: "web" }, name: "up" }) { state currentSnapshot { name } } }',
    );
    expect(reverted.revertDomainSnapshot).toEqual({ state: 'RUNNING', currentSnapshot: { name: 'up' } });
    await ok(
      'mutation { revertDomainSnapshot(input: { domain: { name: "web" }, name: "up", paused: true }) { name } }',
    );
    expect(await state()).toBe('PAUSED');
    await ok(
      'mutation { revertDomainSnapshot(input: { domain: { name: "web" }, name: "up", running: true }) { name } }',
    );
    expect(await state()).toBe('RUNNING');
    const both = await gw.query(
      'mutation { revertDomainSnapshot(input: { domain: { name: "web" }, name: "up", running: true, paused: true }) { name } }',
    );
    expect(both.errors?.[0]?.extensions).toMatchObject({ code: 'INVALID_INPUT', field: 'paused' });
  });

  it('deletes a snapshot with its children, or only its children', async () => {
    await create('p');
    await create('c1');
    await create('c2');
    const kept = await ok<{ deleteDomainSnapshot: { domain: { snapshots: Array<{ name: string }> } } }>(
      'mutation { deleteDomainSnapshot(input: { domain: { name: "web" }, name: "c1", childrenOnly: true }) { domain { snapshots { name } } } }',
    );
    expect(kept.deleteDomainSnapshot.domain.snapshots.map((s) => s.name).sort()).toEqual(['c1', 'p']);
    await create('c3');
    const gone = await ok<{ deleteDomainSnapshot: { domain: { snapshots: unknown[]; currentSnapshot: unknown } } }>(
      'mutation { deleteDomainSnapshot(input: { domain: { name: "web" }, name: "p", children: true }) { domain { snapshots { name } currentSnapshot { name } } } }',
    );
    expect(gone.deleteDomainSnapshot.domain).toEqual({ snapshots: [], currentSnapshot: null });
  });

  it('deleting one snapshot hangs its children from its parent', async () => {
    await create('g');
    await create('m');
    await create('k');
    await ok('mutation { deleteDomainSnapshot(input: { domain: { name: "web" }, name: "m" }) { deletedId } }');
    const k = (await snapshotsOf()).find((s) => s.name === 'k');
    expect(k?.parent).toEqual({ name: 'g' });
  });

  it('answers NOT_FOUND for a snapshot the domain does not have, and changes nothing', async () => {
    await create('only');
    for (const m of [
      'revertDomainSnapshot(input: { domain: { name: "web" }, name: "missing" })',
      'deleteDomainSnapshot(input: { domain: { name: "web" }, name: "missing" })',
    ]) {
      const res = await gw.query(`mutation { ${m} { __typename } }`);
      expect(res.errors?.[0]?.extensions).toMatchObject({ code: 'NOT_FOUND' });
      expect(res.errors?.[0]?.message).toContain('missing');
    }
    expect((await snapshotsOf()).map((s) => s.name)).toEqual(['only']);
  });

  it('refuses bad input with INVALID_INPUT before libvirt sees it', async () => {
    await create('keep');
    const nul = await gw.query(
      'mutation ($name: String!) { deleteDomainSnapshot(input: { domain: { name: "web" }, name: $name }) { deletedId } }',
      { name: 'keep\u0000x' },
    );
    expect(nul.errors?.[0]?.extensions).toMatchObject({ code: 'INVALID_INPUT' });
    const badName = await gw.query(
      'mutation { createDomainSnapshot(input: { domain: { name: "web" }, snapshot: { name: "../etc" } }) { name } }',
    );
    expect(badName.errors?.[0]?.extensions).toMatchObject({ code: 'INVALID_INPUT', field: 'snapshot.name' });
    const neither = await gw.query('mutation { createDomainSnapshot(input: { domain: { name: "web" } }) { name } }');
    expect(neither.errors?.[0]?.extensions).toMatchObject({ code: 'INVALID_INPUT' });
    const malformed = await gw.query(
      'mutation ($xml: String!) { createDomainSnapshot(input: { domain: { name: "web" }, xml: $xml }) { name } }',
      { xml: '<domainsnapshot><name>x</name>' },
    );
    expect(malformed.errors?.[0]?.extensions).toMatchObject({ code: 'INVALID_INPUT', field: 'xml' });
    expect((await snapshotsOf()).map((s) => s.name)).toEqual(['keep']);
  });

  it('takes a snapshot from XML, and refuses XML that writes outside the host’s storage', async () => {
    const created = await ok<{ createDomainSnapshot: Snap }>(
      'mutation ($xml: String!) { createDomainSnapshot(input: { domain: { name: "web" }, xml: $xml }) { name description } }',
      { xml: '<domainsnapshot><name>from-xml</name><description>raw</description></domainsnapshot>' },
    );
    expect(created.createDomainSnapshot).toMatchObject({ name: 'from-xml', description: 'raw' });
    for (const xml of [
      "<domainsnapshot><name>evil</name><memory snapshot='external' file='/etc/cron.d/evil'/></domainsnapshot>",
      "<domainsnapshot><name>evil</name><disks><disk name='vda' snapshot='external'><source file='/root/.ssh/authorized_keys'/></disk></disks></domainsnapshot>",
    ]) {
      const res = await gw.query(
        'mutation ($xml: String!) { createDomainSnapshot(input: { domain: { name: "web" }, xml: $xml }) { name } }',
        { xml },
      );
      expect(res.errors?.[0]?.extensions).toMatchObject({ code: 'UNSAFE_INPUT', field: 'xml' });
    }
    // A disk named by its target is no host path.
    const byTarget = await gw.query(
      'mutation ($xml: String!) { createDomainSnapshot(input: { domain: { name: "web" }, xml: $xml }) { name } }',
      { xml: "<domainsnapshot><name>by-target</name><disks><disk name='vda' snapshot='no'/></disks></domainsnapshot>" },
    );
    expect(byTarget.errors?.[0]?.extensions?.code).not.toBe('UNSAFE_INPUT');
    expect((await snapshotsOf()).map((s) => s.name)).toContain('from-xml');
    expect((await snapshotsOf()).map((s) => s.name)).not.toContain('evil');
  });
});

describe('who may snapshot', () => {
  const tokens = { viewer: createApiToken(), operator: createApiToken() };
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startGateway({ fixture: fixtureUri }, undefined, {
      config: {
        auth: {
          tokens: Object.entries(tokens).map(([name, t]) => ({ name, sha256: t.sha256 })),
          grants: [
            { identity: 'viewer', role: 'viewer' },
            { identity: 'operator', role: 'operator' },
          ],
        },
      },
    });
  });
  afterAll(async () => {
    await gw.close();
  });
  const as = (who: keyof typeof tokens) => (query: string) =>
    gw.query(query, undefined, { authorization: `Bearer ${tokens[who].secret}` });
  const names = async () =>
    (
      (await as('viewer')('{ domain(ref: { name: "web" }) { snapshots { name } } }')).data as {
        domain: { snapshots: Array<{ name: string }> };
      }
    ).domain.snapshots.map((s) => s.name);

  it('an operator creates, reverts and deletes; a viewer is FORBIDDEN naming VM.Snapshot and nothing changes', async () => {
    const create =
      'mutation { createDomainSnapshot(input: { domain: { name: "web" }, snapshot: { name: "ops" } }) { name } }';
    const revert = 'mutation { revertDomainSnapshot(input: { domain: { name: "web" }, name: "ops" }) { name } }';
    const remove = 'mutation { deleteDomainSnapshot(input: { domain: { name: "web" }, name: "ops" }) { deletedId } }';

    expect((await as('operator')(create)).errors).toBeUndefined();
    expect(await names()).toEqual(['ops']);
    for (const query of [create.replace('"ops"', '"viewer-made"'), revert, remove]) {
      const res = await as('viewer')(query);
      expect(res.errors?.[0]?.extensions).toMatchObject({ code: 'FORBIDDEN', privilege: 'VM.Snapshot' });
      expect(res.errors?.[0]?.message).toContain('VM.Snapshot');
    }
    expect(await names()).toEqual(['ops']);
    expect((await as('operator')(revert)).errors).toBeUndefined();
    expect((await as('operator')(remove)).errors).toBeUndefined();
    expect(await names()).toEqual([]);
  });
});
