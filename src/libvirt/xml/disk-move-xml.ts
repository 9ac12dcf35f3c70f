import { buildXml, buildXmlNodes, element, parseDocument, XmlError } from './xml-codec.ts';

/** Where a disk's data lives after a move: a file, or a volume of a pool (for `<disk type='volume'>`). */
export type DiskImageSource = { file: string } | { pool: string; volume: string };

/**
 * The destination of virDomainBlockCopy: a `<disk>` whose `<source>` and driver format libvirt reads
 * (formatdomain.html#hard-drives-floppy-disks-cdroms). The target is there for libvirt's schema only;
 * blockcopy reads nothing but the source and the format.
 */
export function buildCopyDestinationXml(target: string, file: string, format: string): string {
  return buildXml(
    element('disk', { type: 'file', device: 'disk' }, [
      element('driver', { name: 'qemu', type: format }),
      element('source', { file }),
      element('target', { dev: target }),
    ]),
  );
}

/**
 * A domain definition with the disk at `target` (vda…) pointing at `source` in `format`: its
 * source and driver type replaced and its stored backing chain dropped (libvirt probes the new
 * image's own). Everything else is kept as it was.
 */
export function retargetDiskXml(xml: string, target: string, source: DiskImageSource, format: string): string {
  const { nodes, root } = parseDocument(xml, 'domain');
  const disk = root
    .child('devices')
    ?.elements('disk')
    .find((d) => d.attrAt(['target'], 'dev') === target);
  if (disk === undefined) throw new XmlError(`<domain> has no disk with target ${target}`);
  const src = disk.child('source') ?? disk.insert(element('source'), ['driver']);
  for (const attr of ['file', 'dev', 'dir', 'pool', 'volume', 'mode', 'index']) src.setAttr(attr, undefined);
  if ('file' in source) {
    disk.setAttr('type', 'file');
    src.setAttr('file', source.file);
  } else {
    disk.setAttr('type', 'volume');
    src.setAttr('pool', source.pool);
    src.setAttr('volume', source.volume);
  }
  const driver = disk.child('driver') ?? disk.insert(element('driver', { name: 'qemu' }), []);
  driver.setAttr('type', format);
  for (const backing of disk.elements('backingStore')) disk.remove(backing);
  return buildXmlNodes(nodes);
}
