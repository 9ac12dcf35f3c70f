import type { Version } from '../../libvirt/index.ts';
import { parseCapabilitiesXml } from '../../libvirt/xml/capabilities-xml.ts';
import { onParentHost } from '../core/auth-scopes.ts';
import { builder } from '../core/builder.ts';
import type { GatewayContext } from '../core/context.ts';
import { knownAttribute, OS_TYPES, OsType } from '../core/enum-types.ts';
import { connectionOf, Host, type HostShape } from '../core/hosts.ts';
import { perHost } from '../core/request-cache.ts';

const capabilitiesOf = perHost(async (ctx, host) => {
  const xml = await (await connectionOf(ctx, host)).capabilities();
  return { xml, parsed: parseCapabilitiesXml(xml) };
});

type Capabilities = ReturnType<typeof parseCapabilitiesXml>;

/** The best domain type this host offers for a guest architecture: kvm, then qemu, then whatever it has. */
/** The domain types (kvm, qemu, test…) the host offers hvm guests of `arch` (any arch when omitted). */
export async function offeredDomainTypes(ctx: GatewayContext, host: string, arch?: string): Promise<Set<string>> {
  const { parsed } = await capabilitiesOf(ctx, host);
  const guests = parsed.guests.filter((g) => g.osType === 'hvm' && (arch === undefined || g.arch === arch));
  return new Set(guests.flatMap((g) => g.domainTypes));
}

export async function preferredDomainType(
  ctx: GatewayContext,
  host: string,
  arch?: string,
): Promise<string | undefined> {
  const types = await offeredDomainTypes(ctx, host, arch);
  return ['kvm', 'qemu', 'test'].find((t) => types.has(t)) ?? [...types][0];
}
type Guest = Capabilities['guests'][number];

const VersionRef = builder.objectRef<Version>('Version').implement({
  description: 'A version number as libvirt encodes it (major * 1,000,000 + minor * 1,000 + release).',
  fields: (t) => ({
    major: t.exposeInt('major', { nullable: false, description: 'The major version, e.g. 9 of 9.0.0.' }),
    minor: t.exposeInt('minor', { nullable: false, description: 'The minor version, e.g. 0 of 9.0.0.' }),
    release: t.exposeInt('release', { nullable: false, description: 'The release (micro) number, e.g. 2 of 7.2.2.' }),
    encoded: t.exposeInt('encoded', { nullable: false, description: 'The number as libvirt reports it.' }),
    text: t.exposeString('text', { nullable: false, description: '"major.minor.release".' }),
  }),
});

const GuestMachine = builder.objectRef<Guest['machines'][number]>('GuestMachine').implement({
  description: 'A machine type the hypervisor emulates for a guest architecture.',
  fields: (t) => ({
    name: t.exposeString('name', { nullable: false, description: 'e.g. pc-i440fx-7.2.' }),
    canonical: t.exposeString('canonical', { description: 'The machine this name is an alias of, e.g. for "pc".' }),
    maxCpus: t.exposeInt('maxCpus', { description: 'Most vCPUs a guest of this machine may have.' }),
  }),
});

const GuestCapability = builder.objectRef<Guest>('GuestCapability').implement({
  description: 'One kind of guest the host can run: OS type on an architecture, with its machines and domain types.',
  fields: (t) => ({
    osType: t.field({
      type: OsType,
      description: 'The kind of guest; null for one the gateway does not know.',
      resolve: (g) => knownAttribute(OS_TYPES, g.osType),
    }),
    arch: t.exposeString('arch', { nullable: false, description: 'Guest architecture, e.g. x86_64.' }),
    wordSize: t.exposeInt('wordSize', { description: 'Bits per word.' }),
    emulator: t.exposeString('emulator', { description: 'Path of the emulator binary.' }),
    machines: t.field({
      type: [GuestMachine],
      nullable: false,
      description: 'Machine types for this architecture.',
      resolve: (g) => g.machines,
    }),
    domainTypes: t.exposeStringList('domainTypes', {
      nullable: false,
      description: 'Domain types that can run it, e.g. qemu, kvm.',
    }),
  }),
});

const CapabilitiesRef = builder.objectRef<Capabilities>('Capabilities').implement({
  description: 'The parsed capabilities document (virConnectGetCapabilities).',
  fields: (t) => ({
    hostArch: t.string({ nullable: false, resolve: (c) => c.host.arch, description: 'The host CPU architecture.' }),
    hostCpuModel: t.string({ resolve: (c) => c.host.model ?? null, description: 'The host CPU model, when known.' }),
    hostUuid: t.string({ resolve: (c) => c.host.uuid ?? null, description: 'The host UUID libvirt reports.' }),
    guests: t.field({
      type: [GuestCapability],
      nullable: false,
      description: 'Each OS type and architecture the host can run.',
      resolve: (c) => c.guests,
    }),
    arches: t.stringList({
      nullable: false,
      description: 'Every guest architecture, without repeats.',
      resolve: (c) => [...new Set(c.guests.map((g) => g.arch))],
    }),
    machines: t.stringList({
      nullable: false,
      description: 'Every machine type name, without repeats.',
      resolve: (c) => [...new Set(c.guests.flatMap((g) => g.machines.map((m) => m.name)))],
    }),
    domainTypes: t.stringList({
      nullable: false,
      description: 'Every domain type (qemu, kvm, test…), without repeats.',
      resolve: (c) => [...new Set(c.guests.flatMap((g) => g.domainTypes))],
    }),
  }),
});

const Hypervisor = builder.objectRef<HostShape>('Hypervisor').implement({
  description: 'The hypervisor behind a host’s connection.',
  fields: (t) => ({
    type: t.string({
      description: 'The driver name, e.g. QEMU or TEST (virConnectGetType).',
      resolve: async (h, _args, ctx) => (await connectionOf(ctx, h.name)).hypervisorType(),
    }),
    version: t.field({
      type: VersionRef,
      description: 'The hypervisor’s version (virConnectGetVersion).',
      resolve: async (h, _args, ctx) => (await connectionOf(ctx, h.name)).hypervisorVersion(),
    }),
    libVersion: t.field({
      type: VersionRef,
      description: 'The libvirt version of the daemon serving the connection (virConnectGetLibVersion).',
      resolve: async (h, _args, ctx) => (await connectionOf(ctx, h.name)).libVersion(),
    }),
    capabilitiesXml: t.string({
      description: 'The capabilities XML document as libvirt returns it.',
      resolve: async (h, _args, ctx) => (await capabilitiesOf(ctx, h.name)).xml,
    }),
    capabilities: t.field({
      type: CapabilitiesRef,
      description: 'The capabilities document, parsed.',
      resolve: async (h, _args, ctx) => (await capabilitiesOf(ctx, h.name)).parsed,
    }),
  }),
});

builder.objectField(Host, 'hypervisor', (t) =>
  t.field({
    type: Hypervisor,
    authScopes: onParentHost('Host.Audit'),
    nullable: false,
    description: 'The hypervisor of this host.',
    resolve: (h) => h,
  }),
);
