import {
  optionalCount,
  optionalText,
  parseCount,
  parseRoot,
  requireAttr,
  requireText,
  type XmlElement,
  XmlError,
} from './xml-codec.ts';

export interface CapabilitiesHost {
  uuid?: string;
  arch: string;
  /** The host CPU model, e.g. Skylake-Client. */
  model?: string;
  vendor?: string;
  topology?: { sockets: number; dies?: number; cores: number; threads: number };
}

export interface CapabilitiesMachine {
  name: string;
  /** The versioned machine an alias stands for, e.g. pc → pc-i440fx-7.2. */
  canonical?: string;
  maxCpus?: number;
}

export interface CapabilitiesGuest {
  /** hvm, xen, exe... */
  osType: string;
  arch: string;
  wordSize?: number;
  emulator?: string;
  /** Machine types of the arch and of each domain type, each name once. */
  machines: CapabilitiesMachine[];
  /** qemu, kvm, test... */
  domainTypes: string[];
}

export interface CapabilitiesXml {
  host: CapabilitiesHost;
  guests: CapabilitiesGuest[];
}

function readTopology(el: XmlElement | undefined): CapabilitiesHost['topology'] {
  if (el === undefined) return undefined;
  return {
    sockets: parseCount(requireAttr(el, 'sockets'), '<topology sockets>'),
    dies: optionalCount(el.attr('dies'), '<topology dies>'),
    cores: parseCount(requireAttr(el, 'cores'), '<topology cores>'),
    threads: parseCount(requireAttr(el, 'threads'), '<topology threads>'),
  };
}

function readMachine(el: XmlElement): CapabilitiesMachine {
  return {
    name: el.text().trim(),
    canonical: el.attr('canonical'),
    maxCpus: optionalCount(el.attr('maxCpus'), '<machine maxCpus>'),
  };
}

function readGuest(el: XmlElement): CapabilitiesGuest {
  const arch = el.child('arch');
  if (arch === undefined) throw new XmlError('<guest> has no <arch>');
  const domains = arch.elements('domain');
  // libvirt lists machines under <arch> and again under <domain type='kvm'> when KVM's differ.
  const machines = new Map<string, CapabilitiesMachine>();
  for (const m of [...arch.elements('machine'), ...domains.flatMap((d) => d.elements('machine'))]) {
    const machine = readMachine(m);
    if (!machines.has(machine.name)) machines.set(machine.name, machine);
  }
  const wordSize = optionalText(arch, 'wordsize');
  return {
    osType: requireText(el, 'os_type'),
    arch: requireAttr(arch, 'name'),
    wordSize: optionalCount(wordSize, '<wordsize>'),
    emulator: optionalText(arch, 'emulator'),
    machines: [...machines.values()],
    domainTypes: domains.map((d) => requireAttr(d, 'type')),
  };
}

/** Reads a host's capabilities (virConnectGetCapabilities). */
export function parseCapabilitiesXml(xml: string): CapabilitiesXml {
  const root = parseRoot(xml, 'capabilities');
  const host = root.child('host');
  if (host === undefined) throw new XmlError('<capabilities> has no <host>');
  const cpu = host.child('cpu');
  if (cpu === undefined) throw new XmlError('<host> has no <cpu>');
  return {
    host: {
      uuid: optionalText(host, 'uuid'),
      arch: requireText(cpu, 'arch'),
      model: optionalText(cpu, 'model'),
      vendor: optionalText(cpu, 'vendor'),
      topology: readTopology(cpu.child('topology')),
    },
    guests: root.elements('guest').map(readGuest),
  };
}
