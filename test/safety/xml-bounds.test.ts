import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGateway, type TestGateway } from '../support/gateway.ts';
import { fixtureUri } from '../support/test-host.ts';

const DEFINE = 'mutation ($xml: String!) { defineDomainFromXml(input: { xml: $xml }) { name description } }';

const BILLION_LAUGHS = `<?xml version="1.0"?>
<!DOCTYPE domain [
  <!ENTITY lol "lol">
  <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
  <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
  <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
  <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
  <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
  <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
  <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
  <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
  <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<domain type="test"><name>laughs</name><description>&lol9;</description><memory>65536</memory><os><type>hvm</type></os></domain>`;

const PASSWD_ENTITY = `<?xml version="1.0"?>
<!DOCTYPE domain [<!ENTITY passwd SYSTEM "file:///etc/passwd">]>
<domain type="test"><name>passwd</name><description>&passwd;</description><memory>65536</memory><os><type>hvm</type></os></domain>`;

/** A domain left open after `lines` lines of unclosed elements: the problem is at the end of the input. */
function unclosed(bytes: number): { xml: string; line: number; column: number } {
  const head = '<domain type="test">\n';
  const unit = '  <a>\n';
  const count = Math.ceil((bytes - head.length) / unit.length);
  const tail = '  <b x="1">';
  return { xml: head + unit.repeat(count) + tail, line: count + 2, column: tail.length + 1 };
}

function mismatched(bytes: number): { xml: string; line: number; column: number } {
  const filler = `${'<x>y</x>'.repeat(200)}\n`;
  const lines = Math.ceil(bytes / filler.length);
  const xml = `<domain>\n${filler.repeat(lines)}<name>n</nam>\n</domain>`;
  // validators report the closing tag's '<' column
  return { xml, line: lines + 2, column: '<name>n'.length + 1 };
}

describe('XML arguments: entities, size and malformed documents', () => {
  let gw: TestGateway;
  let big: TestGateway;
  beforeAll(async () => {
    gw = await startGateway({ test: fixtureUri });
    big = await startGateway({ test: fixtureUri }, undefined, {
      config: { xml: { maxBytes: 8 * 1024 * 1024 }, limits: { bodyBytes: 16 * 1024 * 1024 } },
    });
  });
  afterAll(async () => {
    await gw?.close();
    await big?.close();
  });

  it('refuses billion laughs and an external file:///etc/passwd entity quickly, without passwd content', async () => {
    for (const xml of [BILLION_LAUGHS, PASSWD_ENTITY]) {
      const started = performance.now();
      const res = await gw.query(DEFINE, { xml });
      expect(performance.now() - started).toBeLessThan(1_000);
      expect(res.errors?.[0]?.extensions).toMatchObject({ code: 'INVALID_INPUT', field: 'xml' });
      expect(res.errors?.[0]?.message).toContain('DOCTYPE and entity declarations are not accepted');
      expect(JSON.stringify(res)).not.toMatch(/root:x?:0:0/);
    }
    const domains = await gw.query<{ host: { domains: Array<{ name: string }> } }>('{ host { domains { name } } }');
    expect(domains.data?.host.domains.map((d) => d.name)).not.toContain('passwd');
  });

  it('caps XML arguments at xml.maxBytes (1 MB by default) with INVALID_INPUT field=xml', async () => {
    const valid = (bytes: number) => {
      const head = '<domain type="test"><name>huge</name><memory>65536</memory><os><type>hvm</type></os><description>';
      const tail = '</description></domain>';
      return head + 'x'.repeat(bytes - head.length - tail.length) + tail;
    };
    const res = await gw.query(DEFINE, { xml: valid(1024 * 1024 + 1) });
    expect(res.errors?.[0]?.extensions).toMatchObject({
      code: 'INVALID_INPUT',
      field: 'xml',
      reason: `too large (${1024 * 1024 + 1} bytes, limit ${1024 * 1024})`,
    });
    const small = await startGateway({ test: fixtureUri }, undefined, { config: { xml: { maxBytes: 2048 } } });
    try {
      const refused = await small.query(
        'mutation ($xml: String!) { attachDevice(input: { domain: { name: "web" }, xml: $xml }) { name } }',
        { xml: `<disk type="file"><source file="/default-pool/${'é'.repeat(1100)}"/></disk>` },
      );
      expect(refused.errors?.[0]?.extensions?.reason).toMatch(/^too large \(2\d{3} bytes, limit 2048\)$/);
      expect((await small.query(DEFINE, { xml: valid(2048) })).errors).toBeUndefined();
    } finally {
      await small.close();
    }
  });

  it.each([
    ['300 KB unclosed', () => unclosed(300 * 1024)],
    ['300 KB mismatched', () => mismatched(300 * 1024)],
    ['5 MB unclosed', () => unclosed(5 * 1024 * 1024)],
    ['5 MB mismatched', () => mismatched(5 * 1024 * 1024)],
  ])('answers %s XML with a short error at the right line and column', async (_name, make) => {
    const { xml, line, column } = make();
    const res = await big.query(DEFINE, { xml });
    const body = JSON.stringify(res);
    expect(body.length).toBeLessThan(2048);
    expect(res.errors?.[0]?.extensions).toMatchObject({ code: 'INVALID_INPUT', field: 'xml' });
    expect(res.errors?.[0]?.message).toContain(`line ${line}, column ${column}`);
    expect(Buffer.byteLength(res.errors?.[0]?.message ?? '')).toBeLessThan(500);
  });

  it('answers a 5 MB document with the size limit under the default config, briefly', async () => {
    const { xml } = unclosed(5 * 1024 * 1024);
    const res = await startGateway({ test: fixtureUri }, undefined, {
      config: { limits: { bodyBytes: 16 * 1024 * 1024 } },
    }).then(async (g) => {
      try {
        return await g.query(DEFINE, { xml });
      } finally {
        await g.close();
      }
    });
    expect(JSON.stringify(res).length).toBeLessThan(2048);
    expect(res.errors?.[0]?.extensions?.reason).toBe(`too large (${xml.length} bytes, limit 1048576)`);
  });
});
