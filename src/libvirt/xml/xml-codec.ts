import { XMLBuilder, XMLParser, XMLValidator } from 'fast-xml-parser';

/** Malformed XML, a document of the wrong kind, or a required element or value missing or unreadable. */
export class XmlError extends Error {
  override readonly name = 'XmlError';
  /** Where the validator found the problem (1-based), when it is a syntax error. */
  readonly line: number | undefined;
  readonly column: number | undefined;

  constructor(message: string, options: { line?: number; column?: number; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.line = options.line;
    this.column = options.column;
  }
}

/**
 * One node of fast-xml-parser's `preserveOrder` tree: an element `{ tag: children, ':@'?: attributes }`,
 * a text node `{ '#text': string }` or a comment `{ '#comment': [{ '#text': string }] }`.
 */
export type XmlNode = Record<string, unknown>;

const ATTRIBUTES = ':@';
const ATTRIBUTE_PREFIX = '@_';
const TEXT = '#text';
const COMMENT = '#comment';

/**
 * Element order, unknown elements, comments and whitespace all survive a parse and
 * build, so an edited document differs from libvirt's only where it was edited.
 */
const parser = new XMLParser({
  preserveOrder: true,
  ignoreAttributes: false,
  attributeNamePrefix: ATTRIBUTE_PREFIX,
  // Text stays text: 64-bit sizes and ids must not pass through a JS number.
  parseTagValue: false,
  parseAttributeValue: false,
  trimValues: false,
  commentPropName: COMMENT,
  // Also decodes numeric character references (&#10; &#x41;), which XML allows anywhere.
  htmlEntities: true,
});

const builderOptions = {
  preserveOrder: true,
  ignoreAttributes: false,
  attributeNamePrefix: ATTRIBUTE_PREFIX,
  commentPropName: COMMENT,
  suppressEmptyNode: true,
  suppressBooleanAttributes: false,
} as const;

/** Writes nodes as they are, whitespace text included: for edited documents. */
const verbatimBuilder = new XMLBuilder(builderOptions);
/** Indents: for documents built from scratch, which have no whitespace nodes of their own. */
const indentingBuilder = new XMLBuilder({ ...builderOptions, format: true, indentBy: '  ' });

/** The element name of an element node; undefined for text, comments and the XML declaration. */
export function tagOf(node: XmlNode): string | undefined {
  for (const key of Object.keys(node)) {
    if (key !== ATTRIBUTES && key !== TEXT && key !== COMMENT && !key.startsWith('?')) return key;
  }
  return undefined;
}

/** Longest validator message quoted in an XmlError: tag and attribute names are the client's and unbounded. */
const MAX_DETAIL = 200;

function clip(text: string): string {
  return text.length <= MAX_DETAIL ? text : `${text.slice(0, MAX_DETAIL)}…`;
}

/** 1-based line and column of the end of `text`: where an unfinished document stops. */
function endPosition(text: string): { line: number; column: number } {
  let line = 1;
  let lineStart = 0;
  for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) {
    line += 1;
    lineStart = i + 1;
  }
  return { line, column: text.length - lineStart + 1 };
}

/**
 * A DOCTYPE can declare entities that expand exponentially (billion laughs) or name files
 * (`SYSTEM "file:///etc/passwd"`); libvirt's documents never carry one. Refused wherever the
 * markup appears, before any parser sees the text.
 */
function refuseDeclarations(xml: string): void {
  for (const markup of ['<!DOCTYPE', '<!ENTITY']) {
    const at = xml.search(new RegExp(markup, 'i'));
    if (at >= 0) {
      const before = xml.slice(0, at);
      const { line, column } = endPosition(before);
      throw new XmlError(
        `malformed XML at line ${line}, column ${column}: DOCTYPE and entity declarations are not accepted`,
        { line, column },
      );
    }
  }
}

/**
 * The validator's complaint as a short message at the right place. For a document that ends
 * with elements still open it reports the whole open-element stack at line 1; the problem is
 * at the end of the input, and naming the innermost open element is enough.
 */
