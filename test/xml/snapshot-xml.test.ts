import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Connection, Domain } from '../../src/libvirt/index.ts';
import { buildSnapshotXml, parseSnapshotXml } from '../../src/libvirt/xml/snapshot-xml.ts';
import { buildXml, element, XmlError } from '../../src/libvirt/xml/xml-codec.ts';
import { openFixtureHost } from '../support/test-host.ts';
import { readXmlFixture } from './xml-fixtures.ts';

describe('snapshot XML', () => {
  it("parses a child snapshot as libvirt's test driver wrote it", () => {
    expect(parseSnapshotXml(readXmlFixture('test-snapshot-child.xml'))).toEqual({
      name: 'after-upgrade',
      description: undefined,
      creationTime: new Date(1796276621 * 1000),
      state: 'running',
      parent: 'base',
      memory: 'internal',
      memoryFile: undefined,
      disks: [{ name: 'vda', snapshot: 'internal', sourceFile: undefined }],
      diskOnly: false,
    });
  });

  it('reads a disk-only snapshot with external overlays', () => {
    const parsed = parseSnapshotXml(
      buildXml(
        element('domainsnapshot', {}, [
          element('name', {}, 'offline'),
          element('state', {}, 'disk-snapshot'),
          element('creationTime', {}, 1796276621),
          element('memory', { snapshot: 'no' }),
          element('disks', {}, [
            element('disk', { name: 'vda', snapshot: 'external', type: 'file' }, [
              element('source', { file: '/var/lib/libvirt/images/vda.after' }),
            ]),
          ]),
        ]),
      ),
    );
    expect(parsed).toMatchObject({
      state: 'disk-snapshot',
      diskOnly: true,
      memory: 'no',
      disks: [{ name: 'vda', snapshot: 'external', sourceFile: '/var/lib/libvirt/images/vda.after' }],
    });
  });

  it('refuses a document that is not a snapshot or has an unknown state', () => {
    expect(() => parseSnapshotXml('<domain><name>x</name></domain>')).toThrow(XmlError);
    expect(() => parseSnapshotXml('<domainsnapshot><name>x</name><state>melted</state></domainsnapshot>')).toThrow(
      /unknown state "melted"/,
    );
  });

  it('escapes what it builds', () => {
    const xml = buildSnapshotXml({ name: 'a<b>&"c', description: '</description><x/>' });
    const parsed = parseSnapshotXml(xml);
    expect(parsed.name).toBe('a<b>&"c');
    expect(parsed.description).toBe('</description><x/>');
    expect(parseSnapshotXml(buildSnapshotXml({ name: 'd', diskOnly: true })).memory).toBe('no');
  });
});

describe('snapshot XML round trip through libvirt', () => {
  let host: Connection;
  let web: Domain;
  beforeAll(async () => {
    host = await openFixtureHost();
    web = await host.domainByName('web');
  });
  afterAll(async () => {
    await host.close();
  });

  it('builds a snapshot that libvirt creates and reads back with the same name and description', async () => {
    const spec = { name: 'nightly <1>', description: 'before "upgrade" & reboot' };
    const snapshot = await web.createSnapshot(buildSnapshotXml(spec));
    const read = parseSnapshotXml(await snapshot.xml());
    expect(read).toMatchObject({ ...spec, diskOnly: false, parent: undefined });
    expect(read.state).toBe((await web.state()).state.toLowerCase());
    expect(Math.abs((read.creationTime as Date).getTime() - Date.now())).toBeLessThan(60_000);

    const child = await web.createSnapshot(buildSnapshotXml({ name: 'child' }));
    expect(parseSnapshotXml(await child.xml())).toMatchObject({ name: 'child', parent: spec.name });
    await snapshot.delete(['CHILDREN']);
    expect(await web.snapshots()).toEqual([]);
  });
});
