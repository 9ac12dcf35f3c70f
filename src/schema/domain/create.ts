import { LibvirtError } from '../../libvirt/index.ts';
import { buildDomainXml } from '../../libvirt/xml/domain-spec-xml.ts';
import { type BootDevice, type DomainType, parseDomainXml } from '../../libvirt/xml/domain-xml.ts';
import {
  arch,
  bootDevices,
  domainDescription,
  domainName,
  machine,
  memoryKiB,
  vcpuCount,
} from '../../validation/index.ts';
import { onNewDomain } from '../core/auth-scopes.ts';
import { builder } from '../core/builder.ts';
import type { GatewayContext } from '../core/context.ts';
import { refuseUsedUuid, withoutOtherNames } from '../core/define-conflicts.ts';
import { invalidInput, parsedArgument } from '../core/errors.ts';
import { checkBuiltXml, safeClientXml } from '../core/host-safety.ts';
import { connectionOf, hostName } from '../core/hosts.ts';
import { lowerCaseEnum } from '../core/lower-case-enum.ts';
import { allOrNothing, changed, fromInput, mutationInput } from '../core/mutation-support.ts';
import { preferredDomainType } from '../host/hypervisor.ts';
import { DomainNode, type DomainShape } from './domain.ts';
import { reread } from './lifecycle.ts';

const BootDeviceEnum = lowerCaseEnum('BootDevice', 'A device the domain boots from, in order.', {
  HD: 'The first hard disk.',
  FD: 'The first floppy disk.',
  CDROM: 'The first CD-ROM.',
  NETWORK: 'The network (PXE).',
});

const DomainInput = builder.inputType('DomainInput', {
  description: 'A domain described by parameters; the gateway writes its XML.',
  fields: (t) => ({
    name: t.string({
      required: true,
      description: 'Letters, digits, "-", "_" and "."; unique on the host.',
      validate: domainName,
    }),
    description: t.string({
      description: 'Free text stored in the definition (at most 4096 characters).',
      validate: domainDescription,
    }),
    vcpus: t.int({ defaultValue: 1, description: 'Virtual CPUs (1–4096). @default 1', validate: vcpuCount }),
    memoryKiB: t.field({
      type: 'BigInt',
      defaultValue: 524288n,
      description: 'Memory in KiB. @default 524288 (512 MiB)',
      validate: memoryKiB,
    }),
    arch: t.string({
      description: 'Guest architecture, e.g. x86_64; the host’s default when omitted.',
      validate: arch,
    }),
    machine: t.string({
      description: 'Machine type, e.g. pc or q35; the hypervisor’s default when omitted.',
      validate: machine,
    }),
    bootDevices: t.field({
      type: [BootDeviceEnum],
      description: 'Boot order: at most 3 of HD, FD, CDROM, NETWORK, no repeats. @default [HD]',
      validate: bootDevices,
    }),
  }),
});

interface DomainInputValue {
  name: string;
  description?: string | null;
  vcpus?: number | null;
  memoryKiB?: bigint | null;
  arch?: string | null;
  machine?: string | null;
  bootDevices?: string[] | null;
}

async function ensureNameFree(ctx: GatewayContext, host: string, name: string, field: string): Promise<void> {
  const c = await connectionOf(ctx, host);
  const existing = await c.domainByName(name).catch((e: unknown) => {
    if (e instanceof LibvirtError && e.codeName === 'NO_DOMAIN') return undefined;
    throw e;
  });
  if (existing) throw invalidInput(field, `a domain named ${name} already exists on host ${host}`);
}

async function xmlFromInput(ctx: GatewayContext, host: string, input: DomainInputValue): Promise<string> {
  await ensureNameFree(ctx, host, input.name, 'domain.name');
  const type = await preferredDomainType(ctx, host, input.arch ?? undefined);
  if (!type) throw invalidInput('domain.arch', `host ${host} cannot run ${input.arch ?? 'hvm'} guests`);
  const xml = buildDomainXml({
    type: type as DomainType,
    name: input.name,
    description: input.description ?? undefined,
    vcpus: input.vcpus ?? 1,
    memoryKiB: input.memoryKiB ?? 524288n,
    arch: input.arch ?? undefined,
    machine: input.machine ?? undefined,
    boot: (input.bootDevices ?? ['hd']) as BootDevice[],
  });
  await checkBuiltXml(ctx, host, 'domain', 'input', xml);
  return xml;
}

