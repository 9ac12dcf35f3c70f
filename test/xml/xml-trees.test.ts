import { readdirSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Connection, Domain } from '../../src/libvirt/index.ts';
import { parseDomainXml, parseDomainXmls } from '../../src/libvirt/xml/domain-xml.ts';
import { documentElement, parseXmlNodes, XmlError, type XmlNode } from '../../src/libvirt/xml/xml-codec.ts';
import { parseRoots } from '../../src/libvirt/xml/xml-trees.ts';
import { readXmlFixture } from './xml-fixtures.ts';

const FIXTURES = readdirSync(new URL('../fixtures/xml/', import.meta.url)).filter((f) => f.endsWith('.xml'));

/** fast-xml-parser's tree without what the read parser drops: comments, and indentation between elements. */
function withoutIndentation(node: XmlNode): XmlNode {
  const out: XmlNode = {};
  for (const [key, value] of Object.entries(node)) {
    if (!Array.isArray(value)) {
      out[key] = value;
      continue;
    }
    const children = value as XmlNode[];
    const hasElements = children.some((c) => Object.keys(c).some((k) => k !== '#text' && k !== '#comment'));
    out[key] = children
      .filter((c) => !('#comment' in c))
      .filter((c) => !(hasElements && typeof c['#text'] === 'string' && c['#text'].trim() === ''))
      .map(withoutIndentation);
  }
  return out;
}

const TRICKY_DOMAIN = `<domain type='kvm' xmlns:virtql='urn:virtql'>
  <name>a &amp; b &lt;c&gt; &#233;t&#xE9; ünïcødé</name>
  <title>  spaced title  </title>
  <description><![CDATA[raw <markup> & "quotes"]]></description>
  <memory unit='GiB'>2</memory>
  <vcpu current='1'>4</vcpu>
  <metadata><virtql:note virtql:by='x'>tab\there "q" \\ back</virtql:note></metadata>
  <os><type arch='x86_64'>hvm</type><boot dev='hd'/><boot dev='network'/></os>
  <!-- a comment -->
  <devices>
    <disk type='file' device='disk'><source file='/var/lib/a b/&quot;x&quot;.img'/><target dev='vda' bus='virtio'/></disk>
    <interface type='network'><mac address='52:54:00:00:00:01'/><source network='lan'/><model type='virtio'/></interface>
  </devices>
</domain>`;

describe('parseRoots: libxml2 on the pool, for reads', () => {
  it.each(FIXTURES)('gives the tree parseRoot gives for %s, less comments and indentation', async (file) => {
    const xml = readXmlFixture(file);
    const expected = documentElement(parseXmlNodes(xml));
    const [root] = await parseRoots([xml], expected.name);
    expect(root).not.toBeInstanceOf(Error);
    expect((root as typeof expected).node).toEqual(withoutIndentation(expected.node));
  });

  it('reads entities, CDATA, namespaces and non-ASCII text as parseDomainXml does', async () => {
    const [fast] = await parseDomainXmls([TRICKY_DOMAIN]);
    const slow = parseDomainXml(TRICKY_DOMAIN);
    expect(fast).toEqual(slow);
    expect(slow).toMatchObject({ name: 'a & b <c> été ünïcødé', title: '  spaced title  ' });
    expect(slow.disks[0]?.sourcePath).toBe('/var/lib/a b/"x".img');
  });

  it('puts an XmlError in the slot of a bad document and reads the others', async () => {
    const good = readXmlFixture('qemu-domain-live.xml');
    const out = await parseDomainXmls([
      good,
      '<domain type="kvm"><name>x</name>',
      '<!DOCTYPE domain [<!ENTITY big "lol">]><domain>&big;</domain>',
      '<network><name>n</name></network>',
      '<domain type="kvm"><name>no memory</name><os><type>hvm</type></os></domain>',
      good,
    ]);
    expect(out[0]).toEqual(parseDomainXml(good));
    expect(out[5]).toEqual(parseDomainXml(good));
    expect(out[1]).toBeInstanceOf(XmlError);
    expect((out[1] as XmlError).message).toMatch(/^malformed XML at line 1/);
    expect((out[2] as XmlError).message).toMatch(/DOCTYPE/);
    expect((out[3] as XmlError).message).toBe('expected a <domain> document, got <network>');
    expect((out[4] as XmlError).message).toBe('<domain> has no <memory>');
  });

  it('refuses a document nested deeper than 128 elements instead of recursing without end', async () => {
    const deep = `<domain>${'<a>'.repeat(200)}${'</a>'.repeat(200)}</domain>`;
    const [out] = await parseRoots([deep], 'domain');
    expect(out).toBeInstanceOf(XmlError);
    expect((out as XmlError).message).toMatch(/deeper than 128/);
  });

  describe('on the test driver', () => {
    let c: Connection;
    beforeAll(async () => {
      c = await Connection.open('test:///default');
    });
    afterAll(() => c.close());

    it('reads every domain as parseDomainXml does, in one batch of many', async () => {
      const domains = await c.domains();
      const xmls = (await Domain.xmlMany(domains)).filter((x): x is string => typeof x === 'string');
      const many = Array.from({ length: 300 }, (_, i) => xmls[i % xmls.length] as string);
      const fast = await parseDomainXmls(many);
      expect(fast).toEqual(many.map(parseDomainXml));
    });
  });
});
