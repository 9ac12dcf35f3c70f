import { HostInterface } from '../../libvirt/index.ts';
import { parseInterfaceXml } from '../../libvirt/xml/interface-xml.ts';
import { onHostArg, onParentHost } from '../core/auth-scopes.ts';
import { builder, keyOfGlobalId } from '../core/builder.ts';
import type { GatewayContext } from '../core/context.ts';
import { knownAttribute, lowerCaseEnum } from '../core/enum-types.ts';
import { invalidInput, notFound } from '../core/errors.ts';
import { filteredListFields, keepFlagged, nameFilterFields } from '../core/filtered-list.ts';
import { hostedObjectFields } from '../core/hosted-object.ts';
import { Host, hostName } from '../core/hosts.ts';
import { nameMatcher } from '../core/keyset-connection.ts';
import { objectCache, type Shaped } from '../core/object-cache.ts';
import { hostKey } from '../core/request-cache.ts';

export type InterfaceShape = Shaped<HostInterface>;

const START_MODES = ['none', 'onboot', 'hotplug'] as const;

/** libvirt's `<interface type>` values of a host interface. */
const INTERFACE_TYPES = {
  ETHERNET: 'A physical or virtual ethernet device.',
  BRIDGE: 'A bridge of other interfaces.',
  BOND: 'A bond of other interfaces.',
  VLAN: 'A VLAN on another interface.',
} as const;
const HostInterfaceType = lowerCaseEnum(
  'HostInterfaceType',
  'What kind of host interface (netcf’s `<interface type>`).',
  INTERFACE_TYPES,
);

export const StartMode = lowerCaseEnum('InterfaceStartMode', 'When the host brings an interface up.', {
  NONE: 'Not started by the host.',
  ONBOOT: 'Started when the host boots.',
  HOTPLUG: 'Started when its device appears.',
});

export const interfaces = objectCache<HostInterface>({
  kind: 'interface',
  audit: 'Host.Audit',
  list: (c, filter) => c.interfaces(filter),
  key: (i) => i.name,
  xmlMany: (list) => HostInterface.xmlMany(list),
});

const definition = async (ctx: GatewayContext, s: InterfaceShape) => parseInterfaceXml(await interfaces.xml(ctx, s));
type Address = NonNullable<Awaited<ReturnType<typeof definition>>['ipv4']>['addresses'][number];

const InterfaceAddress = builder.objectRef<Address>('InterfaceAddress').implement({
  description: 'A static address of a host interface.',
  fields: (t) => ({
    address: t.exposeString('address', { nullable: false, description: 'The IPv4 address.' }),
    prefix: t.exposeInt('prefix', { description: 'Prefix length, e.g. 24.' }),
  }),
});

export const HostInterfaceNode = builder.loadableNodeRef('HostInterface', {
  id: { resolve: (s: InterfaceShape) => hostKey(s.host, s.object.name) },
  load: interfaces.load,
});

hostedObjectFields(HostInterfaceNode, 'Its name, unique on the host.');
HostInterfaceNode.implement({
  description: 'A network interface of the host itself (netcf-style definition).',
  fields: (t) => ({
    mac: t.string({ description: 'MAC address.', resolve: (s) => s.object.mac || null }),
    active: t.boolean({ description: 'Whether it is up.', resolve: interfaces.is('active') }),
    type: t.field({
      type: HostInterfaceType,
      description: 'What kind of interface; null for a type the gateway does not know.',
      resolve: async (s, _a, ctx) => knownAttribute(INTERFACE_TYPES, (await definition(ctx, s)).type),
    }),
    startMode: t.field({
      type: StartMode,
      description: 'When the host brings it up; null when its definition names no mode the gateway knows.',
      resolve: async (s, _a, ctx) => {
        const mode = (await definition(ctx, s)).startMode;
        return START_MODES.find((m) => m === mode) ?? null;
      },
    }),
    mtu: t.int({
      description: 'The largest packet it sends, in bytes, when its definition sets one.',
      resolve: async (s, _a, ctx) => (await definition(ctx, s)).mtu ?? null,
    }),
    dhcp: t.boolean({
      description: 'Whether IPv4 comes from DHCP.',
      resolve: async (s, _a, ctx) => (await definition(ctx, s)).ipv4?.dhcp ?? false,
    }),
    addresses: t.field({
      type: [InterfaceAddress],
      description: 'Static IPv4 addresses.',
      resolve: async (s, _a, ctx) => (await definition(ctx, s)).ipv4?.addresses ?? [],
    }),
    xml: t.string({ description: 'The interface XML.', resolve: (s, _a, ctx) => interfaces.xml(ctx, s) }),
  }),
});

