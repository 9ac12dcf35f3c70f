import { parse, validate } from 'graphql';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createApiToken } from '../../src/auth/authenticator.ts';
import { Domain } from '../../src/libvirt/index.ts';
import { bindingCalls } from '../../src/libvirt/native.ts';
import { buildDomainXml } from '../../src/libvirt/xml/domain-spec-xml.ts';
import { buildNetworkXml } from '../../src/libvirt/xml/network-xml.ts';
import { buildVolumeXml } from '../../src/libvirt/xml/volume-xml.ts';
import { createListCostRule } from '../../src/limits/use-list-cost.ts';
import { schema } from '../../src/schema/index.ts';
import { startGateway, type TestGateway } from '../support/gateway.ts';
import { fixtureUri } from '../support/test-host.ts';

// 5,000 test-driver domains (the fixture's web and db, and 4,998 defined here in shuffled order):
// walked by pages of 50 forwards and backwards, with binding calls counted per page.

const TOTAL = 5_000;
const admin = tokenEntry('admin');
const team = tokenEntry('team-a');

function tokenEntry(name: string) {
  const { secret, sha256 } = createApiToken();
  return { bearer: `Bearer ${secret}`, entry: { name, sha256, groups: [] } };
}

interface Page {
  totalCount: number;
  pageInfo: { startCursor: string; endCursor: string; hasNextPage: boolean; hasPreviousPage: boolean };
  edges: Array<{ cursor: string; node: { id: string; name: string; uuid: string } }>;
}

const PAGE = `query ($first: Int, $after: String, $last: Int, $before: String, $filter: DomainFilter) {
  host { domainConnection(first: $first, after: $after, last: $last, before: $before, filter: $filter) {
    totalCount pageInfo { startCursor endCursor hasNextPage hasPreviousPage }
    edges { cursor node { id name uuid } } } } }`;

/** Code-unit order of (name, uuid), the order the connection promises. */
function byNameThenUuid(a: { name: string; uuid: string }, b: { name: string; uuid: string }): number {
  if (a.name !== b.name) return a.name < b.name ? -1 : 1;
  return a.uuid < b.uuid ? -1 : a.uuid > b.uuid ? 1 : 0;
}

let gw: TestGateway;
/** Every domain as the plain list shows it, sorted as the connection should be. */
let all: Array<{ name: string; uuid: string; state: string; autostart: boolean; persistent: boolean }>;

async function query<D>(q: string, variables: Record<string, unknown> = {}, bearer = admin.bearer) {
  const res = await gw.query<D>(q, variables, { authorization: bearer });
  expect(res.errors).toBeUndefined();
  return res.data as D;
}

async function page(variables: Record<string, unknown>, bearer = admin.bearer): Promise<{ page: Page; calls: number }> {
  const before = bindingCalls.total;
  const data = await query<{ host: { domainConnection: Page } }>(PAGE, variables, bearer);
  return { page: data.host.domainConnection, calls: bindingCalls.total - before };
}

beforeAll(async () => {
  gw = await startGateway({ fixture: fixtureUri }, undefined, {
    config: {
      auth: {
        tokens: [admin.entry, team.entry],
        grants: [
          { identity: 'admin', role: 'admin' },
          { identity: 'team-a', role: 'operator', domains: ['team-a-*'] },
        ],
      },
    },
  });
  const c = await gw.registry.connection('fixture');
  // Shuffled so that libvirt's own list order is not the name order.
  const names = Array.from({ length: TOTAL - 2 }, (_, i) =>
    i % 10 === 0 ? `team-a-${String(i).padStart(4, '0')}` : `vm-${String(i).padStart(4, '0')}`,
  ).sort(() => Math.random() - 0.5);
  for (let i = 0; i < names.length; i += 500) {
    const defined = await Promise.all(
      names
        .slice(i, i + 500)
        .map((name) => c.defineDomain(buildDomainXml({ type: 'test', name, memoryKiB: 65536n, vcpus: 1 }))),
    );
    await Promise.all(
      defined.map(async (d, j) => {
        if ((i + j) % 4 === 0) await d.start();
        if ((i + j) % 7 === 0) await d.setAutostart(true);
      }),
    );
  }
  const data = await query<{ host: { domains: typeof all } }>(
    '{ host { domains { name uuid state autostart persistent } } }',
  );
  all = data.host.domains.sort(byNameThenUuid);
  expect(all).toHaveLength(TOTAL);
}, 120_000);

afterAll(async () => {
  await gw?.close();
});

