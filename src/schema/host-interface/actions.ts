import type { HostInterface } from '../../libvirt/index.ts';
import { buildEthernetInterfaceXml, parseInterfaceXml } from '../../libvirt/xml/interface-xml.ts';
import { ethernetInterfaceInput } from '../../validation/index.ts';
import { onHostArg } from '../core/auth-scopes.ts';
import { builder } from '../core/builder.ts';
import type { GatewayContext } from '../core/context.ts';
import { parsedArgument } from '../core/errors.ts';
import { safeClientXml } from '../core/host-safety.ts';
import { connectionOf, hostName } from '../core/hosts.ts';
import {
  changed,
  fromInput,
  globalIdOf,
  mutationInput,
  payloadInput,
  RemovedObject,
} from '../core/mutation-support.ts';
import { HostInterfaceNode, type InterfaceShape, interfaces, StartMode } from './host-interface.ts';

const Ipv4Input = builder.inputType('InterfaceIpv4Input', {
  description: 'A static IPv4 address with its prefix length (8–32).',
  fields: (t) => ({
    address: t.string({ description: 'The IPv4 address, e.g. 192.168.10.5.' }),
    prefix: t.int({ description: 'The prefix length, 24 when omitted.' }),
  }),
});

const EthernetInterfaceInput = builder.inputType('EthernetInterfaceInput', {
  description: 'An ethernet interface: static IPv4 (address + prefix) or DHCP.',
  fields: (t) => ({
    name: t.string({ required: true, description: 'e.g. eth1.' }),
    startMode: t.field({
      type: StartMode,
      defaultValue: 'onboot',
      description: 'When the host starts it. @default ONBOOT',
    }),
    mac: t.string({ description: 'MAC address.' }),
    ipv4: t.field({ type: Ipv4Input, description: 'A static address; a prefix without an address is an error.' }),
    dhcp: t.boolean({ description: 'Take IPv4 from DHCP (not with ipv4).' }),
  }),
  validate: ethernetInterfaceInput,
});

async function define(ctx: GatewayContext, host: string, xml: string): Promise<InterfaceShape> {
  const c = await connectionOf(ctx, host);
  const object = await c.defineInterface(xml);
  changed(ctx);
  return { host, object };
}

async function setActive(ctx: GatewayContext, args: { host?: string | null; name: string }, up: boolean) {
  const s = await interfaces.find(ctx, hostName(ctx, args.host), args.name);
  // Already in the wanted state is success, as the catalogue asks.
  if ((await s.object.isActive()) !== up) await (up ? s.object.start() : s.object.stop());
  changed(ctx);
  return s;
}

builder.mutationFields((t) => {
  const host = t.arg.string({ description: 'Registry name of the host; the default host when omitted.' });
  const name = t.arg.string({ required: true, description: 'The interface name.' });
  return {
    startInterface: t.field({
      authScopes: fromInput(onHostArg('Interface.Modify')),
      type: HostInterfaceNode,
      description: 'Brings a defined interface up; already up is success.',
      args: mutationInput('StartInterface', { host, name }),
      resolve: (_r, { input: args }, ctx) => setActive(ctx, args, true),
    }),
    stopInterface: t.field({
      authScopes: fromInput(onHostArg('Interface.Modify')),
      type: HostInterfaceNode,
      description: 'Takes an interface down, keeping its definition; already down is success.',
      args: mutationInput('StopInterface', { host, name }),
      resolve: (_r, { input: args }, ctx) => setActive(ctx, args, false),
    }),
    defineInterface: t.field({
      authScopes: fromInput(onHostArg('Interface.Modify')),
      type: HostInterfaceNode,
      description: 'Defines a host interface from netcf-style XML.',
      args: mutationInput('DefineInterface', {
        host,
        xml: t.arg.string({ required: true, description: 'An interface XML document.' }),
      }),
      resolve: async (_r, { input: args }, ctx) => {
        const host = hostName(ctx, args.host);
        await safeClientXml(ctx, host, 'interface', 'xml', args.xml);
        parsedArgument('xml', () => parseInterfaceXml(args.xml));
        return define(ctx, host, args.xml);
      },
    }),
    defineEthernetInterface: t.field({
      authScopes: fromInput(onHostArg('Interface.Modify')),
      type: HostInterfaceNode,
      description: 'Defines an ethernet interface from parameters.',
      args: mutationInput('DefineEthernetInterface', {
        host,
        interface: t.arg({ type: EthernetInterfaceInput, required: true, description: 'The interface to define.' }),
      }),
      resolve: (_r, { input: args }, ctx) => {
        const i = args.interface;
        const xml = buildEthernetInterfaceXml({
          name: i.name,
          startMode: i.startMode ?? 'onboot',
          mac: i.mac ?? undefined,
          ...(i.ipv4?.address
            ? { ipv4: { address: i.ipv4.address, prefix: i.ipv4.prefix ?? 24 } }
            : i.dhcp
              ? { ipv4: { dhcp: true as const } }
              : {}),
        });
        return define(ctx, hostName(ctx, args.host), xml);
      },
    }),
    undefineInterface: t.field({
      authScopes: fromInput(onHostArg('Interface.Modify')),
      type: RemovedObject,
      description: 'Removes a host interface’s definition.',
      args: payloadInput('UndefineInterface', { host, name }),
      resolve: async (_r, { input: args }, ctx) => {
        const s = await interfaces.find(ctx, hostName(ctx, args.host), args.name);
        const iface: HostInterface = s.object;
        await iface.undefine();
        changed(ctx);
        return { host: s.host, name: iface.name, deletedId: globalIdOf('HostInterface', s.host, iface.name) };
      },
    }),
  };
});
