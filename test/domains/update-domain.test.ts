import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startGateway, type TestGateway } from '../support/gateway.ts';
import { fixtureUri } from '../support/test-host.ts';

let gw: TestGateway;
beforeEach(async () => {
  gw = await startGateway({ fixture: fixtureUri });
});
afterEach(async () => {
  await gw.close();
});

/** The persistent definition and its digest, as libvirt has them now. */
async function definition(name: string): Promise<{ xml: string; configDigest: string; uuid: string }> {
  const d = await gw.ok<{ domain: { xml: string; configDigest: string; uuid: string } }>(
    'query($n: String!) { domain(ref: { name: $n }) { xml(inactive: true) configDigest uuid } }',
    { n: name },
  );
  return d.domain;
}

const UPDATE = `mutation($xml: String!, $digest: String, $name: String!) {
  updateDomain(input: { domain: { name: $name }, xml: $xml, expectedDigest: $digest }) {
    xml previousXml configDigest pendingRestart domain { name uuid description vcpus maxVcpus configDigest } } }`;

describe('updateDomain: a whole new definition, as virsh edit', () => {
  it('redefines a stopped domain in place with the digest it read, keeping its UUID', async () => {
    const before = await definition('db');
    const edited = before.xml
      .replace(/<vcpu([^>]*)>\d+<\/vcpu>/, '<vcpu$1>2</vcpu>')
      .replace('</name>', '</name>\n  <description>edited whole</description>');
    const res = await gw.ok<{ updateDomain: Record<string, unknown> & { domain: Record<string, unknown> } }>(UPDATE, {
      xml: edited,
      digest: before.configDigest,
      name: 'db',
    });
    const after = await definition('db');
    expect(res.updateDomain.domain).toMatchObject({ name: 'db', uuid: before.uuid, description: 'edited whole' });
    expect(res.updateDomain.previousXml).toBe(before.xml);
    expect(res.updateDomain.xml).toBe(after.xml);
    expect(after.xml).toContain('<description>edited whole</description>');
    expect(after.xml).toMatch(/<vcpu[^>]*>2<\/vcpu>/);
    expect(after.configDigest).not.toBe(before.configDigest);
    expect(res.updateDomain.configDigest).toBe(after.configDigest);
    // db is shut off in the fixture: nothing waits for a boot.
    expect(res.updateDomain.pendingRestart).toEqual([]);
  });

  it('fills in the UUID when the document leaves it out', async () => {
    const before = await definition('db');
    const withoutUuid = before.xml
      .replace(/\s*<uuid>[^<]*<\/uuid>/, '')
      .replace(/<vcpu([^>]*)>\d+<\/vcpu>/, '<vcpu$1>3</vcpu>');
    await gw.ok(UPDATE, { xml: withoutUuid, name: 'db' });
    const after = await definition('db');
    expect(after.uuid).toBe(before.uuid);
    expect(after.xml).toMatch(/<vcpu[^>]*>3<\/vcpu>/);
  });

  it('refuses a stale digest with CONFLICT and changes nothing', async () => {
    const first = await definition('db');
    await gw.ok(UPDATE, { xml: first.xml.replace('</name>', '</name><title>moved on</title>'), name: 'db' });
    const moved = await definition('db');
    const res = await gw.query(UPDATE, {
      xml: first.xml.replace('</name>', '</name><title>lost update</title>'),
      digest: first.configDigest,
      name: 'db',
    });
    expect(res.errors?.[0]?.extensions).toMatchObject({ code: 'CONFLICT', field: 'expectedDigest' });
    expect(await definition('db')).toEqual(moved);
  });

  it('refuses another name, another UUID, a document that is no domain, and changes nothing', async () => {
    const before = await definition('db');
    const cases: Array<[string, RegExp]> = [
      [before.xml.replace('<name>db</name>', '<name>db2</name>'), /must keep the name db/],
      [
        before.xml.replace(/<uuid>[^<]*<\/uuid>/, '<uuid>6695eb01-f6a4-8304-79aa-97f2502e193f</uuid>'),
        /must keep the UUID/,
      ],
      ['<network><name>db</name></network>', /<domain> element/],
      ['<domain type="test"><name>db</name>', /./],
    ];
    for (const [xml, message] of cases) {
      const res = await gw.query(UPDATE, { xml, name: 'db' });
      expect(res.errors?.[0]?.extensions?.code, xml).toBe('INVALID_INPUT');
      expect(res.errors?.[0]?.message).toMatch(message);
    }
    expect(await definition('db')).toEqual(before);
  });

  it('passes what the new definition adds through the host-safety policy', async () => {
    const before = await definition('db');
    const disk = "<disk type='file' device='disk'><source file='/etc/shadow'/><target dev='vdz' bus='virtio'/></disk>";
    const res = await gw.query(UPDATE, { xml: before.xml.replace('<devices>', `<devices>${disk}`), name: 'db' });
    expect(res.errors?.[0]?.extensions).toMatchObject({ code: 'UNSAFE_INPUT' });
    expect(await definition('db')).toEqual(before);
  });

  it('says which changes of a running domain wait for its next boot', async () => {
    const before = await definition('web');
    const res = await gw.ok<{ updateDomain: { pendingRestart: string[] } }>(UPDATE, {
      xml: before.xml
        .replace(/<vcpu([^>]*)>\d+<\/vcpu>/, '<vcpu$1>1</vcpu>')
        .replace('</name>', '</name><title>t</title>'),
      digest: before.configDigest,
      name: 'web',
    });
    expect(res.updateDomain.pendingRestart).toEqual(['title', 'vcpu']);
  });
});

describe('configureDomain with a digest', () => {
  it('applies with the current digest and refuses a stale one', async () => {
    const { configDigest } = await definition('db');
    const res = await gw.ok<{ configureDomain: { configDigest: string } }>(
      'mutation($d: String) { configureDomain(input: { domain: { name: "db" }, config: { vcpus: 2 }, expectedDigest: $d }) { configDigest } }',
      { d: configDigest },
    );
    expect(res.configureDomain.configDigest).toBe((await definition('db')).configDigest);
    const stale = await gw.query(
      'mutation($d: String) { configureDomain(input: { domain: { name: "db" }, config: { vcpus: 3 }, expectedDigest: $d }) { configDigest } }',
      { d: configDigest },
    );
    expect(stale.errors?.[0]?.extensions?.code).toBe('CONFLICT');
    expect((await definition('db')).xml).toMatch(/<vcpu[^>]*>2<\/vcpu>/);
  });
});
