/**
 * Derives from libvirt's own RelaxNG schemas every place in a client document whose value is a
 * host path (`absFilePath`, `filePath`, `absDirPath`, `dirPath`, `vmwarePath`), and writes them
 * as the table the host-safety policy walks (src/libvirt/xml/schema-places.ts).
 *
 *   npx tsx scripts/gen-schema-places.ts [schemaDir]      # rewrite the table
 *   npx tsx scripts/gen-schema-places.ts --check          # exit 1 when the table differs
 *
 * A place is (parent element, element, attribute or `#text`): the same attribute name can be a
 * path in one element and a name in another, and the parent tells `disk/source` from
 * `interface/source`. Recursion in the grammar (backing chains, a snapshot's domain) is followed
 * once per (define, element, parent).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { documentElement, parseXmlNodes, type XmlElement } from '../src/libvirt/xml/xml-codec.ts';

export const PATH_TYPES = ['absFilePath', 'filePath', 'absDirPath', 'dirPath', 'vmwarePath'] as const;
export const DEFAULT_SCHEMA_DIR = '/usr/share/libvirt/schemas';

/** The documents clients send, by the schema file that describes each. */
export const DOCUMENT_SCHEMAS = {
  domain: 'domain.rng',
  network: 'network.rng',
  pool: 'storagepool.rng',
  volume: 'storagevol.rng',
  interface: 'interface.rng',
  snapshot: 'domainsnapshot.rng',
} as const;

export interface SchemaPlace {
  parent: string;
  element: string;
  /** The attribute's name, or `#text` for the element's own text. */
  attribute: string;
  type: (typeof PATH_TYPES)[number];
}

const PATH_TYPE_SET = new Set<string>(PATH_TYPES);

interface Grammar {
  defines: Map<string, XmlElement[]>;
  start: XmlElement[];
}

function load(dir: string, file: string): XmlElement {
  return documentElement(parseXmlNodes(readFileSync(join(dir, file), 'utf8')));
}

/** A grammar's defines and starts, with its includes merged (an include's own defines override the included ones). */
function grammarOf(dir: string, root: XmlElement): Grammar {
  const g: Grammar = { defines: new Map(), start: [] };
  const add = (el: XmlElement, overrides: Set<string>) => {
    for (const child of el.elements()) {
      if (child.name === 'include') {
        const inner = grammarOf(dir, load(dir, child.attr('href') ?? ''));
        const own = new Set(child.elements('define').map((d) => d.attr('name') ?? ''));
        for (const [name, defs] of inner.defines) {
          if (own.has(name) || overrides.has(name)) continue;
          g.defines.set(name, [...(g.defines.get(name) ?? []), ...defs]);
        }
        g.start.push(...inner.start);
        add(child, new Set([...overrides, ...own]));
      } else if (child.name === 'define') {
        const name = child.attr('name') ?? '';
        if (overrides.has(name) && el.name !== 'include') continue;
        const combine = child.attr('combine');
        const earlier = combine ? (g.defines.get(name) ?? []) : [];
        g.defines.set(name, [...earlier, child]);
      } else if (child.name === 'start') {
        g.start.push(child);
      } else if (child.name === 'div') {
        add(child, overrides);
      }
    }
  };
  add(root, new Set());
  return g;
}

class Walker {
  readonly places = new Map<string, SchemaPlace>();
  readonly #seen = new Set<string>();
  constructor(private readonly dir: string) {}

  walkGrammar(g: Grammar, element: string, parent: string): void {
    for (const s of g.start) this.#content(g, s, element, parent);
  }

