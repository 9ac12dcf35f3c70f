import { updateDomainXml } from '../../libvirt/xml/domain-xml.ts';
import { parseRoot } from '../../libvirt/xml/xml-codec.ts';
import { configureDomainInput, domainDescription, memoryKiB, vcpuCount } from '../../validation/index.ts';
import { builder } from '../core/builder.ts';
import { refusedAs } from '../core/errors.ts';
import { hostName } from '../core/hosts.ts';
import { DeviceScope, fromInput, mutationInput, payloadInput } from '../core/mutation-support.ts';
import { DomainNode, DomainRef, findDomain, onDomainArg } from './domain.ts';
import { changeInScope } from './lifecycle.ts';
import { ConfigChangeResult, changeDefinition } from './update.ts';

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
      type: ConfigChangeResult,
      description:
        'Writes vCPUs, maximum memory and description into the persistent definition only, keeping every other part of it; a transient domain becomes persistent.',
      args: payloadInput('ConfigureDomain', {
        ...base,
        config: t.arg({
          type: DomainConfigInput,
          required: true,
          description: 'What to change; fields left out stay.',
        }),
        expectedDigest: t.arg.string({
          description: 'Domain.configDigest as the caller read it: CONFLICT when the definition changed since.',
        }),
      }),
      resolve: async (_r, { input: args }, ctx) => {
        const { vcpus, maxMemoryKiB, description } = args.config;
        const s = await findDomain(ctx, hostName(ctx, args.host), args.domain);
        return changeDefinition(ctx, s, args.expectedDigest, 'input', (current) =>
          parseRoot(
            updateDomainXml(current, {
              ...(vcpus != null ? { vcpus } : {}),
              ...(maxMemoryKiB != null ? { maxMemoryKiB } : {}),
              ...(description != null ? { description: description === '' ? null : description } : {}),
            }),
            'domain',
          ),
        );
      },
    }),
  };
});
