import { z } from 'zod';
import { type AddressSource, type Domain, type GuestInterfaceAddresses, LibvirtError } from '../../libvirt/index.ts';
import type { DomainGraphics } from '../../libvirt/xml/domain-xml.ts';
import { builder } from '../core/builder.ts';
import type { GatewayContext } from '../core/context.ts';
import { IP_FAMILIES, IpFamily, knownAttribute, lowerCaseEnum } from '../core/enum-types.ts';
import { gatewayError, libvirtExtensions } from '../core/errors.ts';
import { whenLoaded } from '../core/read-fields.ts';
import { DomainNode, type DomainShape, domainDefinition } from './domain.ts';
import { DomainInterfaceRef } from './nic.ts';

/** libvirt's typed parameters as the port hands them over. */
type TypedParams = Awaited<ReturnType<Domain['guestInfo']>>;

const AddressSourceEnum = builder.enumType('InterfaceAddressSource', {
  description: 'Where virDomainInterfaceAddresses learns a guest’s addresses.',
  values: {
    LEASE: { value: 'LEASE', description: 'The DHCP leases of the libvirt network the NIC is on.' },
    AGENT: { value: 'AGENT', description: 'The guest agent (qemu-guest-agent) inside the guest.' },
    ARP: { value: 'ARP', description: 'The host’s ARP table.' },
  } satisfies Record<AddressSource, { value: AddressSource; description: string }>,
});

interface AddressShape {
  type: string;
  address: string;
  prefix: number;
}

const GuestAddress = builder.objectRef<AddressShape>('GuestAddress').implement({
  description: 'An IP address of a guest interface.',
  fields: (t) => ({
    type: t.field({
      type: IpFamily,
      description: 'Its family; null for one the gateway does not know.',
      resolve: (a) => knownAttribute(IP_FAMILIES, a.type.toLowerCase()),
    }),
    address: t.exposeString('address', { nullable: false, description: 'The address, e.g. 192.168.122.15.' }),
    prefix: t.exposeInt('prefix', { nullable: false, description: 'The prefix length, e.g. 24.' }),
  }),
});

/** An agent that is not there: libvirt says "not configured" (no channel) or "not connected"/"not responding". */
function agentMissing(e: unknown): boolean {
  return (
    e instanceof LibvirtError &&
    (e.codeName === 'AGENT_UNRESPONSIVE' ||
      (e.codeName === 'ARGUMENT_UNSUPPORTED' && /agent/i.test(e.message)) ||
      (e.codeName === 'OPERATION_INVALID' && /agent/i.test(e.message)))
  );
}

function unsupportedWithoutAgent(e: unknown, s: DomainShape): never {
  if (agentMissing(e)) {
    const le = e as LibvirtError;
    throw gatewayError('UNSUPPORTED', `no guest agent answers in domain ${s.domain.name}: ${le.message}`, {
      host: s.host,
      libvirt: libvirtExtensions(le).libvirt,
    });
  }
  throw e;
}

/** One virDomainInterfaceAddresses call per domain and source per request, shared by its NICs. */
const addressCache = new WeakMap<GatewayContext, Map<string, Promise<GuestInterfaceAddresses[]>>>();
function addressesOf(ctx: GatewayContext, s: DomainShape, source: AddressSource) {
  let perRequest = addressCache.get(ctx);
  if (!perRequest) {
    perRequest = new Map();
    addressCache.set(ctx, perRequest);
  }
  const key = `${s.host}\u0000${s.domain.uuid}\u0000${source}`;
  let found = perRequest.get(key);
  if (!found) {
    found = s.domain.interfaceAddresses(source).catch((e: unknown) => unsupportedWithoutAgent(e, s));
    perRequest.set(key, found);
  }
  return found;
}

