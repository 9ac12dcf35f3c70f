import type { Network } from '../../libvirt/index.ts';
import { buildNetworkXml, parseNetworkXml } from '../../libvirt/xml/network-xml.ts';
import { simpleNetworkInput } from '../../validation/index.ts';
import { onNewObject } from '../core/auth-scopes.ts';
import { builder } from '../core/builder.ts';
import type { GatewayContext } from '../core/context.ts';
import { actionFields, actOnNamed, createDefined } from '../core/defined-objects.ts';
import { parsedArgument } from '../core/errors.ts';
import { safeClientXml } from '../core/host-safety.ts';
import { connectionOf, hostName } from '../core/hosts.ts';
import { createFromXmlArgs, fromInput, mutationInput } from '../core/mutation-support.ts';
import { ForwardMode, NetworkNode, type NetworkShape, networks, onNetworkArg } from './network.ts';

const DhcpRangeInput = builder.inputType('DhcpRangeInput', {
  description: 'Addresses the network’s DHCP server hands out; both ends inside the subnet, start before end.',
  fields: (t) => ({
    start: t.string({ required: true, description: 'The first address handed out.' }),
    end: t.string({ required: true, description: 'The last address handed out.' }),
  }),
});

const SimpleNetworkInput = builder.inputType('SimpleNetworkInput', {
  description: 'A virtual network by parameters (createSimpleNetwork).',
  fields: (t) => ({
    name: t.string({ required: true, description: 'Letters, digits, "-", "_" and ".".' }),
    forwardMode: t.field({
      type: ForwardMode,
      defaultValue: 'nat',
      description: 'NAT and ROUTE need ipAddress and netmask. @default NAT',
    }),
    forwardDevice: t.string({ description: 'The host interface to forward through (NAT/ROUTE only).' }),
    ipAddress: t.string({ description: 'The host’s address on the network, e.g. 192.168.100.1.' }),
    netmask: t.string({ description: 'e.g. 255.255.255.0.' }),
    dhcpRange: t.field({ type: DhcpRangeInput, description: 'Needs ipAddress; both ends or neither.' }),
    dhcpDomain: t.string({ description: 'DNS domain for DHCP clients.' }),
    persistent: t.boolean({ defaultValue: true, description: 'Defined (true) or transient (false). @default true' }),
    autostart: t.boolean({
      defaultValue: true,
      description: 'Started at host boot; ignored for transient. @default true',
    }),
  }),
  validate: simpleNetworkInput,
});

/** Creates a network: transient (started at once), or defined, started and autostarted, undone on any failure. */
async function createNetwork(
  ctx: GatewayContext,
  host: string,
  xml: string,
  persistent: boolean,
  autostart: boolean,
): Promise<NetworkShape> {
  await safeClientXml(ctx, host, 'network', 'xml', xml);
  const { name, uuid } = parsedArgument('xml', () => parseNetworkXml(xml));
  const c = await connectionOf(ctx, host);
  const object = await createDefined<Network>(ctx, {
    kind: 'network',
    host,
    name,
    uuid,
    nameField: 'name',
    existing: await c.networks(),
    persistent,
    autostart,
    createTransient: () => c.createNetwork(xml),
    define: () => c.defineNetwork(xml),
  });
  return { host, object };
}

const actions = {
  typeName: 'Network',
  kind: 'network',
  nameDescription: 'The network name.',
  node: NetworkNode,
  authScopes: onNetworkArg('Network.Modify'),
  find: (ctx: GatewayContext, a: { host?: string | null; name: string }) =>
    networks.find(ctx, hostName(ctx, a.host), a.name),
};

builder.mutationFields((t) => {
  const host = t.arg.string({ description: 'Registry name of the host; the default host when omitted.' });
  const name = t.arg.string({ required: true, description: 'The network name.' });
  return {
    createNetwork: t.field({
      authScopes: fromInput(
        onNewObject(
          'Network.Modify',
          'network',
          (a: { host?: string | null; xml: string }) => parsedArgument('xml', () => parseNetworkXml(a.xml)).name,
        ),
      ),
      type: NetworkNode,
      description:
        'Creates a network from XML: persistent (defined, started, autostart as asked) or transient (started, gone when stopped).',
      args: mutationInput('CreateNetwork', {
        host,
        ...createFromXmlArgs('network', 'Ignored when transient. @default true'),
      }),
      resolve: (_r, { input: args }, ctx) =>
        createNetwork(ctx, hostName(ctx, args.host), args.xml, args.persistent, args.autostart),
    }),
    createSimpleNetwork: t.field({
      authScopes: fromInput(
        onNewObject(
          'Network.Modify',
          'network',
          (a: { host?: string | null; network: { name: string } }) => a.network.name,
        ),
      ),
      type: NetworkNode,
      description: 'Creates a network from parameters, checked before libvirt is asked (see SimpleNetworkInput).',
      args: mutationInput('CreateSimpleNetwork', {
        host,
        network: t.arg({ type: SimpleNetworkInput, required: true, description: 'The network to create.' }),
      }),
      resolve: (_r, { input: args }, ctx) => {
        const i = args.network;
        const xml = buildNetworkXml({
          name: i.name,
          forwardMode: i.forwardMode ?? 'nat',
          forwardDev: i.forwardDevice ?? undefined,
          ...(i.ipAddress ? { ip: { address: i.ipAddress, netmask: i.netmask ?? undefined } } : {}),
          ...(i.dhcpRange ? { dhcpRange: { start: i.dhcpRange.start, end: i.dhcpRange.end } } : {}),
          domainName: i.dhcpDomain ?? undefined,
        });
        return createNetwork(ctx, hostName(ctx, args.host), xml, i.persistent ?? true, i.autostart ?? true);
      },
    }),
    ...actionFields(t, actions, [
      { verb: 'start', mustBeActive: false, run: (n) => n.start(), description: 'Starts an inactive network.' },
      {
        verb: 'stop',
        mustBeActive: true,
        run: (n) => n.stop(),
        description: 'Stops an active network (a transient one then disappears: read only its name).',
      },
      {
        verb: 'undefine',
        mustBeActive: undefined,
        run: (n) => n.undefine(),
        removes: true,
        description: 'Removes a network’s persistent definition (an active one keeps running until stopped).',
      },
    ]),
    setNetworkAutostart: t.field({
      authScopes: fromInput(onNetworkArg('Network.Modify')),
      type: NetworkNode,
      description: 'Whether the host starts the network at boot.',
      args: mutationInput('SetNetworkAutostart', {
        host,
        name,
        autostart: t.arg.boolean({ required: true, description: 'Start it when the host boots (true) or not.' }),
      }),
      resolve: (_r, { input: args }, ctx) =>
        actOnNamed(ctx, actions, args, undefined, (n) => n.setAutostart(args.autostart)),
    }),
  };
});
