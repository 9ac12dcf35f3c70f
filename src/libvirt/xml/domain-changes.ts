import { createHash } from 'node:crypto';
import { buildXml, parseRoot, type XmlElement } from './xml-codec.ts';

/**
 * A digest of a domain's persistent definition as libvirt writes it (virDomainGetXMLDesc with
 * VIR_DOMAIN_XML_INACTIVE, without SECURE: graphics passwords are not part of it, so the digest
 * cannot be used to guess one). Two reads of an unchanged definition give the same digest, on
 * every replica; any change libvirt keeps moves it.
 */
export function configDigest(inactiveXml: string): string {
  return `sha256:${createHash('sha256').update(inactiveXml).digest('hex')}`;
}

/** How a device is named in a list of changes: its tag and what tells it from its siblings. */
function deviceKey(el: XmlElement, ordinal: number): string {
  const id =
    el.attrAt(['target'], 'dev') ?? el.attrAt(['mac'], 'address') ?? el.attrAt(['alias'], 'name') ?? el.attr('type');
  return `devices/${el.name}[${id ?? ordinal}]`;
}

/** Each part of a definition by a key that survives reordering of unrelated parts. */
function sections(root: XmlElement): Map<string, string> {
  const out = new Map<string, string>();
  const count = new Map<string, number>();
  const add = (key: string, el: XmlElement) => {
    const n = count.get(key) ?? 0;
    count.set(key, n + 1);
    out.set(n === 0 ? key : `${key}#${n + 1}`, buildXml(el));
  };
  for (const el of root.elements()) {
    if (el.name !== 'devices') add(el.name, el);
    else
      el.elements().forEach((device, i) => {
        add(deviceKey(device, i), device);
      });
  }
  return out;
}

/**
 * The parts of a domain definition that differ between two versions (`vcpu`, `memory`,
 * `devices/disk[vdb]`, `devices/interface[52:54:00:…]`…), sorted: what a redefinition of a
 * running domain changes only from its next boot.
 */
export function changedSections(beforeXml: string, afterXml: string): string[] {
  const before = sections(parseRoot(beforeXml, 'domain'));
  const after = sections(parseRoot(afterXml, 'domain'));
  const keys = new Set([...before.keys(), ...after.keys()]);
  return [...keys].filter((k) => before.get(k) !== after.get(k)).sort();
}

/**
 * Puts back the display passwords a definition read without VIR_DOMAIN_XML_SECURE lacks: libvirt
 * leaves `passwd` out of what clients read, so a definition edited from that text would otherwise
 * drop every password on the next define. A display of `next` without `passwd` gets the one of
 * the display of the same type and rank in `secure` (the current definition, read with SECURE).
 */
export function keepDisplayPasswords(next: XmlElement, secure: XmlElement): void {
  const displays = (root: XmlElement) => root.child('devices')?.elements('graphics') ?? [];
  const old = displays(secure);
  const fresh = displays(next);
  for (const g of fresh) {
    if (g.attr('passwd') !== undefined) continue;
    const rank = fresh.filter((f) => f.attr('type') === g.attr('type')).indexOf(g);
    const before = old.filter((o) => o.attr('type') === g.attr('type'))[rank];
    const passwd = before?.attr('passwd');
    if (passwd !== undefined) g.setAttr('passwd', passwd);
  }
}