describe('Host.domainConnection', () => {
  it('walks 5,000 domains by pages of 50 forwards, each exactly once, in name order, each page costing no more binding calls than the whole list', async () => {
    const listBefore = bindingCalls.total;
    await query('{ host { domains { id name uuid } } }');
    const listCalls = bindingCalls.total - listBefore;

    const seen: string[] = [];
    let after: string | null = null;
    for (let i = 0; i < TOTAL / 50; i++) {
      const { page: p, calls } = await page({ first: 50, after });
      expect(calls).toBeLessThanOrEqual(listCalls);
      expect(p.totalCount).toBe(TOTAL);
      expect(p.edges).toHaveLength(50);
      expect(p.pageInfo.hasPreviousPage).toBe(after !== null);
      expect(p.pageInfo.hasNextPage).toBe(i < TOTAL / 50 - 1);
      expect(p.pageInfo.endCursor).toBe(p.edges.at(-1)?.cursor);
      seen.push(...p.edges.map((e) => e.node.uuid));
      after = p.pageInfo.endCursor;
    }
    expect(new Set(seen).size).toBe(TOTAL);
    expect(seen).toEqual(all.map((d) => d.uuid));
    const { page: end } = await page({ first: 50, after });
    expect(end.edges).toEqual([]);
    expect(end.pageInfo.hasNextPage).toBe(false);
  }, 120_000);

  it('walks them backwards with last/before in the same order', async () => {
    const seen: string[] = [];
    let before: string | null = null;
    for (let i = 0; i < TOTAL / 50; i++) {
      const { page: p } = await page({ last: 50, before });
      expect(p.edges).toHaveLength(50);
      expect(p.pageInfo.hasPreviousPage).toBe(i < TOTAL / 50 - 1);
      seen.unshift(...p.edges.map((e) => e.node.uuid));
      before = p.pageInfo.startCursor;
    }
    expect(seen).toEqual(all.map((d) => d.uuid));
  }, 120_000);

  it('reads XML only for the domains on the page, in no more binding calls than the whole list makes', async () => {
    const selection = 'name maxVcpus osType';
    const listBefore = bindingCalls.total;
    await query(`{ host { domains { ${selection} } } }`);
    const listCalls = bindingCalls.total - listBefore;
    const definitions = vi.spyOn(Domain, 'definitionsMany');
    try {
      const before = bindingCalls.total;
      const data = await query<{ host: { domainConnection: { edges: Array<{ node: { name: string } }> } } }>(
        `{ host { domainConnection(first: 50, filter: { nameGlob: "vm-*" }) { edges { node { ${selection} } } } } }`,
      );
      const calls = bindingCalls.total - before;
      const asked = definitions.mock.calls.flatMap(([domains]) => domains.map((d) => d.name));
      const onPage = data.host.domainConnection.edges.map((e) => e.node.name);
      expect(onPage).toHaveLength(50);
      expect(asked.sort()).toEqual(onPage.sort());
      expect(calls).toBeLessThanOrEqual(listCalls);
    } finally {
      definitions.mockRestore();
    }
  });

  it('costs the page size, not the assumed list size, in the list-cost rule', () => {
    const cost = (source: string) => {
      const errors = validate(schema, parse(source), [createListCostRule({ maxCost: 0, assumedListSize: 100 })]);
      return errors[0]?.extensions.cost;
    };
    // host 1 + connection 1 + totalCount 1 + edges (1 + 50 × (node 1 + name 1))
    expect(cost('{ host { domainConnection(first: 50) { totalCount edges { node { name } } } } }')).toBe(104);
    expect(cost('{ host { domainConnection(last: 5) { edges { node { name } } } } }')).toBe(13);
    // A variable page size counts as the largest page (100); no size, as the default page (20).
    expect(cost('query ($n: Int) { host { domainConnection(first: $n) { edges { node { name } } } } }')).toBe(203);
    expect(cost('{ host { domainConnection { edges { node { name } } } } }')).toBe(43);
    expect(cost('{ host { domains { name } } }')).toBe(102);
    expect(
      cost(
        '{ host { storagePool(name: "p") { volumeConnection(first: 3) { ...V } } } } fragment V on VolumeConnection { edges { node { name } } }',
      ),
    ).toBe(10);
    // nodes: the page's objects without edges, at the page's size too (host 1 + connection 1 + nodes (1 + 50 × name 1)).
    expect(cost('{ host { domainConnection(first: 50) { nodes { name } } } }')).toBe(53);
  });

  it('answers nodes: the same objects as the edges, in the same order', async () => {
    const data = await query<{
      host: { domainConnection: { nodes: Array<{ name: string }>; edges: Array<{ node: { name: string } }> } };
    }>(
      '{ host { domainConnection(first: 30, filter: { nameGlob: "vm-*" }) { nodes { name } edges { node { name } } } } }',
    );
    const page = data.host.domainConnection;
    expect(page.nodes).toHaveLength(30);
    expect(page.nodes).toEqual(page.edges.map((e) => e.node));
  });

  it('keeps a client’s place when domains are defined and undefined between pages', async () => {
    const c = await gw.registry.connection('fixture');
    const define = (name: string) =>
      c.defineDomain(buildDomainXml({ type: 'test', name, memoryKiB: 65536n, vcpus: 1 }));
    // "cursor-…" sorts before every other name here.
    const made = [await define('cursor-0'), await define('cursor-1')];
    try {
      const { page: first } = await page({ first: 2 });
      expect(first.edges.map((e) => e.node.name)).toEqual(['cursor-0', 'cursor-1']);
      // One domain before the cursor, one right after it, and the cursor's own domain goes.
      made.push(await define('cursor-0a'), await define('cursor-1a'));
      await (made[1] as Domain).undefine();
      made.splice(1, 1);
      const { page: next } = await page({ first: 2, after: first.pageInfo.endCursor });
      expect(next.totalCount).toBe(TOTAL + 3);
      expect(next.edges.map((e) => e.node.name)).toEqual(['cursor-1a', all[0]?.name]);
    } finally {
      for (const d of made) await d.undefine();
    }
  });

  it('filters by name (contains, ignoring case, and glob), state, active, autostart and persistent, with totalCount', async () => {
    /** The first and the last page of 100 under a filter, and its totalCount. */
    const count = async (filter: Record<string, unknown>) => {
      const { page: head } = await page({ first: 100, filter });
      const { page: tail } = await page({ last: 100, filter });
      expect(tail.totalCount).toBe(head.totalCount);
      return {
        total: head.totalCount,
        head: head.edges.map((e) => e.node.name),
        tail: tail.edges.map((e) => e.node.name),
      };
    };
    const expected = (names: string[]) => ({ total: names.length, head: names.slice(0, 100), tail: names.slice(-100) });
    const names = (pick: (d: (typeof all)[number]) => boolean) => all.filter(pick).map((d) => d.name);

    const cases: Array<[Record<string, unknown>, (d: (typeof all)[number]) => boolean]> = [
      [{ nameContains: 'TEAM-A-01' }, (d) => d.name.includes('team-a-01')],
      [{ nameGlob: 'vm-?99?' }, (d) => /^vm-.99.$/.test(d.name)],
      [{ state: ['RUNNING'] }, (d) => d.state === 'RUNNING'],
      [{ state: ['SHUTOFF', 'PAUSED'] }, (d) => d.state === 'SHUTOFF' || d.state === 'PAUSED'],
      [{ active: false }, (d) => d.state === 'SHUTOFF'],
      [{ autostart: true }, (d) => d.autostart],
      [
        { persistent: true, autostart: false, nameGlob: 'vm-1*' },
        (d) => d.persistent && !d.autostart && d.name.startsWith('vm-1'),
      ],
    ];
    for (const [filter, pick] of cases) expect(await count(filter)).toEqual(expected(names(pick)));
    expect(names((d) => d.autostart).length).toBeGreaterThan(500);
  }, 60_000);

  it('matches a client’s glob in linear time and refuses overlong name filters', async () => {
    const c = await gw.registry.connection('fixture');
    const long = await c.defineDomain(
      buildDomainXml({ type: 'test', name: 'a'.repeat(60), memoryKiB: 65536n, vcpus: 1 }),
    );
    try {
      // As a regular expression, this glob backtracks exponentially on 60 a's.
      const { page: none } = await page({ first: 10, filter: { nameGlob: `${'*a'.repeat(30)}*b` } });
      expect(none.totalCount).toBe(0);
      const { page: one } = await page({ first: 10, filter: { nameGlob: `${'*a'.repeat(30)}*` } });
      expect(one.edges.map((e) => e.node.name)).toEqual(['a'.repeat(60)]);
    } finally {
      await long.undefine();
    }
    const res = await gw.query(
      PAGE,
      { first: 1, filter: { nameGlob: '*'.repeat(257) } },
      { authorization: admin.bearer },
    );
    expect(res.errors?.[0]?.extensions).toMatchObject({ code: 'INVALID_INPUT', field: 'filter.nameGlob' });
  });

  it('counts and pages only the domains the caller may see', async () => {
    const visible = all.filter((d) => d.name.startsWith('team-a-'));
    const seen: string[] = [];
    let after: string | null = null;
    do {
      const { page: p } = await page({ first: 50, after }, team.bearer);
      expect(p.totalCount).toBe(visible.length);
      seen.push(...p.edges.map((e) => e.node.name));
      after = p.pageInfo.hasNextPage ? p.pageInfo.endCursor : null;
    } while (after);
    expect(seen).toEqual(visible.map((d) => d.name));
  });

  it('refuses a cursor that is not one of its own, and pages larger than 100', async () => {
    const network = await gw.query<{ host: { networkConnection: { pageInfo: { endCursor: string } } } }>(
      '{ host { networkConnection(first: 1) { pageInfo { endCursor } } } }',
      {},
      { authorization: admin.bearer },
    );
    const foreign = network.data?.host.networkConnection.pageInfo.endCursor;
    for (const [variables, field] of [
      [{ first: 5, after: 'garbage' }, 'after'],
      [{ last: 5, before: foreign }, 'before'],
      [{ first: 101 }, 'first'],
    ] as const) {
      const res = await gw.query(PAGE, variables, { authorization: admin.bearer });
      expect(res.errors?.[0]?.extensions).toMatchObject({ code: 'INVALID_INPUT', field });
    }
  });
});

