import { buildXmlNodes, parseRoot, type XmlElement } from './xml-codec.ts';

/** Why a client's device fragment picks no single device of a domain. */
export class DeviceMatchError extends Error {
  override readonly name = 'DeviceMatchError';
  constructor(
    message: string,
    /** `none`: it identifies devices but the domain has none of them; `vague`: it identifies nothing; `several`: more than one. */
    readonly reason: 'none' | 'vague' | 'several',
  ) {
    super(message);
  }
}

/** What a fragment says about the device it means: each given part must match. */
interface Identity {
  alias?: string;
  targetDev?: string;
  mac?: string;
  /** Attributes of `<source>` and of its `<address>`/`<adapter>` children, as `child@attr` keys. */
  source: Map<string, string>;
}

const SOURCE_CHILDREN = ['address', 'adapter', 'host'];

function sourceAttributes(el: XmlElement): Map<string, string> {
  const out = new Map<string, string>();
  const source = el.child('source');
  if (!source) return out;
  const collect = (node: XmlElement, prefix: string) => {
    const attrs = (node.node[':@'] ?? {}) as Record<string, string>;
    for (const [key, value] of Object.entries(attrs)) out.set(`${prefix}@${key.slice(2)}`, value);
  };
  collect(source, 'source');
  for (const name of SOURCE_CHILDREN) {
    const child = source.child(name);
    if (child) collect(child, `source/${name}`);
  }
  return out;
}

function identityOf(el: XmlElement): Identity {
  return {
    alias: el.attrAt(['alias'], 'name'),
    targetDev: el.attrAt(['target'], 'dev'),
    mac: el.attrAt(['mac'], 'address')?.toLowerCase(),
    source: sourceAttributes(el),
  };
}

function identifiesSomething(id: Identity): boolean {
  return id.alias !== undefined || id.targetDev !== undefined || id.mac !== undefined || id.source.size > 0;
}

function matches(wanted: Identity, device: Identity): boolean {
  if (wanted.alias !== undefined && wanted.alias !== device.alias) return false;
  if (wanted.targetDev !== undefined && wanted.targetDev !== device.targetDev) return false;
  if (wanted.mac !== undefined && wanted.mac !== device.mac) return false;
  for (const [key, value] of wanted.source) if (device.source.get(key) !== value) return false;
  return true;
}

/**
 * The domain's own XML for the one device a client's fragment identifies, by alias, target
 * dev, MAC or source (every one given must match). A fragment naming none of them, or in a
 * namespace, identifies nothing: libvirt 9.0's daemon crashes on a detach of `<disk/>`.
 */
export function resolveDeviceXml(domainXml: string, fragment: XmlElement): string {
  const tag = fragment.name;
  if (tag.includes(':') || fragment.attr('xmlns') !== undefined) {
    throw new DeviceMatchError(`<${tag}> is not a libvirt device element`, 'vague');
  }
  const wanted = identityOf(fragment);
  if (!identifiesSomething(wanted)) {
    throw new DeviceMatchError(
      `<${tag}> identifies no device: give its <alias name>, <target dev>, <mac address> or <source>`,
      'vague',
    );
  }
  const devices = parseRoot(domainXml, 'domain').child('devices')?.elements(tag) ?? [];
  const found = devices.filter((d) => matches(wanted, identityOf(d)));
  const [only, second] = found;
  if (only === undefined) throw new DeviceMatchError(`the domain has no <${tag}> like the one given`, 'none');
  if (second !== undefined) {
    throw new DeviceMatchError(
      `<${tag}> matches ${found.length} devices of the domain; add its alias, target dev, MAC or source`,
      'several',
    );
  }
  return buildXmlNodes([only.node]);
}