export const InterfaceRef = builder.inputType('InterfaceRef', {
  description: 'One host interface by exactly one of its global ID, name or MAC address.',
  isOneOf: true,
  fields: (t) => ({
    id: t.id({ description: 'The global ID, as `HostInterface.id` gives it; of this host.' }),
    name: t.string({ description: 'e.g. eth0.' }),
    mac: t.string({ description: 'e.g. 52:54:00:12:34:56.' }),
  }),
});

async function findInterface(
  ctx: GatewayContext,
  host: string,
  ref: { id?: string | null; name?: string | null; mac?: string | null },
) {
  if (ref.id != null) return interfaces.find(ctx, host, keyOfGlobalId(String(ref.id), 'HostInterface', host, 'ref.id'));
  if (ref.name != null) return interfaces.find(ctx, host, ref.name);
  if (ref.mac == null) throw invalidInput('ref', 'give exactly one of id, name or mac');
  const mac = ref.mac.toLowerCase();
  const found = (await interfaces.all(ctx, host)).find((s) => s.object.mac.toLowerCase() === mac);
  if (!found) throw notFound('interface with MAC', ref.mac, { host });
  return found;
}

const InterfaceFilter = builder.inputType('InterfaceFilter', {
  description: 'Which host interfaces a list returns: every condition given must hold.',
  fields: (t) => ({
    ...nameFilterFields(t),
    active: t.boolean({ description: 'Only interfaces that are up when true, only those down when false.' }),
  }),
});

filteredListFields(Host, {
  kind: 'HostInterface',
  node: HostInterfaceNode,
  filter: InterfaceFilter,
  filterDescription: 'Conditions the interfaces must meet.',
  authScopes: onParentHost('Host.Audit'),
  list: { field: 'interfaces', description: 'Host interfaces, every one or those the filter keeps.' },
  connection: {
    field: 'interfaceConnection',
    description:
      'Host interfaces a page at a time (Relay cursor connection), ordered by name then MAC address; filter to narrow them.',
    one: 'host interface',
    many: 'host interfaces',
    totalCount: 'How many interfaces match the filter, on every page.',
  },
  read: async (h, filter, ctx) => {
    const named = nameMatcher(filter);
    const list = (await interfaces.all(ctx, h.name)).filter((s) => named(s.object.name));
    return keepFlagged(ctx, list, filter, ['active'] as const, interfaces.is);
  },
  sortKey: (s) => [s.object.name, s.object.mac],
  orders: {},
});

builder.objectFields(Host, (t) => ({
  interface: t.field({
    authScopes: onParentHost('Host.Audit'),
    type: HostInterfaceNode,
    description: 'One host interface by name or MAC; a NOT_FOUND error when there is none.',
    args: { ref: t.arg({ type: InterfaceRef, required: true, description: 'The interface: by name or MAC address.' }) },
    resolve: (h, args, ctx) => findInterface(ctx, h.name, args.ref),
  }),
}));

builder.queryFields((t) => ({
  interface: t.field({
    authScopes: onHostArg('Host.Audit'),
    type: HostInterfaceNode,
    description: 'One host interface of a host (the default host when omitted).',
    args: {
      host: t.arg.string({ description: 'Registry name of the host; the default host when omitted.' }),
      ref: t.arg({ type: InterfaceRef, required: true, description: 'The interface: by name or MAC address.' }),
    },
    resolve: (_root, args, ctx) => findInterface(ctx, hostName(ctx, args.host), args.ref),
  }),
}));
