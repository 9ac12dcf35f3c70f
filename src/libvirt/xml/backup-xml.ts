import { buildXml, element, optionalText, parseCount, parseRoot, requireText } from './xml-codec.ts';

/** One disk of a push-mode backup: copied into `file` (in `format`), or left out. */
export type BackupDiskSpec =
  | { name: string; backup: true; file: string; format: string }
  | { name: string; backup: false };

export interface BackupSpec {
  /** The checkpoint an incremental backup starts from: only what changed since is copied. */
  incremental?: string;
  disks: readonly BackupDiskSpec[];
}

/** A push-mode backup document for virDomainBackupBegin (formatbackup.html). */
export function buildBackupXml(spec: BackupSpec): string {
  return buildXml(
    element('domainbackup', { mode: 'push' }, [
      spec.incremental !== undefined && element('incremental', {}, spec.incremental),
      element(
        'disks',
        {},
        spec.disks.map((d) =>
          d.backup
            ? element('disk', { name: d.name, backup: 'yes', type: 'file' }, [
                element('driver', { type: d.format }),
                element('target', { file: d.file }),
              ])
            : element('disk', { name: d.name, backup: 'no' }),
        ),
      ),
    ]),
  );
}

/** A checkpoint document (formatcheckpoint.html): a bitmap on each disk named, none on the others. */
export function buildCheckpointXml(name: string, disks: ReadonlyArray<{ name: string; bitmap: boolean }>): string {
  return buildXml(
    element('domaincheckpoint', {}, [
      element('name', {}, name),
      element(
        'disks',
        {},
        disks.map((d) => element('disk', { name: d.name, checkpoint: d.bitmap ? 'bitmap' : 'no' })),
      ),
    ]),
  );
}

export interface CheckpointXml {
  name: string;
  parent?: string;
  creationTime?: Date;
  /** The disks that track changes since the checkpoint (checkpoint='bitmap'). */
  disks: string[];
}

/** Reads a checkpoint document (virDomainCheckpointGetXMLDesc). */
export function parseCheckpointXml(xml: string): CheckpointXml {
  const root = parseRoot(xml, 'domaincheckpoint');
  const created = optionalText(root, 'creationTime');
  return {
    name: requireText(root, 'name'),
    parent: optionalText(root, 'parent', 'name'),
    creationTime: created === undefined ? undefined : new Date(parseCount(created, 'creationTime') * 1000),
    disks: (root.child('disks')?.elements('disk') ?? [])
      .filter((d) => d.attr('checkpoint') === 'bitmap')
      .map((d) => d.attr('name') ?? ''),
  };
}
