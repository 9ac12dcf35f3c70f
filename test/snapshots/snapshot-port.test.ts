import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Connection, Domain, type DomainSnapshot, LibvirtError, NulByteError } from '../../src/libvirt/index.ts';
import { native } from '../../src/libvirt/native.ts';
import { buildSnapshotXml } from '../../src/libvirt/xml/snapshot-xml.ts';
import { openFixtureHost } from '../support/test-host.ts';

const SNAPSHOT_CALLS = [
  'domainSnapshotCreateXML',
  'domainListAllSnapshots',
  'domainSnapshotLookupByName',
  'domainSnapshotCurrent',
  'domainHasCurrentSnapshot',
  'domainSnapshotDetailsMany',
  'domainSnapshotGetXMLDesc',
  'domainSnapshotGetParent',
  'domainSnapshotIsCurrent',
  'domainSnapshotListAllChildren',
  'domainRevertToSnapshot',
  'domainSnapshotDelete',
] as const;

describe('snapshot port on the test driver', () => {
  let host: Connection;
  let web: Domain;
  const take = (name: string) => web.createSnapshot(buildSnapshotXml({ name }));

  beforeAll(async () => {
    host = await openFixtureHost();
    web = await host.domainByName('web');
  });
  afterAll(async () => {
    await host.close();
  });

  it('exports every snapshot call of the Native interface', () => {
    for (const name of SNAPSHOT_CALLS) expect(typeof native[name], name).toBe('function');
  });

  it('walks the tree: parent, children, current', async () => {
    const root = await take('root');
    const a = await take('a');
    await root.revert();
    const b = await take('b');
    expect((await a.parent()).name).toBe('root');
    expect((await root.children()).map((s) => s.name).sort()).toEqual(['a', 'b']);
    expect(await b.isCurrent()).toBe(true);
    expect(await a.isCurrent()).toBe(false);
    expect((await web.currentSnapshot()).name).toBe('b');
    const [details] = await Domain.snapshotDetailsMany([web]);
    expect(
      (details as Array<{ name: string; current: boolean }>).map(({ name, current }) => ({ name, current })),
    ).toEqual(
      expect.arrayContaining([
        { name: 'root', current: false },
        { name: 'a', current: false },
        { name: 'b', current: true },
      ]),
    );
    const rootParent = await root.parent().catch((e: unknown) => e);
    expect(rootParent).toBeInstanceOf(LibvirtError);
    expect((rootParent as LibvirtError).codeName).toBe('NO_DOMAIN_SNAPSHOT');
    await root.delete(['CHILDREN']);
    expect(await web.hasCurrentSnapshot()).toBe(false);
  });

  it('reverts into the state asked for', async () => {
    const s: DomainSnapshot = await take('running');
    await s.revert(['PAUSED']);
    expect((await web.state()).state).toBe('PAUSED');
    await s.revert(['RUNNING']);
    expect((await web.state()).state).toBe('RUNNING');
    await s.delete();
  });

  it('deletes only the children when asked', async () => {
    const parent = await take('parent');
    await take('kid');
    await parent.delete(['CHILDREN_ONLY']);
    expect((await web.snapshots()).map((x) => x.name)).toEqual(['parent']);
    await parent.delete();
  });

  it('refuses a NUL byte before libvirt sees it', async () => {
    await expect(web.snapshotByName('x\u0000y')).rejects.toBeInstanceOf(NulByteError);
    await expect(web.createSnapshot('<domainsnapshot>\u0000</domainsnapshot>')).rejects.toBeInstanceOf(NulByteError);
  });

  it('reads every domain of a request in one binding call, a failing domain in its own slot', async () => {
    const db = await host.domainByName('db');
    await take('only-web');
    await db.undefine();
    const [webDetails, dbDetails] = await Domain.snapshotDetailsMany([web, db]);
    expect((webDetails as Array<{ name: string }>).map((d) => d.name)).toEqual(['only-web']);
    expect(dbDetails).toBeInstanceOf(LibvirtError);
    await (await web.snapshotByName('only-web')).delete();
  });
});