builder.objectField(DomainInterfaceRef, 'addresses', (t) =>
  t.field({
    type: [GuestAddress],
    nullable: false,
    description:
      'Its IP addresses (virDomainInterfaceAddresses) from the network’s DHCP leases, the guest agent or the host’s ARP table; empty when the source knows none. AGENT without an agent in the guest is UNSUPPORTED.',
    args: {
      source: t.arg({
        type: AddressSourceEnum,
        defaultValue: 'LEASE',
        required: true,
        description: 'Where to read the addresses from. @default LEASE',
      }),
    },
    resolve: async (s, args, ctx) => {
      if (!(await s.domain.domain.isActive())) return [];
      const all = await addressesOf(ctx, s.domain, args.source);
      const mac = s.nic.mac?.toLowerCase();
      const found = all.find((i) => (mac !== undefined && i.mac.toLowerCase() === mac) || i.name === s.nic.targetDev);
      return found?.addresses ?? [];
    },
  }),
);

interface GuestInfoShape {
  params: TypedParams;
}

const str = (p: TypedParams, k: string) => (typeof p[k] === 'string' ? (p[k] as string) : null);
const num = (p: TypedParams, k: string) => (typeof p[k] === 'number' || typeof p[k] === 'bigint' ? Number(p[k]) : null);
const big = (p: TypedParams, k: string) =>
  typeof p[k] === 'bigint' ? (p[k] as bigint) : typeof p[k] === 'number' ? BigInt(p[k] as number) : null;
const indexed = (p: TypedParams, prefix: string) =>
  Array.from({ length: num(p, `${prefix}.count`) ?? 0 }, (_, i) => `${prefix}.${i}.`);

const GuestOs = builder.objectRef<TypedParams>('GuestOs').implement({
  description: 'The guest’s operating system as its agent reports it.',
  fields: (t) => ({
    id: t.string({ description: 'e.g. debian, mswindows.', resolve: (p) => str(p, 'os.id') }),
    name: t.string({ description: 'e.g. Debian GNU/Linux.', resolve: (p) => str(p, 'os.name') }),
    prettyName: t.string({
      description: 'e.g. Debian GNU/Linux 12 (bookworm).',
      resolve: (p) => str(p, 'os.pretty-name'),
    }),
    version: t.string({ description: 'e.g. 12 (bookworm).', resolve: (p) => str(p, 'os.version') }),
    versionId: t.string({ description: 'e.g. 12.', resolve: (p) => str(p, 'os.version-id') }),
    kernelRelease: t.string({ description: 'e.g. 6.1.0-13-amd64.', resolve: (p) => str(p, 'os.kernel-release') }),
    kernelVersion: t.string({ description: 'The kernel’s build string.', resolve: (p) => str(p, 'os.kernel-version') }),
    machine: t.string({ description: 'e.g. x86_64.', resolve: (p) => str(p, 'os.machine') }),
  }),
});

const GuestUser = builder.objectRef<{ p: TypedParams; k: string }>('GuestUser').implement({
  description: 'A user logged in to the guest.',
  fields: (t) => ({
    name: t.string({ description: 'The user name.', resolve: ({ p, k }) => str(p, `${k}name`) }),
    domain: t.string({ description: 'The Windows domain, if any.', resolve: ({ p, k }) => str(p, `${k}domain`) }),
    loginTime: t.field({
      type: 'DateTime',
      description: 'When the user logged in.',
      resolve: ({ p, k }) => {
        const ms = num(p, `${k}login-time`);
        return ms === null ? null : new Date(ms);
      },
    }),
  }),
});

const GuestFilesystem = builder.objectRef<{ p: TypedParams; k: string }>('GuestFilesystem').implement({
  description: 'A filesystem mounted in the guest.',
  fields: (t) => ({
    mountpoint: t.string({ description: 'e.g. /.', resolve: ({ p, k }) => str(p, `${k}mountpoint`) }),
    name: t.string({
      description: 'The device name in the guest, e.g. vda1.',
      resolve: ({ p, k }) => str(p, `${k}name`),
    }),
    type: t.string({ description: 'ext4, xfs, ntfs…', resolve: ({ p, k }) => str(p, `${k}fstype`) }),
    totalBytes: t.field({ type: 'BigInt', description: 'Its size.', resolve: ({ p, k }) => big(p, `${k}total-bytes`) }),
    usedBytes: t.field({
      type: 'BigInt',
      description: 'Bytes in use.',
      resolve: ({ p, k }) => big(p, `${k}used-bytes`),
    }),
  }),
});

