import { DefinitionModels } from './definition-models.ts';
import { Domain, type XmlOptions } from './domain.ts';
import type { LibvirtError } from './errors.ts';
import { type DomainXml, readDomain } from './xml/domain-xml.ts';
import type { XmlError } from './xml/xml-codec.ts';

const models = new DefinitionModels<DomainXml>('domain', readDomain);

/**
 * The read models of these domains' definitions (live, or persistent with `inactive`), all of one
 * connection: libvirt is asked for every document, and only those that changed since the last
 * read are parsed. The models are frozen and shared between requests.
 */
export function domainDefinitions(
  domains: readonly Domain[],
  options: Pick<XmlOptions, 'inactive'> = {},
): Promise<Array<DomainXml | XmlError | LibvirtError>> {
  const [first] = domains;
  if (first === undefined) return Promise.resolve([]);
  const flavour = options.inactive ? '/inactive' : '/live';
  return models.load(
    first.connection,
    domains.map((d) => d.uuid + flavour),
    (known) => Domain.definitionsMany(domains, known, options),
  );
}
