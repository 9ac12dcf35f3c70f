import { buildXml, bytesOf, element, optionalText, parseRoot, requireAttr, requireText } from './xml-codec.ts';

export interface StoragePoolSource {
  /** The exported directory of a netfs pool (`<dir path>`). */
  dir?: string;
  /** Block devices (`<device path>`) of a logical or disk pool. */
  devices: string[];
  /** The first `<host name>` of a network pool. */
  host?: string;
  /** The volume group, RBD pool, gluster volume... */
  name?: string;
  /** The filesystem or label format: nfs, lvm2, gpt... */
  format?: string;
}

export interface StoragePoolXml {
  /** dir, fs, netfs, logical, disk, iscsi, rbd... */
  type: string;
  name: string;
  uuid?: string;
  capacityBytes?: bigint;
  allocationBytes?: bigint;
  availableBytes?: bigint;
  targetPath?: string;
  source: StoragePoolSource;
}

/** Reads a storage pool document (virStoragePoolGetXMLDesc). */
export function parseStoragePoolXml(xml: string): StoragePoolXml {
  const root = parseRoot(xml, 'pool');
  const source = root.child('source');
  return {
    type: requireAttr(root, 'type'),
    name: requireText(root, 'name'),
    uuid: optionalText(root, 'uuid'),
    capacityBytes: bytesOf(root.child('capacity')),
    allocationBytes: bytesOf(root.child('allocation')),
    availableBytes: bytesOf(root.child('available')),
    targetPath: optionalText(root, 'target', 'path'),
    source: {
      dir: source?.attrAt(['dir'], 'path'),
      devices: source?.elements('device').flatMap((d) => d.attr('path') ?? []) ?? [],
      host: source?.attrAt(['host'], 'name'),
      name: source === undefined ? undefined : optionalText(source, 'name'),
      format: source?.attrAt(['format'], 'type'),
    },
  };
}

export type StoragePoolSpec =
  /** A directory of image files. */
  | { type: 'dir'; name: string; uuid?: string; targetPath: string }
  /** An LVM volume group, built from `devices` when it does not exist yet. */
  | { type: 'logical'; name: string; uuid?: string; sourceName?: string; devices?: string[]; targetPath?: string }
  /** A network filesystem mounted at `targetPath`. */
  | {
      type: 'netfs';
      name: string;
      uuid?: string;
      host: string;
      sourceDir: string;
      /** @default 'auto' */
      format?: 'auto' | 'nfs' | 'glusterfs' | 'cifs';
      targetPath: string;
    };

function sourceElement(spec: StoragePoolSpec) {
  switch (spec.type) {
    case 'dir':
      return undefined;
    case 'logical':
      return element('source', {}, [
        ...(spec.devices ?? []).map((path) => element('device', { path })),
        spec.sourceName !== undefined && element('name', {}, spec.sourceName),
        element('format', { type: 'lvm2' }),
      ]);
    case 'netfs':
      return element('source', {}, [
        element('host', { name: spec.host }),
        element('dir', { path: spec.sourceDir }),
        element('format', { type: spec.format ?? 'auto' }),
      ]);
  }
}

/** A storage pool definition for virStoragePoolDefineXML / virStoragePoolCreateXML. */
export function buildStoragePoolXml(spec: StoragePoolSpec): string {
  return buildXml(
    element('pool', { type: spec.type }, [
      element('name', {}, spec.name),
      spec.uuid !== undefined && element('uuid', {}, spec.uuid),
      sourceElement(spec),
      spec.targetPath !== undefined && element('target', {}, [element('path', {}, spec.targetPath)]),
    ]),
  );
}