  /** Path types reachable from a value pattern without crossing an element or attribute. */
  #typesIn(g: Grammar, p: XmlElement, seen = new Set<string>()): Set<string> {
    const out = new Set<string>();
    const visit = (el: XmlElement) => {
      if (el.name === 'element' || el.name === 'attribute') return;
      if (el.name === 'ref') {
        const name = el.attr('name') ?? '';
        if (PATH_TYPE_SET.has(name)) out.add(name);
        if (seen.has(name)) return;
        seen.add(name);
        for (const d of g.defines.get(name) ?? []) for (const c of d.elements()) visit(c);
        return;
      }
      for (const c of el.elements()) visit(c);
    };
    for (const c of p.elements()) visit(c);
    return out;
  }

  #record(parent: string, element: string, attribute: string, types: Set<string>): void {
    for (const type of types) {
      const place = { parent, element, attribute, type: type as SchemaPlace['type'] };
      this.places.set(`${parent}\u0000${element}\u0000${attribute}\u0000${type}`, place);
    }
  }

  /** Walks the patterns under `p`, which stand inside `element` (whose parent is `parent`). */
  #content(g: Grammar, p: XmlElement, element: string, parent: string): void {
    for (const c of p.elements()) this.#pattern(g, c, element, parent);
  }

  #pattern(g: Grammar, p: XmlElement, element: string, parent: string): void {
    switch (p.name) {
      case 'element': {
        const name = p.attr('name') ?? p.child('name')?.text().trim();
        if (name === undefined) return; // anyName: metadata and custom elements, refused or ignored by the policy
        this.#record(element, name, '#text', this.#typesIn(g, p));
        this.#content(g, p, name, element);
        return;
      }
      case 'attribute': {
        const name = p.attr('name') ?? p.child('name')?.text().trim();
        if (name !== undefined) this.#record(parent, element, name, this.#typesIn(g, p));
        return;
      }
      case 'ref': {
        const name = p.attr('name') ?? '';
        const key = `${name}\u0000${element}\u0000${parent}`;
        if (this.#seen.has(key)) return;
        this.#seen.add(key);
        for (const d of g.defines.get(name) ?? []) this.#content(g, d, element, parent);
        return;
      }
      case 'grammar':
        this.walkGrammar(grammarOf(this.dir, p), element, parent);
        return;
      case 'data':
      case 'value':
      case 'text':
      case 'empty':
      case 'notAllowed':
      case 'param':
      case 'except':
        return;
      default:
        this.#content(g, p, element, parent);
    }
  }
}

/** Every path place of each client document, sorted, from the schemas in `dir`. */
export function derivePlaces(dir: string): Record<keyof typeof DOCUMENT_SCHEMAS, SchemaPlace[]> {
  const out = {} as Record<keyof typeof DOCUMENT_SCHEMAS, SchemaPlace[]>;
  for (const [kind, file] of Object.entries(DOCUMENT_SCHEMAS) as Array<[keyof typeof DOCUMENT_SCHEMAS, string]>) {
    const walker = new Walker(dir);
    walker.walkGrammar(grammarOf(dir, load(dir, file)), '', '');
    out[kind] = [...walker.places.values()].sort((a, b) =>
      `${a.parent}/${a.element}@${a.attribute}`.localeCompare(`${b.parent}/${b.element}@${b.attribute}`),
    );
  }
  return out;
}

export function renderTable(dir: string): string {
  const places = derivePlaces(dir);
  const lines = [
    '// Generated by scripts/gen-schema-places.ts from libvirt’s RelaxNG schemas: do not edit.',
    '// Every place in a client document whose value libvirt’s schema types as a host path, as',
    '// [parent element, element, attribute or #text, schema type], per document kind.',
    '',
    `export type SchemaPathType = ${PATH_TYPES.map((t) => `'${t}'`).join(' | ')};`,
    'export type SchemaPlaceRow = readonly [parent: string, element: string, attribute: string, type: SchemaPathType];',
    '',
    'export const SCHEMA_PATH_PLACES: Readonly<Record<string, readonly SchemaPlaceRow[]>> = {',
  ];
  for (const [kind, rows] of Object.entries(places)) {
    lines.push(`  ${kind}: [`);
    for (const r of rows)
      lines.push(
        `    [${JSON.stringify(r.parent)}, ${JSON.stringify(r.element)}, ${JSON.stringify(r.attribute)}, '${r.type}'],`,
      );
    lines.push('  ],');
  }
  lines.push('};', '');
  return lines.join('\n');
}

export const TABLE_FILE = join(
  dirname(fileURLToPath(import.meta.url)),
  '..',
  'src',
  'libvirt',
  'xml',
  'schema-places.ts',
);

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  const check = args.includes('--check');
  const dir = args.find((a) => !a.startsWith('--')) ?? DEFAULT_SCHEMA_DIR;
  const table = renderTable(dir);
  if (check) {
    const same = readFileSync(TABLE_FILE, 'utf8') === table;
    console.log(same ? 'schema-places.ts matches the schemas' : 'schema-places.ts differs from the schemas');
    process.exit(same ? 0 : 1);
  }
  writeFileSync(TABLE_FILE, table);
  console.log(`wrote ${TABLE_FILE}`);
}
