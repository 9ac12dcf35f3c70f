import type { Scope } from '../../libvirt/index.ts';
import { DeviceMatchError, resolveDeviceXml } from '../../libvirt/xml/device-match.ts';
import { buildDiskXml, buildInterfaceDeviceXml, inferBus } from '../../libvirt/xml/domain-spec-xml.ts';
import { deviceXmlOfDisk, deviceXmlOfInterface } from '../../libvirt/xml/domain-xml.ts';
import type { XmlElement } from '../../libvirt/xml/xml-codec.ts';
import {
  absolutePath,
  attachNetworkInput,
  diskBus,
  diskFormat,
  diskTargetDevice,
  macAddress,
  nicTargetDevice,
} from '../../validation/index.ts';
import { builder } from '../core/builder.ts';
import type { GatewayContext } from '../core/context.ts';
import { lowerCaseEnum } from '../core/enum-types.ts';
import { invalidInput, notFound } from '../core/errors.ts';
import { checkBuiltXml, parsedClientXml, safeClientXml } from '../core/host-safety.ts';
import { hostName } from '../core/hosts.ts';
import { DeviceScope, fromInput, mutationInput } from '../core/mutation-support.ts';
import { DomainNode, DomainRef, type DomainShape, onDomainArg } from './domain.ts';
import { changeInScope, type ScopedArgs } from './lifecycle.ts';

/** Attaches a device the gateway built from an input, once the host-safety policy passed it (`field`: the input that named its host resource). */
async function attachBuilt(ctx: GatewayContext, args: ScopedArgs, field: string, xml: string) {
  await checkBuiltXml(ctx, hostName(ctx, args.host), 'device', field, xml);
  return changeInScope(ctx, args, (s, scope) => s.domain.attachDevice(xml, scope));
}

const DiskKind = lowerCaseEnum('DiskKind', 'What backs an attached disk.', {
  FILE: 'An image file.',
  BLOCK: 'A host block device.',
});

const NicKind = lowerCaseEnum('NicKind', 'What a new NIC connects to.', {
  NETWORK: 'A libvirt virtual network.',
  BRIDGE: 'A host bridge.',
});

const DiskInput = builder.inputType('DiskInput', {
  description: 'A disk to attach: an image file or a block device.',
  fields: (t) => ({
    kind: t.field({
      type: DiskKind,
      required: true,
      description: 'What backs the disk: a file, a block device or a volume.',
    }),
    sourcePath: t.string({ required: true, description: 'Absolute path on the host.', validate: absolutePath }),
    targetDevice: t.string({
      required: true,
      description: 'Guest device name: vdb, sdc, hdb…',
      validate: diskTargetDevice,
    }),
    bus: t.string({
      description: 'virtio, scsi, sata, ide, usb…; inferred from targetDevice when omitted.',
      validate: diskBus,
    }),
    format: t.string({ description: 'Image format for files: raw (default) or qcow2.', validate: diskFormat }),
    readonly: t.boolean({ description: 'Attach read-only.' }),
  }),
});

export const NicInput = builder.inputType('NicInput', {
  description: 'A new NIC on a virtual network or a host bridge.',
  fields: (t) => ({
    kind: t.field({ type: NicKind, required: true, description: 'What the interface connects to.' }),
    source: t.string({ required: true, description: 'The network or bridge name.' }),
    mac: t.string({ description: 'MAC address; libvirt picks one when omitted.', validate: macAddress }),
    model: t.string({ description: 'NIC model: virtio, e1000, usb-net…' }),
  }),
  validate: attachNetworkInput,
});

/** The domain's own XML of the device a client's fragment identifies: NOT_FOUND or INVALID_INPUT unless exactly one. */
function resolvedDevice(domainXml: string, fragment: XmlElement, host: string): string {
  try {
    return resolveDeviceXml(domainXml, fragment);
  } catch (e) {
    if (!(e instanceof DeviceMatchError)) throw e;
    if (e.reason === 'none') throw notFound('device', 'matching the XML', { host, field: 'xml' });
    throw invalidInput('xml', e.message);
  }
}

/** The XML a device is found in: the live definition when the change touches the running domain. */
function definitionFor(s: DomainShape, scope: Scope): Promise<string> {
  return s.domain.xml({ inactive: scope === 'config' });
}

