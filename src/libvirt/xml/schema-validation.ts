import { join } from 'node:path';
import { native } from '../native.ts';
import type { ClientDocumentKind } from './host-safety-scan.ts';
import { buildXml, element, type XmlElement } from './xml-codec.ts';

/** Where libvirt (libvirt0) installs its RelaxNG schemas; VIRTQL_SCHEMA_DIR overrides it. */
export const SCHEMA_DIR = process.env.VIRTQL_SCHEMA_DIR ?? '/usr/share/libvirt/schemas';

const SCHEMA_FILES: Record<ClientDocumentKind, string> = {
  domain: 'domain.rng',
  device: 'domain.rng',
  network: 'network.rng',
  pool: 'storagepool.rng',
  volume: 'storagevol.rng',
  interface: 'interface.rng',
  snapshot: 'domainsnapshot.rng',
};

/** A device alone has no schema of its own: it is checked as the one device of a minimal domain. */
function asDomain(device: XmlElement): string {
  return buildXml(
    element('domain', { type: 'kvm' }, [
      element('name', {}, 'device-check'),
      element('memory', {}, 1024),
      element('os', {}, [element('type', {}, 'hvm')]),
      element('devices', {}, [device]),
    ]),
  );
}

/**
 * A volume without `<target>`: libvirt's schema asks for one, but libvirt's parser fills it in
 * from the pool (and virStorageVolCreateXML has no validating flag on 9.0). It is checked with an
 * empty one, which the schema accepts, so every other element is still held to the schema.
 */
function withTarget(volume: XmlElement, xml: string): string {
  if (volume.child('target') !== undefined) return xml;
  return buildXml(element(volume.name, attributesOf(volume), [...volume.content, element('target')]));
}

function attributesOf(el: XmlElement): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries((el.node[':@'] ?? {}) as Record<string, string>)) out[key.slice(2)] = value;
  return out;
}

/**
 * Why libvirt's own schema refuses a client document ("line N: …"), or undefined when it accepts
 * it, as `virsh define --validate` would. `tree` is the document as libxml2 parsed it (needed for
 * devices, which are validated inside a domain).
 */
export async function schemaProblem(
  kind: ClientDocumentKind,
  xml: string,
  tree: XmlElement,
): Promise<string | undefined> {
  const document = kind === 'device' ? asDomain(tree) : kind === 'volume' ? withTarget(tree, xml) : xml;
  const [problem] = await native.xmlValidateRelaxNG(join(SCHEMA_DIR, SCHEMA_FILES[kind]), [document]);
  return problem ?? undefined;
}