function syntaxError(xml: string, err: { code: string; msg: string; line: number; col: number }): XmlError {
  let { line, col: column } = err;
  let detail = err.msg;
  if (err.code === 'InvalidXml' && detail.startsWith("Invalid '[")) {
    // The stack is JSON-quoted names, outermost first: the innermost is the last quoted one.
    const end = detail.lastIndexOf('"');
    const innermost = detail.slice(detail.lastIndexOf('"', end - 1) + 1, end);
    ({ line, column } = endPosition(xml));
    detail = `the document ends with elements still open, the innermost <${clip(innermost)}>`;
  } else {
    detail = clip(detail);
  }
  return new XmlError(`malformed XML at line ${line}, column ${column}: ${detail}`, { line, column });
}

/** Validates and parses a whole document into fast-xml-parser's ordered tree. */
export function parseXmlNodes(xml: string): XmlNode[] {
  if (typeof xml !== 'string') throw new XmlError(`expected an XML string, got ${typeof xml}`);
  refuseDeclarations(xml);
  const result = XMLValidator.validate(xml);
  if (result !== true) throw syntaxError(xml, result.err);
  try {
    return parser.parse(xml) as XmlNode[];
  } catch (cause) {
    throw new XmlError(`malformed XML: ${clip((cause as Error).message)}`, { cause });
  }
}

/** Serializes an ordered tree exactly as it is (no re-indentation). */
export function buildXmlNodes(nodes: XmlNode[]): string {
  return verbatimBuilder.build(nodes) as string;
}

/** Serializes a freshly built element, indented by two spaces like libvirt's own output. */
export function buildXml(root: XmlElement | XmlNode): string {
  const node = root instanceof XmlElement ? root.node : root;
  return `${(indentingBuilder.build([node]) as string).trim()}\n`;
}

/** The single root element of a parsed document; throws unless there is exactly one. */
export function documentElement(nodes: XmlNode[]): XmlElement {
  const elements: XmlElement[] = [];
  for (const node of nodes) if (tagOf(node) !== undefined) elements.push(new XmlElement(node));
  const [root, extra] = elements;
  if (root === undefined) throw new XmlError('malformed XML: no root element');
  if (extra !== undefined) throw new XmlError(`malformed XML: a second root element <${clip(extra.name)}>`);
  return root;
}

/** Parses a document whose root element must be `<name>`: the whole tree (to edit and rebuild) and its root. */
export function parseDocument(xml: string, name: string): { nodes: XmlNode[]; root: XmlElement } {
  const nodes = parseXmlNodes(xml);
  const root = documentElement(nodes);
  if (root.name !== name) throw new XmlError(`expected a <${name}> document, got <${clip(root.name)}>`);
  return { nodes, root };
}

/** Parses a document and returns its root element, which must be `<name>`. */
export function parseRoot(xml: string, name: string): XmlElement {
  return parseDocument(xml, name).root;
}

export type AttributeValue = string | number | bigint | boolean | undefined;
export type ChildValue = XmlNode | XmlElement | undefined | false;

/**
 * A new element node for the builders. Undefined attributes and children are left out;
 * a string or number as `content` becomes its text. Escaping is the builder's.
 */
export function element(
  name: string,
  attributes: Record<string, AttributeValue> = {},
  content: ChildValue[] | string | number | bigint = [],
): XmlNode {
  const children: XmlNode[] = [];
  if (Array.isArray(content)) {
    for (const child of content) {
      if (child === undefined || child === false) continue;
      children.push(child instanceof XmlElement ? child.node : child);
    }
  } else {
    children.push({ [TEXT]: String(content) });
  }
  const node: XmlNode = { [name]: children };
  const attrs: Record<string, string> = {};
  for (const [key, value] of Object.entries(attributes)) {
    if (value !== undefined) attrs[ATTRIBUTE_PREFIX + key] = typeof value === 'boolean' ? yesNo(value) : String(value);
  }
  if (Object.keys(attrs).length > 0) node[ATTRIBUTES] = attrs;
  return node;
}

/** A text node, e.g. whitespace to keep an edited document's indentation. */
export function textNode(text: string): XmlNode {
  return { [TEXT]: text };
}

