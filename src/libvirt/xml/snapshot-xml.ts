import { buildXml, element, optionalText, parseCount, parseRoot, requireText, XmlError } from './xml-codec.ts';

/** The domain's state when the snapshot was taken; `disk-snapshot` for a disk-only snapshot. */
export const SNAPSHOT_STATES = [
  'nostate',
  'running',
  'blocked',
  'paused',
  'shutdown',
  'shutoff',
  'crashed',
  'pmsuspended',
  'disk-snapshot',
] as const;
export type SnapshotState = (typeof SNAPSHOT_STATES)[number];

export interface SnapshotDiskXml {
  /** The disk's target (vda) or source path. */
  name: string;
  /** no, internal, external or manual. */
  snapshot?: string;
  /** Where an external snapshot's overlay lives. */
  sourceFile?: string;
}

export interface SnapshotXml {
  name: string;
  description?: string;
  /** When libvirt took it. */
  creationTime?: Date;
  state?: SnapshotState;
  /** The name of the snapshot it was taken on top of. */
  parent?: string;
  /** How memory was saved: no, internal or external. */
  memory?: string;
  memoryFile?: string;
  disks: SnapshotDiskXml[];
  /** Disks only, no memory or device state (state disk-snapshot). */
  diskOnly: boolean;
}

function stateOf(value: string | undefined): SnapshotState | undefined {
  if (value === undefined) return undefined;
  const state = SNAPSHOT_STATES.find((s) => s === value);
  if (state === undefined) throw new XmlError(`<domainsnapshot> has an unknown state ${JSON.stringify(value)}`);
  return state;
}

/** Reads a snapshot document (virDomainSnapshotGetXMLDesc, formatsnapshot.html). */
export function parseSnapshotXml(xml: string): SnapshotXml {
  const root = parseRoot(xml, 'domainsnapshot');
  const created = optionalText(root, 'creationTime');
  const state = stateOf(optionalText(root, 'state'));
  const memory = root.child('memory');
  return {
    name: requireText(root, 'name'),
    description: optionalText(root, 'description'),
    creationTime: created === undefined ? undefined : new Date(parseCount(created, 'creationTime') * 1000),
    state,
    parent: optionalText(root, 'parent', 'name'),
    memory: memory?.attr('snapshot'),
    memoryFile: memory?.attr('file'),
    disks: (root.child('disks')?.elements('disk') ?? []).map((disk) => ({
      name: disk.attr('name') ?? '',
      snapshot: disk.attr('snapshot'),
      sourceFile: disk.attrAt(['source'], 'file'),
    })),
    diskOnly: state === 'disk-snapshot',
  };
}

/** How one disk is captured: an external overlay at `file` (qcow2), or not at all. */
export type SnapshotDiskSpec = { name: string; snapshot: 'external'; file: string } | { name: string; snapshot: 'no' };

export interface SnapshotSpec {
  name: string;
  description?: string;
  /** Disks only, without memory (libvirt then also needs the DISK_ONLY flag). */
  diskOnly?: boolean;
  /** Per disk (by target), where its overlay goes; disks not named get libvirt's default. */
  disks?: readonly SnapshotDiskSpec[];
}

/** A snapshot document for virDomainSnapshotCreateXML; libvirt fills in the rest. */
export function buildSnapshotXml(spec: SnapshotSpec): string {
  return buildXml(
    element('domainsnapshot', {}, [
      element('name', {}, spec.name),
      spec.description !== undefined && element('description', {}, spec.description),
      spec.diskOnly === true && element('memory', { snapshot: 'no' }),
      spec.disks !== undefined &&
        spec.disks.length > 0 &&
        element(
          'disks',
          {},
          spec.disks.map((d) =>
            d.snapshot === 'external'
              ? element('disk', { name: d.name, snapshot: 'external', type: 'file' }, [
                  element('driver', { type: 'qcow2' }),
                  element('source', { file: d.file }),
                ])
              : element('disk', { name: d.name, snapshot: 'no' }),
          ),
        ),
    ]),
  );
}
