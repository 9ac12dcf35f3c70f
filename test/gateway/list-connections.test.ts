import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildEthernetInterfaceXml } from '../../src/libvirt/xml/interface-xml.ts';
import { buildStoragePoolXml } from '../../src/libvirt/xml/storage-pool-xml.ts';
import { buildVolumeXml } from '../../src/libvirt/xml/volume-xml.ts';
import { startGateway, type TestGateway } from '../support/gateway.ts';
import { fixtureUri } from '../support/test-host.ts';

// The connections issue 23 added beside the plain lists: storage pools, host interfaces and a
// domain's snapshots, walked one per page; libvirt's own lists are the oracle.

let gw: TestGateway;
beforeAll(async () => {
  gw = await startGateway({ fixture: fixtureUri });
  const c = await gw.registry.connection('fixture');
  for (const name of ['p-c', 'p-a', 'p-b'])
    await c.defineStoragePool(buildStoragePoolXml({ type: 'dir', name, targetPath: `/${name}` }));
  const pool = await c.storagePoolByName('default-pool');
  for (const [name, mib] of [
    ['v-small', 1n],
    ['v-big', 64n],
    ['v-mid', 8n],
    ['v-mid2', 8n],
  ] as const)
    await pool.createVolume(buildVolumeXml({ name, capacityBytes: mib << 20n }));
  for (const name of ['eth9', 'eth3'])
    await c.defineInterface(buildEthernetInterfaceXml({ name, startMode: 'none', ipv4: { dhcp: true } }));
  const db = await c.domainByName('db');
  for (const name of ['s-b', 's-a', 's-c'])
    await db.createSnapshot(`<domainsnapshot><name>${name}</name></domainsnapshot>`);
});
afterAll(async () => {
  await gw.close();
});

/** Every name of a connection at `path` (host.<field> or domain.<field>), one page of 1 at a time. */
async function walk(selection: (after: string | null) => string, pick: (data: never) => Connection): Promise<string[]> {
  const names: string[] = [];
  let after: string | null = null;
  for (let i = 0; i < 20; i++) {
    const page = pick(await gw.ok(selection(after)));
    expect(page.totalCount).toBeGreaterThanOrEqual(page.nodes.length);
    names.push(...page.nodes.map((n) => n.name));
    if (!page.pageInfo.hasNextPage) return names;
    after = page.pageInfo.endCursor;
  }
  throw new Error('more pages than objects');
}

interface Connection {
  totalCount: number;
  pageInfo: { hasNextPage: boolean; endCursor: string };
  nodes: Array<{ name: string }>;
}

const sorted = (names: string[]) => [...names].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
const cursor = (after: string | null) => (after === null ? '' : `, after: "${after}"`);
const fields = 'totalCount pageInfo { hasNextPage endCursor } nodes { name }';

describe('connections for every listed kind', () => {
  it('storagePoolConnection pages every pool libvirt has, by name', async () => {
    const walked = await walk(
      (a) => `{ host { storagePoolConnection(first: 1${cursor(a)}) { ${fields} } } }`,
      (d: { host: { storagePoolConnection: Connection } }) => d.host.storagePoolConnection,
    );
    const c = await gw.registry.connection('fixture');
    expect(walked).toEqual(sorted((await c.storagePools()).map((p) => p.name)));
  });

  it('interfaceConnection pages every host interface, and filters like the list', async () => {
    const walked = await walk(
      (a) => `{ host { interfaceConnection(first: 1${cursor(a)}) { ${fields} } } }`,
      (d: { host: { interfaceConnection: Connection } }) => d.host.interfaceConnection,
    );
    const c = await gw.registry.connection('fixture');
    expect(walked).toEqual(sorted((await c.interfaces()).map((i) => i.name)));
    const { host } = await gw.ok<{ host: { interfaceConnection: Connection; interfaces: Array<{ name: string }> } }>(
      `{ host { interfaceConnection(filter: { active: false }) { ${fields} } interfaces(filter: { active: false }) { name } } }`,
    );
    expect(host.interfaceConnection.nodes.map((n) => n.name)).toEqual(sorted(host.interfaces.map((i) => i.name)));
  });

  it('Domain.snapshotConnection pages the domain’s snapshots by name, and rootsOnly keeps the roots', async () => {
    const walked = await walk(
      (a) => `{ domain(ref: { name: "db" }) { snapshotConnection(first: 1${cursor(a)}) { ${fields} } } }`,
      (d: { domain: { snapshotConnection: Connection } }) => d.domain.snapshotConnection,
    );
    const c = await gw.registry.connection('fixture');
    const libvirt = await (await c.domainByName('db')).snapshots();
    expect(walked).toEqual(sorted(libvirt.map((s) => s.name)));
    const roots = await gw.ok<{ domain: { snapshotConnection: Connection } }>(
      `{ domain(ref: { name: "db" }) { snapshotConnection(filter: { rootsOnly: true }) { ${fields} } } }`,
    );
    // Each snapshot was taken on top of the one before: s-b is the only root.
    expect(roots.domain.snapshotConnection.nodes.map((n) => n.name)).toEqual(['s-b']);
  });

  it('volumeConnection(orderBy: CAPACITY DESC) pages the pool’s volumes by libvirt’s capacities, ties by name', async () => {
    const walked = await walk(
      (a) =>
        `{ storagePool(name: "default-pool") { volumeConnection(first: 2, orderBy: { field: CAPACITY, direction: DESC }${cursor(a)}) { ${fields} } } }`,
      (d: { storagePool: { volumeConnection: Connection } }) => d.storagePool.volumeConnection,
    );
    const c = await gw.registry.connection('fixture');
    const volumes = await (await c.storagePoolByName('default-pool')).volumes();
    const rows = await Promise.all(
      volumes.map(async (v) => ({ name: v.name, key: v.key, size: (await v.info()).capacityBytes })),
    );
    // Descending over (capacity, name, key), as the connection promises.
    rows.sort((a, b) =>
      a.size !== b.size
        ? a.size > b.size
          ? -1
          : 1
        : a.name !== b.name
          ? a.name > b.name
            ? -1
            : 1
          : a.key > b.key
            ? -1
            : 1,
    );
    expect(walked).toEqual(rows.map((r) => r.name));
  });

  it('interfaceConnection(orderBy: NAME DESC) is the name order reversed', async () => {
    const asc = await walk(
      (a) => `{ host { interfaceConnection(first: 1${cursor(a)}) { ${fields} } } }`,
      (d: { host: { interfaceConnection: Connection } }) => d.host.interfaceConnection,
    );
    const desc = await walk(
      (a) =>
        `{ host { interfaceConnection(first: 1, orderBy: { field: NAME, direction: DESC }${cursor(a)}) { ${fields} } } }`,
      (d: { host: { interfaceConnection: Connection } }) => d.host.interfaceConnection,
    );
    expect(asc.length).toBeGreaterThan(2);
    expect(desc).toEqual([...asc].reverse());
  });
});