function yesNo(value: boolean): string {
  return value ? 'yes' : 'no';
}

/** An element of an ordered tree, with reads (and the few writes edits need) by name. */
export class XmlElement {
  constructor(readonly node: XmlNode) {}

  get name(): string {
    const tag = tagOf(this.node);
    if (tag === undefined) throw new XmlError('not an element node');
    return tag;
  }

  /** The element's children: elements, text and comments, in document order. */
  get content(): XmlNode[] {
    const content = this.node[this.name];
    if (!Array.isArray(content)) throw new XmlError(`<${this.name}> has no content list`);
    return content as XmlNode[];
  }

  #attributes(): Record<string, string> | undefined {
    return this.node[ATTRIBUTES] as Record<string, string> | undefined;
  }

  attr(name: string): string | undefined {
    return this.#attributes()?.[ATTRIBUTE_PREFIX + name];
  }

  setAttr(name: string, value: string | undefined): void {
    const attrs = this.#attributes() ?? {};
    if (value === undefined) delete attrs[ATTRIBUTE_PREFIX + name];
    else attrs[ATTRIBUTE_PREFIX + name] = value;
    if (Object.keys(attrs).length > 0) this.node[ATTRIBUTES] = attrs;
    else delete this.node[ATTRIBUTES];
  }

  /** Child elements, all or those named `name`: always an array, however many there are. */
  elements(name?: string): XmlElement[] {
    const out: XmlElement[] = [];
    for (const node of this.content) {
      const tag = tagOf(node);
      if (tag !== undefined && (name === undefined || tag === name)) out.push(new XmlElement(node));
    }
    return out;
  }

  /** The first child element named `name`. */
  child(name: string): XmlElement | undefined {
    for (const node of this.content) if (tagOf(node) === name) return new XmlElement(node);
    return undefined;
  }

  /** The element at a path of names, e.g. `at('target', 'path')`. */
  at(...path: string[]): XmlElement | undefined {
    let current: XmlElement | undefined = this;
    for (const name of path) current = current?.child(name);
    return current;
  }

  /** The text directly inside this element (not its descendants'). */
  text(): string {
    let text = '';
    for (const node of this.content) if (typeof node[TEXT] === 'string') text += node[TEXT];
    return text;
  }

  /** The text of the element at `path`, or undefined when there is no such element. */
  textAt(...path: string[]): string | undefined {
    return this.at(...path)?.text();
  }

  /** An attribute of the element at `path`. */
  attrAt(path: string[], name: string): string | undefined {
    return this.at(...path)?.attr(name);
  }

  /** Replaces the element's text; its child elements stay. */
  setText(text: string): void {
    const kept = this.content.filter((node) => typeof node[TEXT] !== 'string');
    this.node[this.name] = text === '' ? kept : [{ [TEXT]: text }, ...kept];
  }

  /** Removes a child element together with the indentation before it. */
  remove(child: XmlElement): void {
    const content = this.content;
    const index = content.indexOf(child.node);
    if (index < 0) return;
    const before = content[index - 1];
    const start = before !== undefined && isWhitespace(before) ? index - 1 : index;
    content.splice(start, index - start + 1);
  }

  /**
   * Inserts `node` after the last existing child named in `after` (or first, when none exists),
   * indented like its neighbours.
   */
  insert(node: XmlNode, after: string[]): XmlElement {
    const content = this.content;
    let anchor = -1;
    content.forEach((n, i) => {
      const tag = tagOf(n);
      if (tag !== undefined && after.includes(tag)) anchor = i;
    });
    if (anchor >= 0) {
      const before = content[anchor - 1];
      const indent = before !== undefined && isWhitespace(before) ? [textNode(String(before[TEXT]))] : [];
      content.splice(anchor + 1, 0, ...indent, node);
    } else {
      const first = content[0];
      if (first !== undefined && isWhitespace(first)) content.splice(1, 0, node, textNode(String(first[TEXT])));
      else content.splice(0, 0, node);
    }
    return new XmlElement(node);
  }
}