builder.mutationFields((t) => {
  const base = {
    host: t.arg.string({ description: 'Registry name of the host; the default host when omitted.' }),
    domain: t.arg({ type: DomainRef, required: true, description: 'The domain: by name, UUID or runtime id.' }),
    scope: t.arg({ type: DeviceScope, description: 'LIVE, CONFIG or BOTH; see DeviceScope.' }),
  };
  /** A device change: VM.Config on the domain; the answer is the domain after it. */
  const changesDomain = {
    authScopes: fromInput(onDomainArg('VM.Config')),
    type: DomainNode,
  } as const;
  return {
    attachDevice: t.field({
      ...changesDomain,
      description: 'Attaches any device given as XML (a <disk>, <interface>, <hostdev>…).',
      args: mutationInput('AttachDevice', {
        ...base,
        xml: t.arg.string({ required: true, description: 'One device element.' }),
      }),
      resolve: async (_r, { input: args }, ctx) => {
        await safeClientXml(ctx, hostName(ctx, args.host), 'device', 'xml', args.xml);
        return changeInScope(ctx, args, (s, scope) => s.domain.attachDevice(args.xml, scope));
      },
    }),
    detachDevice: t.field({
      ...changesDomain,
      description:
        'Detaches the one device of the domain (live or config, as scoped) that the XML identifies by <alias name>, <target dev>, <mac address> or <source>; libvirt is sent that device’s own XML.',
      args: mutationInput('DetachDevice', {
        ...base,
        xml: t.arg.string({ required: true, description: 'One device element.' }),
      }),
      resolve: async (_r, { input: args }, ctx) => {
        const fragment = parsedClientXml(ctx, 'xml', args.xml);
        return changeInScope(ctx, args, async (s, scope) => {
          await s.domain.detachDevice(resolvedDevice(await definitionFor(s, scope), fragment, s.host), scope);
        });
      },
    }),
    attachDisk: t.field({
      ...changesDomain,
      description: 'Attaches an image file or block device as a disk; the bus follows targetDevice when omitted.',
      args: mutationInput('AttachDisk', {
        ...base,
        disk: t.arg({ type: DiskInput, required: true, description: 'The disk to attach.' }),
      }),
      resolve: async (_r, { input: args }, ctx) => {
        const { disk: input } = args;
        const bus = input.bus ?? inferBus(input.targetDevice);
        if (!bus) throw invalidInput('disk.bus', `cannot be inferred from ${input.targetDevice}; give it`);
        const xml = buildDiskXml({
          kind: input.kind,
          sourcePath: input.sourcePath,
          targetDev: input.targetDevice,
          bus,
          driverType: input.format ?? 'raw',
          readonly: input.readonly ?? false,
        });
        return attachBuilt(ctx, args, 'disk.sourcePath', xml);
      },
    }),
    detachDisk: t.field({
      ...changesDomain,
      description: 'Detaches the disk whose source is sourcePath; the data stays.',
      args: mutationInput('DetachDisk', {
        ...base,
        sourcePath: t.arg.string({
          required: true,
          validate: absolutePath,
          description: 'The host path of the disk to detach, as in DomainDisk.sourcePath.',
        }),
      }),
      resolve: (_r, { input: args }, ctx) =>
        changeInScope(ctx, args, async (s, scope) => {
          const xml = deviceXmlOfDisk(await definitionFor(s, scope), args.sourcePath);
          if (!xml) throw notFound('disk with source', args.sourcePath, { host: s.host, field: 'sourcePath' });
          await s.domain.detachDevice(xml, scope);
        }),
    }),
    attachNetwork: t.field({
      ...changesDomain,
      description: 'Adds a NIC on a virtual network or a host bridge.',
      args: mutationInput('AttachNetwork', {
        ...base,
        nic: t.arg({ type: NicInput, required: true, description: 'The interface to attach.' }),
      }),
      resolve: async (_r, { input: args }, ctx) => {
        const xml = buildInterfaceDeviceXml({
          type: args.nic.kind,
          source: args.nic.source,
          mac: args.nic.mac ?? undefined,
          model: args.nic.model ?? undefined,
        });
        return attachBuilt(ctx, args, 'nic.source', xml);
      },
    }),
    detachNetwork: t.field({
      ...changesDomain,
      description: 'Removes a NIC, found by its host-side target device (vnet0…) or its MAC address.',
      args: mutationInput('DetachNetwork', {
        ...base,
        targetDevice: t.arg.string({ description: 'e.g. vnet0 (running domains).', validate: nicTargetDevice }),
        mac: t.arg.string({ description: 'e.g. 52:54:00:12:34:56.', validate: macAddress }),
      }),
      resolve: (_r, { input: args }, ctx) => {
        if ((args.targetDevice == null) === (args.mac == null)) {
          throw invalidInput('targetDevice', 'give exactly one of targetDevice or mac');
        }
        return changeInScope(ctx, args, async (s, scope) => {
          const match = args.mac != null ? { mac: args.mac } : { targetDev: args.targetDevice ?? undefined };
          const xml = deviceXmlOfInterface(await definitionFor(s, scope), match);
          if (!xml) throw notFound('interface', String(args.mac ?? args.targetDevice), { host: s.host });
          await s.domain.detachDevice(xml, scope);
        });
      },
    }),
  };
});
