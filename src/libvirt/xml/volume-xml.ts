import { buildXml, bytesOf, element, optionalText, parseRoot, requireText, XmlError } from './xml-codec.ts';

export interface VolumeXml {
  /** file, block, dir, network, netdir, ploop */
  type?: string;
  name: string;
  key?: string;
  capacityBytes: bigint;
  allocationBytes?: bigint;
  /** The size on disk of the image itself. */
  physicalBytes?: bigint;
  targetPath?: string;
  /** raw, qcow2, iso... */
  format?: string;
  /** The qcow2 cluster size. */
  clusterSizeBytes?: bigint;
  /** The image a copy-on-write volume is layered on. */
  backingStore?: { path?: string; format?: string };
}

/** Reads a storage volume document (virStorageVolGetXMLDesc). */
export function parseVolumeXml(xml: string): VolumeXml {
  const root = parseRoot(xml, 'volume');
  const capacityBytes = bytesOf(root.child('capacity'));
  if (capacityBytes === undefined) throw new XmlError('<volume> has no <capacity>');
  const backing = root.child('backingStore');
  return {
    type: root.attr('type'),
    name: requireText(root, 'name'),
    key: optionalText(root, 'key'),
    capacityBytes,
    allocationBytes: bytesOf(root.child('allocation')),
    physicalBytes: bytesOf(root.child('physical')),
    targetPath: optionalText(root, 'target', 'path'),
    format: root.attrAt(['target', 'format'], 'type'),
    clusterSizeBytes: bytesOf(root.at('target', 'clusterSize')),
    backingStore:
      backing === undefined
        ? undefined
        : { path: optionalText(backing, 'path'), format: backing.attrAt(['format'], 'type') },
  };
}

export interface VolumeSpec {
  name: string;
  capacityBytes: bigint;
  /** How much to allocate up front; 0 makes a sparse file. @default the pool's choice */
  allocationBytes?: bigint;
  format?: 'raw' | 'qcow2' | 'qed' | 'vmdk' | 'vdi' | 'iso' | (string & {});
  /** qcow2 only: QEMU needs clusters above the default 64 KiB for images of 2^53 bytes and more. */
  clusterSizeBytes?: bigint;
  /** Makes a copy-on-write overlay of another image (qcow2). */
  backingStore?: { path: string; format?: string };
}

/** A volume definition for virStorageVolCreateXML; sizes are written in bytes. */
export function buildVolumeXml(spec: VolumeSpec): string {
  if (spec.capacityBytes < 0n) throw new RangeError(`capacityBytes must not be negative, got ${spec.capacityBytes}`);
  const backing = spec.backingStore;
  return buildXml(
    element('volume', {}, [
      element('name', {}, spec.name),
      element('capacity', { unit: 'bytes' }, spec.capacityBytes),
      spec.allocationBytes !== undefined && element('allocation', { unit: 'bytes' }, spec.allocationBytes),
      (spec.format !== undefined || spec.clusterSizeBytes !== undefined) &&
        element('target', {}, [
          spec.format !== undefined && element('format', { type: spec.format }),
          spec.clusterSizeBytes !== undefined && element('clusterSize', { unit: 'bytes' }, spec.clusterSizeBytes),
        ]),
      backing !== undefined &&
        element('backingStore', {}, [
          element('path', {}, backing.path),
          backing.format !== undefined && element('format', { type: backing.format }),
        ]),
    ]),
  );
}
