import { updateDomainXml } from '../../libvirt/xml/domain-xml.ts';
import { documentElement, parseXmlNodes } from '../../libvirt/xml/xml-codec.ts';
import { configureDomainInput, domainDescription, memoryKiB, vcpuCount } from '../../validation/index.ts';
import { builder } from '../core/builder.ts';
import { refusedAs } from '../core/errors.ts';
import { checkHostSafety } from '../core/host-safety.ts';
import { connectionOf, hostName } from '../core/hosts.ts';
import { DeviceScope, fromInput, mutationInput } from '../core/mutation-support.ts';
import { DomainNode, DomainRef, type DomainShape, findDomain, onDomainArg } from './domain.ts';
import { changeInScope, reread } from './lifecycle.ts';

interface Configured {
  domain: DomainShape;
  previousXml: string;
  xml: string;
}

const ConfigureDomainResult = builder.objectRef<Configured>('ConfigureDomainResult').implement({
  description: 'The persistent definition before and after configureDomain.',
  fields: (t) => ({
    domain: t.field({ type: DomainNode, nullable: false, resolve: (r) => r.domain, description: 'The domain now.' }),
    previousXml: t.exposeString('previousXml', { nullable: false, description: 'The definition before the change.' }),
    xml: t.exposeString('xml', { nullable: false, description: 'The persistent definition now.' }),
  }),
});

const DomainConfigInput = builder.inputType('DomainConfigInput', {
  description:
    'Settings written into the persistent definition, used from the next start. Omitted fields stay as they are.',
  fields: (t) => ({
    vcpus: t.int({ description: 'Virtual CPUs.', validate: vcpuCount }),
    maxMemoryKiB: t.field({ type: 'BigInt', description: 'Maximum memory in KiB.', validate: memoryKiB }),
    description: t.string({
      description: 'The description (at most 4096 characters); an empty string removes it.',
      validate: domainDescription,
    }),
  }),
  validate: configureDomainInput,
});

builder.mutationFields((t) => {
  const base = {
    host: t.arg.string({ description: 'Registry name of the host; the default host when omitted.' }),
    domain: t.arg({ type: DomainRef, required: true, description: 'The domain: by name, UUID or runtime id.' }),
  };
  const scoped = {
    ...base,
    scope: t.arg({ type: DeviceScope, description: 'LIVE, CONFIG or BOTH; see DeviceScope.' }),
  };
  return {
    setDomainMaxMemory: t.field({
      authScopes: fromInput(onDomainArg('VM.Config')),
      type: DomainNode,
      nullable: false,
      description: 'Sets the maximum memory in KiB (QEMU refuses a live change on a running domain; use CONFIG).',
      args: mutationInput('SetDomainMaxMemory', {
        ...scoped,
        memoryKiB: t.arg({ type: 'BigInt', required: true, validate: memoryKiB, description: 'The new size, in KiB.' }),
      }),
      resolve: (_r, { input: args }, ctx) =>
        changeInScope(ctx, args, (s, scope) => refusedAs('memoryKiB', s.domain.setMaxMemory(args.memoryKiB, scope))),
    }),
    setDomainMemory: t.field({
      authScopes: fromInput(onDomainArg('VM.Config')),
      type: DomainNode,
      nullable: false,
      description:
        'Sets the memory target in KiB (the balloon, for a running domain); read memoryKiB for what is used.',
      args: mutationInput('SetDomainMemory', {
        ...scoped,
        memoryKiB: t.arg({ type: 'BigInt', required: true, validate: memoryKiB, description: 'The new size, in KiB.' }),
      }),
      resolve: (_r, { input: args }, ctx) =>
        changeInScope(ctx, args, (s, scope) => refusedAs('memoryKiB', s.domain.setMemory(args.memoryKiB, scope))),
    }),
    setDomainVcpus: t.field({
      authScopes: fromInput(onDomainArg('VM.Config')),
      type: DomainNode,
      nullable: false,
      description: 'Sets the number of virtual CPUs, within the domain’s maximum.',
      args: mutationInput('SetDomainVcpus', {
        ...scoped,
        vcpus: t.arg.int({ required: true, validate: vcpuCount, description: 'How many virtual CPUs.' }),
      }),
      resolve: (_r, { input: args }, ctx) =>
        changeInScope(ctx, args, (s, scope) => refusedAs('vcpus', s.domain.setVcpus(args.vcpus, scope))),
    }),
    configureDomain: t.field({
      authScopes: fromInput(onDomainArg('VM.Config')),
      type: ConfigureDomainResult,
      nullable: false,
      description:
        'Writes vCPUs, maximum memory and description into the persistent definition only, keeping every other part of it; a transient domain becomes persistent.',
      args: mutationInput('ConfigureDomain', {
        ...base,
        config: t.arg({
          type: DomainConfigInput,
          required: true,
          description: 'What to change; fields left out stay.',
        }),
      }),
      resolve: async (_r, { input: args }, ctx) => {
        const { vcpus, maxMemoryKiB, description } = args.config;
        const host = hostName(ctx, args.host);
        const s = await findDomain(ctx, host, args.domain);
        const previousXml = await s.domain.xml({ inactive: await s.domain.isPersistent() });
        const next = updateDomainXml(previousXml, {
          ...(vcpus != null ? { vcpus } : {}),
          ...(maxMemoryKiB != null ? { maxMemoryKiB } : {}),
          ...(description != null ? { description: description === '' ? null : description } : {}),
        });
        // Only what the edit adds is checked: the domain may hold what an operator put there.
        const root = (xml: string) => documentElement(parseXmlNodes(xml));
        await checkHostSafety(ctx, host, 'domain', 'input', root(next), root(previousXml));
        const c = await connectionOf(ctx, host);
        await c.defineDomain(next);
        const domain = await reread(ctx, host, s.domain);
        return { domain, previousXml, xml: await domain.domain.xml({ inactive: true }) };
      },
    }),
  };
});
