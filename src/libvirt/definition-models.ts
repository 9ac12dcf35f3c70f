import type { Connection } from './connection.ts';
import { LibvirtError } from './errors.ts';
import type { DefinitionSlot } from './native.ts';
import { XmlElement, XmlError, type XmlNode } from './xml/xml-codec.ts';

interface Parsed<T> {
  generation: number;
  value: T | XmlError;
  used: number;
}

/** An entry no read touched for this long goes at the next sweep (as the binding's own cache does). */
const IDLE_MS = 10 * 60_000;
const FIRST_SWEEP = 4096;

/** Freezes a read model and everything in it: one parse is shared by every request until libvirt's document changes. */
function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}

/**
 * The read models of libvirt documents of one kind, per connection and key (an object's UUID and
 * the flavour of its XML). Every read still asks libvirt for the document; the binding compares it
 * with the last one (src/native/definition-cache.h) and hands back a tree only when it changed, so a
 * definition is parsed once per change, not once per request, and nothing is served that libvirt did
 * not just give. A reconnect is a new Connection: its models start empty, as the binding's cache does.
 */
export class DefinitionModels<T> {
  readonly #byConnection = new WeakMap<Connection, { models: Map<string, Parsed<T>>; sweepAt: number }>();

  constructor(
    readonly rootName: string,
    readonly read: (root: XmlElement) => T,
  ) {}

  /**
   * The models of `keys` (objects of `connection`), through `fetch`, which asks libvirt for their
   * documents given the generations already parsed (0 for none). A document that is malformed
   * or of the wrong kind is an XmlError in its slot, a failed call a LibvirtError.
   */
  async load(
    connection: Connection,
    keys: readonly string[],
    fetch: (known: number[]) => Promise<Array<DefinitionSlot | LibvirtError>>,
  ): Promise<Array<T | XmlError | LibvirtError>> {
    if (keys.length === 0) return [];
    let cache = this.#byConnection.get(connection);
    if (cache === undefined) {
      cache = { models: new Map(), sweepAt: FIRST_SWEEP };
      this.#byConnection.set(connection, cache);
    }
    const { models } = cache;
    // What this call's `known` refers to, held here: another read may replace the entries meanwhile.
    const held = keys.map((k) => models.get(k));
    const slots = await fetch(held.map((p) => p?.generation ?? 0));
    const now = Date.now();
    const out = slots.map((slot, i): T | XmlError | LibvirtError => {
      if (slot instanceof LibvirtError) return slot;
      const key = keys[i] as string;
      if (typeof slot === 'number') {
        const parsed = held[i] as Parsed<T>;
        parsed.used = now;
        return parsed.value;
      }
      const [generation, tree, why] = slot;
      if (tree === null) return new XmlError(why);
      const parsed: Parsed<T> = { generation, value: this.#readTree(tree), used: now };
      const current = models.get(key);
      if (current === undefined || current.generation < generation) models.set(key, parsed);
      return parsed.value;
    });
    if (models.size >= cache.sweepAt) {
      for (const [key, parsed] of models) if (now - parsed.used > IDLE_MS) models.delete(key);
      cache.sweepAt = Math.max(FIRST_SWEEP, models.size * 2);
    }
    return out;
  }

  #readTree(tree: string): T | XmlError {
    const root = new XmlElement(JSON.parse(tree) as XmlNode);
    if (root.name !== this.rootName) {
      return new XmlError(`expected a <${this.rootName}> document, got <${root.name.slice(0, 200)}>`);
    }
    try {
      return deepFreeze(this.read(root));
    } catch (e) {
      if (e instanceof XmlError) return e;
      throw e;
    }
  }
}
