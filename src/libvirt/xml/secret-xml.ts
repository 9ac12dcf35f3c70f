import { buildXml, element, isOn, optionalText, parseRoot, requireText } from './xml-codec.ts';

/** The usage types of libvirt's secret schema (secret.rng), as its XML writes them. */
export const SECRET_USAGE_TYPES = ['none', 'volume', 'ceph', 'iscsi', 'tls', 'vtpm'] as const;
export type SecretUsage = (typeof SECRET_USAGE_TYPES)[number];

/** The element of `<usage>` that holds its id: a volume's path, an iSCSI target, the others' name. */
export function usageIdElement(type: SecretUsage): 'volume' | 'target' | 'name' | undefined {
  if (type === 'none') return undefined;
  if (type === 'volume') return 'volume';
  if (type === 'iscsi') return 'target';
  return 'name';
}

export interface SecretXml {
  uuid: string;
  description?: string;
  /** Kept only in memory, never on the host's disk. */
  ephemeral: boolean;
  /** Its value is never revealed to any libvirt client. */
  private: boolean;
  usage: { type: string; id?: string };
}

/** Reads a secret document (virSecretGetXMLDesc): its definition; a value is never in it. */
export function parseSecretXml(xml: string): SecretXml {
  const root = parseRoot(xml, 'secret');
  const usage = root.child('usage');
  const type = usage?.attr('type') ?? 'none';
  const idElement = (SECRET_USAGE_TYPES as readonly string[]).includes(type)
    ? usageIdElement(type as SecretUsage)
    : undefined;
  return {
    uuid: requireText(root, 'uuid'),
    description: optionalText(root, 'description'),
    ephemeral: isOn(root.attr('ephemeral')) ?? false,
    private: isOn(root.attr('private')) ?? false,
    usage: { type, ...(usage && idElement ? { id: optionalText(usage, idElement) } : {}) },
  };
}

export interface SecretSpec {
  usage: { type: SecretUsage; id?: string };
  description?: string;
  ephemeral: boolean;
  private: boolean;
}

/** A secret definition for virSecretDefineXML; libvirt picks the UUID, so no existing secret is redefined. */
export function buildSecretXml(spec: SecretSpec): string {
  const idElement = usageIdElement(spec.usage.type);
  return buildXml(
    element('secret', { ephemeral: spec.ephemeral ? 'yes' : 'no', private: spec.private ? 'yes' : 'no' }, [
      spec.description !== undefined && element('description', {}, spec.description),
      spec.usage.type !== 'none' &&
        element('usage', { type: spec.usage.type }, [
          idElement !== undefined && spec.usage.id !== undefined && element(idElement, {}, spec.usage.id),
        ]),
    ]),
  );
}
