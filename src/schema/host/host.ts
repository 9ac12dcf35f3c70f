import type { NodeInfo } from '../../libvirt/index.ts';
import { onParentHost } from '../core/auth-scopes.ts';
import { builder } from '../core/builder.ts';
import { connectionOf, Host, hostName, isVisible } from '../core/hosts.ts';

export const HostInfo = builder.objectRef<NodeInfo>('HostInfo').implement({
  description: 'The host machine as libvirt sees it (virNodeGetInfo).',
  fields: (t) => ({
    cpuModel: t.exposeString('model', { nullable: false, description: 'CPU model or architecture, e.g. x86_64.' }),
    memoryKiB: t.expose('memoryKiB', { type: 'BigInt', nullable: false, description: 'Physical memory in KiB.' }),
    cpus: t.exposeInt('cpus', { nullable: false, description: 'Active logical CPUs.' }),
    mhz: t.exposeInt('mhz', { nullable: false, description: 'CPU frequency in MHz.' }),
    numaNodes: t.exposeInt('numaNodes', { nullable: false, description: 'NUMA cells.' }),
    sockets: t.exposeInt('sockets', { nullable: false, description: 'CPU sockets per NUMA cell.' }),
    cores: t.exposeInt('cores', { nullable: false, description: 'Cores per socket.' }),
    threads: t.exposeInt('threads', { nullable: false, description: 'Threads per core.' }),
  }),
});

builder.node(Host, {
  description:
    'A libvirt host from the gateway’s registry: one connection (URI). Every field that talks to libvirt is nullable, so a host that is down fails its own fields only.',
  id: { resolve: (h) => h.name },
  loadOne: (name, ctx) => (isVisible(ctx, name) ? { name } : null),
  fields: (t) => ({
    name: t.exposeString('name', { nullable: false, description: 'The registry name of the host.' }),
    uri: t.string({
      nullable: false,
      description: 'The libvirt connection URI as configured (no credentials).',
      resolve: (h, _args, ctx) => ctx.hosts.uri(h.name),
    }),
    connected: t.boolean({
      nullable: false,
      description: 'Whether the host answers: its connection opens (or is open) and is alive. Never an error.',
      resolve: async (h, _args, ctx) => {
        try {
          return await (await connectionOf(ctx, h.name)).isAlive();
        } catch {
          return false;
        }
      },
    }),
    lastError: t.string({
      description: 'Why the last attempt to reach the host failed, while it is unreachable.',
      resolve: async (h, _args, ctx) => {
        // This request's connection attempt settles first, so a failed open already shows its reason.
        await connectionOf(ctx, h.name).catch(() => undefined);
        return ctx.hosts.status(h.name).lastError ?? null;
      },
    }),
    canonicalUri: t.string({
      authScopes: onParentHost('Host.Audit'),
      description: 'The URI libvirt reports for the open connection (virConnectGetURI).',
      resolve: async (h, _args, ctx) => (await connectionOf(ctx, h.name)).canonicalUri(),
    }),
    hostname: t.string({
      authScopes: onParentHost('Host.Audit'),
      description: 'The host’s own hostname (virConnectGetHostname).',
      resolve: async (h, _args, ctx) => (await connectionOf(ctx, h.name)).hostname(),
    }),
    info: t.field({
      authScopes: onParentHost('Host.Audit'),
      type: HostInfo,
      description: 'CPU, memory and NUMA facts.',
      resolve: async (h, _args, ctx) => (await connectionOf(ctx, h.name)).nodeInfo(),
    }),
    freeMemoryBytes: t.field({
      authScopes: onParentHost('Host.Audit'),
      type: 'BigInt',
      description: 'Free memory on the host in bytes (virNodeGetFreeMemory).',
      resolve: async (h, _args, ctx) => (await connectionOf(ctx, h.name)).freeMemoryBytes(),
    }),
  }),
});

builder.queryFields((t) => ({
  hosts: t.field({
    type: [Host],
    nullable: false,
    description: 'Every configured host the caller has a grant on, in configuration order.',
    resolve: (_root, _args, ctx) =>
      ctx.hosts
        .names()
        .filter((name) => ctx.identity.seesHost(name))
        .map((name) => ({ name })),
  }),
  host: t.field({
    type: Host,
    description: 'One host by registry name; the default host when the name is omitted.',
    args: { name: t.arg.string({ description: 'Registry name; omit for the default host.' }) },
    resolve: (_root, args, ctx) => ({ name: hostName(ctx, args.name) }),
  }),
}));