describe('Host.networkConnection and StoragePool.volumeConnection', () => {
  it('page networks and volumes in name order, forwards and backwards, with filters and totalCount', async () => {
    const c = await gw.registry.connection('fixture');
    for (const name of ['net-c', 'net-a', 'Net-b', 'other']) {
      const n = await c.defineNetwork(buildNetworkXml({ name }));
      if (name !== 'net-a') await n.setAutostart(true);
    }
    const pool = await c.storagePoolByName('default-pool');
    for (const name of ['z.qcow2', 'a.img', 'm.img', 'B.img']) {
      await pool.createVolume(buildVolumeXml({ name, capacityBytes: 1_048_576n }));
    }

    type Named = { totalCount: number; pageInfo: Page['pageInfo']; edges: Array<{ node: { name: string } }> };
    /** Every name a connection field lists, walked two at a time forwards or backwards. */
    const walk = async (field: 'networkConnection' | 'volumeConnection', filter = '', inverted = false) => {
      const names: string[] = [];
      let cursor: string | null = null;
      let total = -1;
      do {
        const args = `${inverted ? 'last: 2, before: $cursor' : 'first: 2, after: $cursor'}${filter}`;
        const selection = `${field}(${args}) {
          totalCount pageInfo { startCursor endCursor hasNextPage hasPreviousPage } edges { node { name } } }`;
        const data = await query<{
          host: { networkConnection?: Named; storagePool?: { volumeConnection: Named } };
        }>(
          field === 'networkConnection'
            ? `query ($cursor: String) { host { ${selection} } }`
            : `query ($cursor: String) { host { storagePool(name: "default-pool") { ${selection} } } }`,
          { cursor },
        );
        const p = (data.host.networkConnection ?? data.host.storagePool?.volumeConnection) as Named;
        total = p.totalCount;
        if (inverted) names.unshift(...p.edges.map((e) => e.node.name));
        else names.push(...p.edges.map((e) => e.node.name));
        const more = inverted ? p.pageInfo.hasPreviousPage : p.pageInfo.hasNextPage;
        cursor = more ? (inverted ? p.pageInfo.startCursor : p.pageInfo.endCursor) : null;
      } while (cursor);
      expect(names).toHaveLength(total);
      return names;
    };

    const allNetworks = ['Net-b', 'lan', 'net-a', 'net-c', 'other'];
    for (const inverted of [false, true]) {
      expect(await walk('networkConnection', '', inverted)).toEqual(allNetworks);
    }
    expect(await walk('networkConnection', ', filter: { nameContains: "NET-" }')).toEqual(['Net-b', 'net-a', 'net-c']);
    expect(await walk('networkConnection', ', filter: { nameGlob: "net-*", autostart: true }')).toEqual(['net-c']);
    expect(await walk('networkConnection', ', filter: { active: true }')).toEqual(['lan']);
    expect(await walk('networkConnection', ', filter: { persistent: true, active: false }')).toEqual([
      'Net-b',
      'net-a',
      'net-c',
      'other',
    ]);

    const existing = await query<{ host: { storagePool: { volumes: Array<{ name: string }> } } }>(
      '{ host { storagePool(name: "default-pool") { volumes { name } } } }',
    );
    const allVolumes = existing.host.storagePool.volumes.map((v) => v.name).sort();
    expect(allVolumes).toEqual(expect.arrayContaining(['B.img', 'a.img', 'm.img', 'web.img', 'z.qcow2']));
    for (const inverted of [false, true]) {
      expect(await walk('volumeConnection', '', inverted)).toEqual(allVolumes);
    }
    expect(await walk('volumeConnection', ', filter: { nameGlob: "*.img" }')).toEqual(
      allVolumes.filter((n) => n.endsWith('.img')),
    );
  });
});
