import { parseRoot, type XmlElement } from './xml-codec.ts';

/** What virConnectGetDomainCapabilities says guests of one arch, machine and virt type can have. */
export interface DomainCapabilitiesXml {
  arch?: string;
  machine?: string;
  /** `<os><enum name='firmware'>`: the firmware libvirt can pick automatically (efi, bios). */
  firmware: string[];
  /** `<loader><enum name='secure'>` holds yes: a Secure Boot capable UEFI is installed. */
  secureBoot: boolean;
  /** CPU modes offered (host-passthrough, host-model, custom, maximum). */
  cpuModes: string[];
  /** Named models of mode custom this host can run. */
  cpuModels: string[];
}

const enumValues = (el: XmlElement | undefined, name: string): string[] =>
  el
    ?.elements('enum')
    .find((e) => e.attr('name') === name)
    ?.elements('value')
    .map((v) => v.text().trim()) ?? [];

export function parseDomainCapabilitiesXml(xml: string): DomainCapabilitiesXml {
  const root = parseRoot(xml, 'domainCapabilities');
  const os = root.child('os');
  const modes = root.child('cpu')?.elements('mode') ?? [];
  const custom = modes.find((m) => m.attr('name') === 'custom');
  return {
    arch: root.textAt('arch'),
    machine: root.textAt('machine'),
    firmware: os?.attr('supported') === 'no' ? [] : enumValues(os, 'firmware'),
    secureBoot: enumValues(os?.child('loader'), 'secure').includes('yes'),
    cpuModes: modes.filter((m) => m.attr('supported') === 'yes').map((m) => m.attr('name') ?? ''),
    cpuModels: (custom?.elements('model') ?? []).filter((m) => m.attr('usable') !== 'no').map((m) => m.text().trim()),
  };
}
