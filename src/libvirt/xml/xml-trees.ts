import { native } from '../native.ts';
import { inParallelChunks } from '../parallel-chunks.ts';
import { XmlElement, XmlError, type XmlNode } from './xml-codec.ts';

/** Documents per pool thread: parsing is CPU work, so a big batch spreads over a few threads. */
const MIN_CHUNK = 64;

/**
 * Parses documents libvirt produced, for reading only: libxml2 parses them on the libuv pool,
 * and each comes back as the ordered tree `parseRoot` gives, without the indentation between
 * elements. About twenty times faster than parseRoot on domain definitions, and off Node's loop.
 * A document that is malformed or whose root is not `<name>` is an XmlError in its slot.
 */
export async function parseRoots(xmls: readonly string[], name: string): Promise<Array<XmlElement | XmlError>> {
  if (xmls.length === 0) return [];
  const trees = await inParallelChunks(xmls, (chunk) => native.xmlParseTrees(chunk), MIN_CHUNK);
  return trees.map((tree) => {
    if (tree instanceof Error) return new XmlError(tree.message);
    const root = new XmlElement(JSON.parse(tree) as XmlNode);
    return root.name === name ? root : new XmlError(`expected a <${name}> document, got <${root.name.slice(0, 200)}>`);
  });
}

/**
 * Parses one client document with libxml2, the parser libvirt itself uses, so that the
 * host-safety policy reads exactly the tree libvirt will read (no second parser's view of
 * entities, namespaces or whitespace). Throws XmlError when it is malformed.
 */
export async function parseClientTree(xml: string): Promise<XmlElement> {
  const [tree] = await native.xmlParseTrees([xml]);
  if (tree === undefined || tree instanceof Error) throw new XmlError(tree?.message ?? 'malformed XML');
  return new XmlElement(JSON.parse(tree) as XmlNode);
}
