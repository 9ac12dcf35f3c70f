import { isMap, parseDocument, stringify } from 'yaml';
import { buildIso } from './iso9660.ts';

/** What a domain's first boot is told through cloud-init's NoCloud datasource. */
export interface CloudInitConfig {
  /** user-data as given: #cloud-config YAML, a script, a MIME multi-part… @default an empty #cloud-config */
  userData?: string;
  /** meta-data YAML: a mapping; the keys below are added to it. */
  metaData?: string;
  /** network-config (version 1 or 2 YAML); left out, cloud-init configures DHCP on the first NIC. */
  networkConfig?: string;
  /** meta-data `local-hostname`. */
  hostname?: string;
  /** meta-data `public-keys`: the default user's authorized keys. */
  sshAuthorizedKeys?: string[];
  /** meta-data `instance-id` when metaData has none: cloud-init runs its first-boot modules once per id. */
  instanceId: string;
}

export class CloudInitError extends Error {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(message);
  }
}

/** The meta-data document: the client's mapping with instance-id, local-hostname and public-keys added. */
function metaData(c: CloudInitConfig): string {
  const doc = parseDocument(c.metaData ?? '{}');
  if (doc.errors.length > 0) throw new CloudInitError('metaData', `is not YAML: ${doc.errors[0]?.message}`);
  const map = doc.contents ?? doc.createNode({});
  if (!isMap(map)) throw new CloudInitError('metaData', 'must be a YAML mapping');
  const meta = doc.toJS() ?? {};
  if (meta['instance-id'] === undefined) meta['instance-id'] = c.instanceId;
  if (c.hostname !== undefined) meta['local-hostname'] = c.hostname;
  if (c.sshAuthorizedKeys !== undefined) meta['public-keys'] = c.sshAuthorizedKeys;
  return stringify(meta);
}

/**
 * The NoCloud seed: an ISO 9660 image labelled `cidata` with user-data, meta-data and, when
 * given, network-config, as cloud-init looks for it on a CD-ROM (and virt-install --cloud-init
 * writes it).
 */
export function nocloudSeedIso(c: CloudInitConfig, date?: Date): Buffer {
  const files = [
    { name: 'user-data', data: Buffer.from(c.userData ?? '#cloud-config\n', 'utf8') },
    { name: 'meta-data', data: Buffer.from(metaData(c), 'utf8') },
    ...(c.networkConfig !== undefined ? [{ name: 'network-config', data: Buffer.from(c.networkConfig, 'utf8') }] : []),
  ];
  return buildIso({ label: 'cidata', files, ...(date ? { date } : {}) });
}
