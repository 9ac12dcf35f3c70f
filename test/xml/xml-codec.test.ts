import { describe, expect, it } from 'vitest';
import { parseCapabilitiesXml } from '../../src/libvirt/xml/capabilities-xml.ts';
import { parseDomainXml, updateDomainXml } from '../../src/libvirt/xml/domain-xml.ts';
import { parseInterfaceXml } from '../../src/libvirt/xml/interface-xml.ts';
import { parseNetworkXml } from '../../src/libvirt/xml/network-xml.ts';
import { parseStoragePoolXml } from '../../src/libvirt/xml/storage-pool-xml.ts';
import { parseVolumeXml } from '../../src/libvirt/xml/volume-xml.ts';
import {
  buildXml,
  buildXmlNodes,
  documentElement,
  element,
  parseRoot,
  parseXmlNodes,
  toBytes,
  toKiB,
  unitScale,
  XmlError,
} from '../../src/libvirt/xml/xml-codec.ts';

describe('sizes', () => {
  it.each([
    ['b', 1n],
    ['bytes', 1n],
    ['byte', 1n],
    ['KB', 1000n],
    ['K', 1024n],
    ['KiB', 1024n],
    ['k', 1024n],
    ['kib', 1024n],
    ['MB', 1000n ** 2n],
    ['M', 1024n ** 2n],
    ['MiB', 1024n ** 2n],
    ['GB', 1000n ** 3n],
    ['G', 1024n ** 3n],
    ['GiB', 1024n ** 3n],
    ['TB', 1000n ** 4n],
    ['T', 1024n ** 4n],
    ['TiB', 1024n ** 4n],
    ['PB', 1000n ** 5n],
    ['P', 1024n ** 5n],
    ['PiB', 1024n ** 5n],
    ['EB', 1000n ** 6n],
    ['E', 1024n ** 6n],
    ['EiB', 1024n ** 6n],
  ])('reads unit %s as libvirt does', (unit, scale) => {
    expect(unitScale(unit)).toBe(scale);
    expect(toBytes('3', unit)).toBe(3n * scale);
  });

  it('defaults to bytes for storage and KiB for memory, and rounds memory up to whole KiB', () => {
    expect(toBytes('4096')).toBe(4096n);
    expect(toKiB('4096')).toBe(4096n);
    expect(toKiB('1', 'MiB')).toBe(1024n);
    expect(toKiB('1', 'KB')).toBe(1n);
    expect(toKiB('1025', 'b')).toBe(2n);
    expect(toKiB(2n, 'GiB')).toBe(2n * 1024n * 1024n);
  });

  it('keeps all 64 bits', () => {
    expect(toBytes('18446744073709551615', 'bytes')).toBe(2n ** 64n - 1n);
    expect(toBytes('9007199254740993')).toBe(2n ** 53n + 1n);
    expect(toKiB('16', 'EiB')).toBe(2n ** 64n / 1024n);
  });

  it('refuses unknown units and values that are not unsigned integers', () => {
    expect(() => toBytes('1', 'KiBB')).toThrow(XmlError);
    expect(() => toBytes('1', 'Z')).toThrow(/unknown size unit "Z"/);
    for (const bad of ['', ' ', '-1', '1.5', '0x10', '1e3', '12abc']) {
      expect(() => toBytes(bad), bad).toThrow(XmlError);
    }
  });
});