function isWhitespace(node: XmlNode): boolean {
  const text = node[TEXT];
  return typeof text === 'string' && text.trim() === '';
}

/** The value of a required attribute; throws XmlError naming the element when it is missing. */
export function requireAttr(el: XmlElement, name: string): string {
  const value = el.attr(name);
  if (value === undefined) throw new XmlError(`<${el.name}> has no ${name} attribute`);
  return value;
}

/** The text of a required child element; throws XmlError naming the parent when it is missing. */
export function requireText(el: XmlElement, ...path: string[]): string {
  const value = el.textAt(...path);
  if (value === undefined) throw new XmlError(`<${el.name}> has no <${path.join('><')}>`);
  return value;
}

/** An optional element's text, undefined when absent or empty. */
export function optionalText(el: XmlElement, ...path: string[]): string | undefined {
  const value = el.textAt(...path);
  return value === undefined || value === '' ? undefined : value;
}

function digits(value: string, what: string): string {
  const trimmed = value.trim();
  if (trimmed === '' || ![...trimmed].every((c) => c >= '0' && c <= '9')) {
    throw new XmlError(`${what}: ${JSON.stringify(value)} is not an unsigned integer`);
  }
  return trimmed;
}

/** An unsigned decimal integer as a bigint, keeping all 64 bits. */
export function parseBigInt(value: string, what = 'value'): bigint {
  return BigInt(digits(value, what));
}

/** An unsigned decimal integer that fits a JS number (counts, ids, ports...). */
export function parseCount(value: string, what = 'value'): number {
  const n = Number(digits(value, what));
  if (!Number.isSafeInteger(n)) throw new XmlError(`${what}: ${value} is too large`);
  return n;
}

export function optionalCount(value: string | undefined, what = 'value'): number | undefined {
  return value === undefined ? undefined : parseCount(value, what);
}

const POWERS: Record<string, number> = { k: 1, m: 2, g: 3, t: 4, p: 5, e: 6 };

/**
 * Bytes per `unit`, as libvirt's virScaleInteger reads it (case-insensitive): b, byte, bytes = 1;
 * K, KiB = 1024 and KB = 1000, likewise M, G, T, P, E. See formatdomain.html#memory-allocation.
 */
export function unitScale(unit: string): bigint {
  const u = unit.toLowerCase();
  if (u === 'b' || u === 'byte' || u === 'bytes') return 1n;
  const power = POWERS[u.charAt(0)];
  const rest = u.slice(1);
  if (power !== undefined) {
    if (rest === '' || rest === 'ib') return 1024n ** BigInt(power);
    if (rest === 'b') return 1000n ** BigInt(power);
  }
  throw new XmlError(`unknown size unit ${JSON.stringify(unit)}`);
}

/** A size in bytes; without a unit, `value` is bytes (libvirt's default for storage sizes). */
export function toBytes(value: string | bigint | number, unit?: string): bigint {
  const n = typeof value === 'string' ? parseBigInt(value, 'size') : BigInt(value);
  if (n < 0n) throw new XmlError(`size ${n} is negative`);
  return n * unitScale(unit ?? 'bytes');
}

/** A size in KiB, rounded up as libvirt does; without a unit, `value` is KiB (libvirt's default for memory). */
export function toKiB(value: string | bigint | number, unit?: string): bigint {
  const bytes = toBytes(value, unit ?? 'KiB');
  return (bytes + 1023n) / 1024n;
}

/** The size held by an element like `<capacity unit='bytes'>N</capacity>`, in bytes. */
export function bytesOf(el: XmlElement | undefined): bigint | undefined {
  return el === undefined ? undefined : toBytes(el.text(), el.attr('unit'));
}

/** The size held by an element like `<memory unit='KiB'>N</memory>`, in KiB. */
export function kibOf(el: XmlElement | undefined): bigint | undefined {
  return el === undefined ? undefined : toKiB(el.text(), el.attr('unit'));
}

/** libvirt's yes/no and on/off switches. */
export function isOn(value: string | undefined): boolean | undefined {
  if (value === undefined) return undefined;
  return value === 'yes' || value === 'on';
}
