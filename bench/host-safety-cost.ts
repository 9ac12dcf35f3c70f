import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { native } from '../src/libvirt/native.ts';
import { defaultHostSafety } from '../src/libvirt/xml/host-safety.ts';
import { scanDocument } from '../src/libvirt/xml/host-safety-scan.ts';
import { SCHEMA_DIR } from '../src/libvirt/xml/schema-validation.ts';
import { documentElement, parseXmlNodes } from '../src/libvirt/xml/xml-codec.ts';
import { parseClientTree } from '../src/libvirt/xml/xml-trees.ts';

// What issue 18's host safety costs per client document: libxml2's parse of the exact text,
// libvirt's RelaxNG schema, and the policy's walk, against the anchor the gateway paid before
// (fast-xml-parser's validating parse of the same text), measured in the same run.

const DOCUMENTS = 500;
const TARGET_US = 1_000;
const FIXTURE = join(import.meta.dirname, '..', 'test', 'fixtures', 'xml', 'qemu-domain-inactive.xml');

interface Cost {
  label: string;
  usPerDoc: number;
}

async function perDocument(label: string, run: (xml: string) => unknown): Promise<Cost> {
  const xml = readFileSync(FIXTURE, 'utf8');
  for (let i = 0; i < 20; i++) await run(xml);
  globalThis.gc?.();
  const start = performance.now();
  for (let i = 0; i < DOCUMENTS; i++) await run(xml);
  return { label, usPerDoc: ((performance.now() - start) * 1000) / DOCUMENTS };
}

export async function measureHostSafetyCost(): Promise<Cost[]> {
  const schema = join(SCHEMA_DIR, 'domain.rng');
  const allow = defaultHostSafety().allow;
  const tree = await parseClientTree(readFileSync(FIXTURE, 'utf8'));
  return [
    await perDocument('anchor: fast-xml-parser validate + parse', (xml) => documentElement(parseXmlNodes(xml))),
    await perDocument('libxml2 parse (pool)', (xml) => parseClientTree(xml)),
    await perDocument('RelaxNG domain.rng (pool)', (xml) => native.xmlValidateRelaxNG(schema, [xml])),
    await perDocument('policy walk of the parsed tree', () => scanDocument(tree, 'domain', allow)),
  ];
}

export function reportHostSafetyCost(costs: Cost[]): string[] {
  const anchor = costs[0]?.usPerDoc ?? 1;
  const lines = [
    `Host safety per client document (${DOCUMENTS} × a ${readFileSync(FIXTURE).length}-byte QEMU domain, sequential)`,
  ];
  for (const c of costs)
    lines.push(
      `  ${c.label.padEnd(42)} ${c.usPerDoc.toFixed(0).padStart(6)} µs  ${(c.usPerDoc / anchor).toFixed(2)}× anchor`,
    );
  const total = costs.slice(1).reduce((sum, c) => sum + c.usPerDoc, 0);
  lines.push(
    `  parse + schema + walk: ${total.toFixed(0)} µs a document (target ≤ ${TARGET_US} µs: ${total <= TARGET_US ? 'met' : 'MISSED'})`,
  );
  return lines;
}
