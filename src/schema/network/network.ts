import type { Privilege } from '../../auth/privileges.ts';
import { Network } from '../../libvirt/index.ts';
import { parseNetworkXml } from '../../libvirt/xml/network-xml.ts';
import { onObject } from '../core/auth-scopes.ts';
import { builder } from '../core/builder.ts';
import type { GatewayContext } from '../core/context.ts';
import { IP_FAMILIES, IpFamily, knownAttribute } from '../core/enum-types.ts';
import { byNameFields, hostedObjectFields, uuidField } from '../core/hosted-object.ts';
import { objectCache, type Shaped } from '../core/object-cache.ts';
import { hostKey } from '../core/request-cache.ts';

export type NetworkShape = Shaped<Network>;

const FORWARD_MODES = ['none', 'nat', 'route', 'open', 'bridge', 'private', 'vepa', 'passthrough', 'hostdev'] as const;

export const ForwardMode = builder.enumType('NetworkForwardMode', {
  description:
    'How a network reaches the outside (<forward mode>). createSimpleNetwork builds NONE, NAT and ROUTE networks; the others come from XML.',
  values: {
    NONE: { value: 'none', description: 'Isolated: guests reach each other and the host only.' },
    NAT: { value: 'nat', description: 'Outbound traffic is masqueraded behind the host.' },
    ROUTE: { value: 'route', description: 'Routed without NAT.' },
    OPEN: { value: 'open', description: 'Routed, with no firewall rules added by libvirt.' },
    BRIDGE: { value: 'bridge', description: 'A host bridge (or macvtap bridge mode) outside libvirt.' },
    PRIVATE: { value: 'private', description: 'macvtap private mode: guests cannot reach each other.' },
    VEPA: { value: 'vepa', description: 'macvtap VEPA mode: guest traffic goes through the external switch.' },
    PASSTHROUGH: { value: 'passthrough', description: 'macvtap passthrough: one guest owns the device.' },
    HOSTDEV: { value: 'hostdev', description: 'SR-IOV virtual functions assigned to guests.' },
  } as const,
});

export const networks = objectCache<Network>({
  kind: 'network',
  audit: 'Network.Audit',
  list: (c, filter) => c.networks(filter),
  key: (n) => n.name,
  xmlMany: (list) => Network.xmlMany(list),
});

/** authScopes: a Network privilege on the network `name` names (NOT_FOUND when the caller may not see it). */
export function onNetworkArg(privilege: Privilege) {
  return onObject(privilege, 'network', async (ctx, host, args: { host?: string | null; name: string }) => {
    await networks.find(ctx, host, args.name);
    return args.name;
  });
}

const definition = async (ctx: GatewayContext, s: NetworkShape) => parseNetworkXml(await networks.xml(ctx, s));
type NetworkIpShape = Awaited<ReturnType<typeof definition>>['ips'][number];

const DhcpRange = builder.objectRef<{ start: string; end: string }>('DhcpRange').implement({
  description: 'A range of addresses the network’s DHCP server hands out.',
  fields: (t) => ({
    start: t.exposeString('start', { nullable: false, description: 'The first address of the range.' }),
    end: t.exposeString('end', { nullable: false, description: 'The last address of the range.' }),
  }),
});

const NetworkIp = builder.objectRef<NetworkIpShape>('NetworkIp').implement({
  description: 'An address of the network on the host side, with its DHCP ranges.',
  fields: (t) => ({
    family: t.field({
      type: IpFamily,
      description: 'Its family; null for one the gateway does not know.',
      resolve: (ip) => knownAttribute(IP_FAMILIES, ip.family),
    }),
    address: t.exposeString('address', { description: 'The host’s address on the network.' }),
    netmask: t.exposeString('netmask', { description: 'Dotted netmask (IPv4), when given that way.' }),
    prefix: t.exposeInt('prefix', { description: 'Prefix length, when given that way.' }),
    dhcpRanges: t.field({
      type: [DhcpRange],
      nullable: false,
      description: 'Ranges the DHCP server hands out; empty without DHCP.',
      resolve: (ip) => ip.dhcpRanges,
    }),
  }),
});

export const NetworkNode = builder.loadableNodeRef('Network', {
  id: { resolve: (s: NetworkShape) => hostKey(s.host, s.object.name) },
  load: networks.load,
});

hostedObjectFields(NetworkNode, 'Its name, unique on the host.');
uuidField(NetworkNode);
NetworkNode.implement({
  description: 'A libvirt virtual network.',
  fields: (t) => ({
    active: t.boolean({ description: 'Whether it is started.', resolve: networks.is('active') }),
    persistent: t.boolean({
      description: 'Whether it has a persistent definition (transient networks exist only while active).',
      resolve: networks.is('persistent'),
    }),
    autostart: t.boolean({ description: 'Whether the host starts it at boot.', resolve: networks.is('autostart') }),
    bridge: t.string({
      description: 'The host bridge device, e.g. virbr0.',
      resolve: async (s, _a, ctx) => (await definition(ctx, s)).bridge?.name ?? null,
    }),
    forwardMode: t.field({
      type: ForwardMode,
      description:
        'How it reaches the outside: NONE for an isolated network; null for a mode the gateway does not know.',
      resolve: async (s, _a, ctx) => {
        const mode = (await definition(ctx, s)).forward?.mode ?? 'none';
        return FORWARD_MODES.find((m) => m === mode) ?? null;
      },
    }),
    forwardDevice: t.string({
      description: 'The host device traffic is forwarded through, when restricted to one.',
      resolve: async (s, _a, ctx) => (await definition(ctx, s)).forward?.dev ?? null,
    }),
    domainName: t.string({
      description: 'The DNS domain of the network’s DHCP clients.',
      resolve: async (s, _a, ctx) => (await definition(ctx, s)).domainName ?? null,
    }),
    ips: t.field({
      type: [NetworkIp],
      description: 'Host-side addresses with their DHCP ranges.',
      resolve: async (s, _a, ctx) => (await definition(ctx, s)).ips,
    }),
    xml: t.string({ description: 'The network XML.', resolve: (s, _a, ctx) => networks.xml(ctx, s) }),
  }),
});

byNameFields({
  field: 'network',
  node: NetworkNode,
  privilege: 'Network.Audit',
  onHost: 'One network by name; a NOT_FOUND error when there is none.',
  onQuery: 'One network of a host (the default host when omitted).',
  nameDescription: 'The network name.',
  find: networks.find,
});