describe('malformed XML', () => {
  const parsers = {
    parseDomainXml,
    parseNetworkXml,
    parseInterfaceXml,
    parseStoragePoolXml,
    parseVolumeXml,
    parseCapabilitiesXml,
    update: (xml: string) => updateDomainXml(xml, { vcpus: 1 }),
  };

  it.each(Object.entries(parsers))('%s throws XmlError saying what is wrong', (_name, parse) => {
    const cases: [string, RegExp][] = [
      ['', /malformed XML.*Start tag expected/],
      ['<domain><name>x</domain>', /malformed XML at line 1, column \d+: .*closing tag/],
      ['<domain>\n  <name>x</name>\n', /malformed XML at line 1, column 1: Unclosed tag 'domain'/],
      ["<domain type='a' type='b'/>", /malformed XML.*Attribute 'type' is repeated/],
      ['<domain>a & b</domain>', /malformed XML.*'&'/],
      ['not xml', /malformed XML.*'n'/],
      ['<domain/><domain/>', /a second root element <domain>/],
    ];
    for (const [xml, message] of cases) {
      let error: unknown;
      try {
        parse(xml);
      } catch (e) {
        error = e;
      }
      expect(error, xml).toBeInstanceOf(XmlError);
      expect((error as XmlError).name).toBe('XmlError');
      expect((error as XmlError).message, xml).toMatch(message);
    }
  });

  it('reports the line and column of a syntax error', () => {
    try {
      parseXmlNodes('<a>\n  <b>\n</a>');
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(XmlError);
      expect((e as XmlError).line).toBe(3);
      expect((e as XmlError).column).toBeGreaterThan(0);
    }
  });

  it('names the document kind it expected and the required element that is missing', () => {
    expect(() => parseDomainXml('<network><name>n</name></network>')).toThrow(
      /expected a <domain> document, got <network>/,
    );
    expect(() => parseVolumeXml('<volume><capacity>1</capacity></volume>')).toThrow(/<volume> has no <name>/);
    expect(() => parseDomainXml("<domain type='kvm'><name>x</name><os><type>hvm</type></os></domain>")).toThrow(
      /<domain> has no <memory>/,
    );
    expect(() => parseVolumeXml('<volume><name>v</name><capacity unit="lots">1</capacity></volume>')).toThrow(
      /unknown size unit "lots"/,
    );
  });
});

describe('escaping', () => {
  const nasty = `a<b>&c'd"e &amp; &lt;`;

  it('escapes text and attributes when building, and decodes them when parsing', () => {
    const xml = buildXml(element('root', { attr: nasty }, [element('text', {}, nasty)]));
    const root = parseRoot(xml, 'root');
    expect(root.attr('attr')).toBe(nasty);
    expect(root.textAt('text')).toBe(nasty);
  });

  it('decodes numeric character references', () => {
    const root = parseRoot("<root a='&#65;&#x42;&#10;'>&#233;&#x263A;</root>", 'root');
    expect(root.attr('a')).toBe('AB\n');
    expect(root.text()).toBe('\u00e9\u263a');
  });
});

describe('the ordered tree', () => {
  const xml = `<?xml version="1.0"?>
<!-- a comment libvirt would keep in /etc -->
<domain type='kvm' xmlns:test='http://libvirt.org/schemas/domain/test/1.0'>
  <name>x</name>
  <unknown a='1'><deeper>text</deeper></unknown>
  <test:runstate>5</test:runstate>
  <empty></empty>
</domain>
`;

  it('survives a parse and build with its order, comments, namespaces and unknown elements', () => {
    const rebuilt = buildXmlNodes(parseXmlNodes(xml));
    expect(parseXmlNodes(rebuilt)).toEqual(parseXmlNodes(xml));
    expect(rebuilt).toContain('<!-- a comment libvirt would keep in /etc -->');
    expect(rebuilt).toContain('  <unknown a="1"><deeper>text</deeper></unknown>\n  <test:runstate>5</test:runstate>\n');
  });

  it('gives every repeatable element as an array, however many there are', () => {
    const root = documentElement(parseXmlNodes("<r><one a='1'/><two/><two/></r>"));
    expect(root.elements('one')).toHaveLength(1);
    expect(root.elements('two')).toHaveLength(2);
    expect(root.elements('none')).toEqual([]);
    expect(root.child('one')?.attr('a')).toBe('1');
    expect(root.child('one')?.attr('b')).toBeUndefined();
  });
});
