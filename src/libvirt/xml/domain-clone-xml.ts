import { buildXmlNodes, parseDocument, XmlError } from './xml-codec.ts';

/** Where a cloned disk's data now lives: a file path, or a volume of a pool (for `<disk type='volume'>`). */
export type ClonedSource = { file: string } | { pool: string; volume: string };

export interface CloneChanges {
  name: string;
  /** The new source of each copied disk, by its guest target (vda…). Disks not named keep their source. */
  disks: ReadonlyMap<string, ClonedSource>;
}

/**
 * The definition of a clone, edited from the source's inactive definition: the new name, no
 * UUID (libvirt makes one), no NIC MAC addresses or host-side device names (libvirt makes new
 * ones), and the copied disks pointing at their copies. Everything else is kept as it was.
 */
export function cloneDomainXml(xml: string, changes: CloneChanges): string {
  const { nodes, root } = parseDocument(xml, 'domain');
  const name = root.child('name');
  if (name === undefined) throw new XmlError('<domain> has no <name>');
  name.setText(changes.name);
  for (const el of ['uuid', 'genid']) {
    const found = root.child(el);
    if (found !== undefined) root.remove(found);
  }
  const devices = root.child('devices');
  for (const nic of devices?.elements('interface') ?? []) {
    for (const el of ['mac', 'target', 'alias']) {
      const found = nic.child(el);
      if (found !== undefined) nic.remove(found);
    }
  }
  for (const disk of devices?.elements('disk') ?? []) {
    const dev = disk.attrAt(['target'], 'dev');
    const copy = dev === undefined ? undefined : changes.disks.get(dev);
    const source = disk.child('source');
    if (copy === undefined || source === undefined) continue;
    for (const attr of ['file', 'dev', 'dir', 'pool', 'volume']) source.setAttr(attr, undefined);
    if ('file' in copy) {
      disk.setAttr('type', 'file');
      source.setAttr('file', copy.file);
    } else {
      disk.setAttr('type', 'volume');
      source.setAttr('pool', copy.pool);
      source.setAttr('volume', copy.volume);
    }
  }
  return buildXmlNodes(nodes);
}