const GuestInfo = builder.objectRef<GuestInfoShape>('GuestInfo').implement({
  description: 'What the guest agent reports (virDomainGetGuestInfo).',
  fields: (t) => ({
    hostname: t.string({ description: 'The guest’s host name.', resolve: ({ params }) => str(params, 'hostname') }),
    os: t.field({
      type: GuestOs,
      nullable: false,
      description: 'Its operating system.',
      resolve: ({ params }) => params,
    }),
    timezone: t.string({ description: 'e.g. UTC, CET.', resolve: ({ params }) => str(params, 'timezone.name') }),
    timezoneOffsetSeconds: t.int({
      description: 'Offset from UTC, in seconds.',
      resolve: ({ params }) => num(params, 'timezone.offset'),
    }),
    users: t.field({
      type: [GuestUser],
      nullable: false,
      description: 'Users logged in.',
      resolve: ({ params }) => indexed(params, 'user').map((k) => ({ p: params, k })),
    }),
    filesystems: t.field({
      type: [GuestFilesystem],
      nullable: false,
      description: 'Mounted filesystems.',
      resolve: ({ params }) => indexed(params, 'fs').map((k) => ({ p: params, k })),
    }),
  }),
});

/** libvirt's `<graphics type>` values. */
const DISPLAY_TYPES = {
  VNC: 'A VNC server (RFB).',
  SPICE: 'A SPICE server.',
  RDP: 'An RDP server (VirtualBox, QEMU with qemu-rdp).',
  SDL: 'An SDL window on the host.',
  DESKTOP: 'A window on the host’s desktop (VirtualBox).',
  EGL_HEADLESS: 'OpenGL rendering without a display, for another display to show.',
  DBUS: 'A D-Bus display served to other processes.',
} as const;
const DisplayType = lowerCaseEnum(
  'DomainGraphicsType',
  'How a domain’s display is served (libvirt’s `<graphics type>`).',
  DISPLAY_TYPES,
);

const GraphicsRef = builder.objectRef<DomainGraphics>('DomainGraphics').implement({
  description: 'A graphical console of the domain (<graphics>): how its display is served.',
  fields: (t) => ({
    type: t.field({
      type: DisplayType,
      description: 'How it is served; null for a type the gateway does not know.',
      resolve: (g) => knownAttribute(DISPLAY_TYPES, g.type),
    }),
    listen: t.string({
      description: 'The address it listens on, when it listens on one.',
      resolve: (g) => g.listen ?? null,
    }),
    socket: t.string({ description: 'The UNIX socket it listens on, when it does.', resolve: (g) => g.socket ?? null }),
    port: t.int({
      description: 'The TCP port; null until a running domain has one (autoport), or when it has none.',
      resolve: (g) => (g.port === undefined || g.port < 0 ? null : g.port),
    }),
    autoport: t.boolean({
      description: 'Whether libvirt picks the port at start.',
      resolve: (g) => g.autoport ?? null,
    }),
  }),
});

builder.objectFields(DomainNode, (t) => ({
  guestInfo: t.field({
    type: GuestInfo,
    nullable: false,
    description:
      'Host name, OS, time zone, users and filesystems as the guest agent reports them (virDomainGetGuestInfo). The agent gets timeoutSeconds to answer; without an answering agent it is UNSUPPORTED.',
    args: {
      timeoutSeconds: t.arg.int({
        defaultValue: 5,
        required: true,
        description: 'How long the agent may take, 1–60 s. @default 5',
        validate: z.number().int().min(1, 'must be at least 1 second').max(60, 'must be at most 60 seconds'),
      }),
    },
    resolve: async (s, args) => {
      const params = await s.domain
        .guestInfo(['HOSTNAME', 'OS', 'TIMEZONE', 'USERS', 'FILESYSTEM'], args.timeoutSeconds)
        .catch((e: unknown) => unsupportedWithoutAgent(e, s));
      return { params };
    },
  }),
  graphics: t.field({
    type: [GraphicsRef],
    nullable: false,
    description: 'Its graphical consoles (VNC, SPICE…), from its live definition.',
    resolve: (s, _a, ctx) => whenLoaded(domainDefinition(ctx, s), (d) => d.graphics),
  }),
}));