/** The name in a client's domain XML, checked to be new on the host (define would otherwise replace a domain). */
async function checkXml(ctx: GatewayContext, host: string, xml: string): Promise<void> {
  await safeClientXml(ctx, host, 'domain', 'xml', xml);
  const { name } = parsedArgument('xml', () => parseDomainXml(xml));
  await ensureNameFree(ctx, host, name, 'xml');
}

/**
 * The host's domains (every one, seen by the caller or not) after checking the document's UUID
 * is free: libvirt would name the domain that has it. Errors from libvirt then name no other domain.
 */
async function conflictChecked(ctx: GatewayContext, host: string, xml: string) {
  const c = await connectionOf(ctx, host);
  const { name, uuid } = parsedArgument('xml', () => parseDomainXml(xml));
  const existing = await c.domains();
  refuseUsedUuid(uuid, existing);
  return { c, scrub: withoutOtherNames('domain', name, existing) };
}

async function define(ctx: GatewayContext, host: string, xml: string, autostart: boolean): Promise<DomainShape> {
  const { c, scrub } = await conflictChecked(ctx, host, xml);
  let shape: DomainShape | undefined;
  await allOrNothing([
    {
      run: async () => {
        shape = { host, domain: await c.defineDomain(xml).catch(scrub) };
      },
      undo: () => shape?.domain.undefine() ?? Promise.resolve(),
    },
    { run: () => (autostart ? (shape as DomainShape).domain.setAutostart(true) : Promise.resolve()) },
  ]);
  return reread(ctx, host, (shape as DomainShape).domain);
}

async function create(ctx: GatewayContext, host: string, xml: string): Promise<DomainShape> {
  const { c, scrub } = await conflictChecked(ctx, host, xml);
  const domain = await c.createDomain(xml).catch(scrub);
  changed(ctx);
  return { host, domain };
}

builder.mutationFields((t) => {
  const host = t.arg.string({ description: 'Registry name of the host; the default host when omitted.' });
  const xml = t.arg.string({ required: true, description: 'A complete domain XML document.' });
  const autostart = t.arg.boolean({
    defaultValue: false,
    required: true,
    description: 'Start it when the host boots. @default false',
  });
  return {
    createDomain: t.field({
      authScopes: fromInput(onNewDomain('VM.Allocate')),
      type: DomainNode,
      nullable: false,
      description: 'Creates a transient domain from parameters and starts it at once.',
      args: mutationInput('CreateDomain', {
        host,
        domain: t.arg({ type: DomainInput, required: true, description: 'The domain to create.' }),
      }),
      resolve: async (_r, { input: args }, ctx) => {
        const h = hostName(ctx, args.host);
        return create(ctx, h, await xmlFromInput(ctx, h, args.domain));
      },
    }),
    createDomainFromXml: t.field({
      authScopes: fromInput(onNewDomain('VM.Allocate')),
      type: DomainNode,
      nullable: false,
      description: 'Creates a transient domain from XML and starts it at once.',
      args: mutationInput('CreateDomainFromXml', { host, xml }),
      resolve: async (_r, { input: args }, ctx) => {
        const h = hostName(ctx, args.host);
        await checkXml(ctx, h, args.xml);
        return create(ctx, h, args.xml);
      },
    }),
    defineDomain: t.field({
      authScopes: fromInput(onNewDomain('VM.Allocate')),
      type: DomainNode,
      nullable: false,
      description: 'Defines a persistent domain from parameters, not started; autostart optional.',
      args: mutationInput('DefineDomain', {
        host,
        domain: t.arg({ type: DomainInput, required: true, description: 'The domain to define.' }),
        autostart,
      }),
      resolve: async (_r, { input: args }, ctx) => {
        const h = hostName(ctx, args.host);
        return define(ctx, h, await xmlFromInput(ctx, h, args.domain), args.autostart);
      },
    }),
    defineDomainFromXml: t.field({
      authScopes: fromInput(onNewDomain('VM.Allocate')),
      type: DomainNode,
      nullable: false,
      description:
        'Defines a persistent domain from XML, not started; autostart optional. The name must be new on the host.',
      args: mutationInput('DefineDomainFromXml', {
        host,
        xml,
        autostart,
      }),
      resolve: async (_r, { input: args }, ctx) => {
        const h = hostName(ctx, args.host);
        await checkXml(ctx, h, args.xml);
        return define(ctx, h, args.xml, args.autostart);
      },
    }),
  };
});
