import { onParentHost } from '../core/auth-scopes.ts';
import { builder } from '../core/builder.ts';
import { connectionOf, Host, type HostShape } from '../core/hosts.ts';

type Fields = Record<string, bigint>;

const HostCpuStats = builder.objectRef<Fields>('HostCpuStats').implement({
  description:
    'CPU time of all the host’s CPUs together since boot, in nanoseconds (virNodeGetCPUStats); null where the driver does not report it.',
  fields: (t) => ({
    kernelNs: t.field({ type: 'BigInt', description: 'Kernel-mode time.', resolve: (f) => f.kernel ?? null }),
    userNs: t.field({ type: 'BigInt', description: 'User-mode time.', resolve: (f) => f.user ?? null }),
    idleNs: t.field({ type: 'BigInt', description: 'Idle time.', resolve: (f) => f.idle ?? null }),
    iowaitNs: t.field({ type: 'BigInt', description: 'Time waiting for I/O.', resolve: (f) => f.iowait ?? null }),
    interruptNs: t.field({ type: 'BigInt', description: 'Time serving interrupts.', resolve: (f) => f.intr ?? null }),
    utilizationPercent: t.int({
      description: 'Utilization, for drivers that report a percentage instead of times.',
      resolve: (f) => (f.utilization === undefined ? null : Number(f.utilization)),
    }),
  }),
});

const HostMemoryStats = builder.objectRef<Fields>('HostMemoryStats').implement({
  description: 'The host’s memory, in KiB (virNodeGetMemoryStats); null where the driver does not report it.',
  fields: (t) => ({
    totalKiB: t.field({ type: 'BigInt', description: 'Total memory.', resolve: (f) => f.total ?? null }),
    freeKiB: t.field({ type: 'BigInt', description: 'Free memory.', resolve: (f) => f.free ?? null }),
    buffersKiB: t.field({ type: 'BigInt', description: 'Memory in buffers.', resolve: (f) => f.buffers ?? null }),
    cachedKiB: t.field({ type: 'BigInt', description: 'Memory in the page cache.', resolve: (f) => f.cached ?? null }),
  }),
});

const NumaCellMemory = builder.objectRef<{ cell: number; freeBytes: bigint }>('NumaCellFreeMemory').implement({
  description: 'Free memory of one NUMA cell.',
  fields: (t) => ({
    cell: t.exposeInt('cell', { nullable: false, description: 'The cell number.' }),
    freeBytes: t.expose('freeBytes', { type: 'BigInt', nullable: false, description: 'Free bytes.' }),
  }),
});

const HostStats = builder.objectRef<HostShape>('HostStats').implement({
  description:
    'The host’s CPU and memory use. Each field is one libvirt call; a driver that lacks one fails that field only.',
  fields: (t) => ({
    cpu: t.field({
      type: HostCpuStats,
      description: 'CPU times since boot.',
      resolve: async (h, _a, ctx) => (await connectionOf(ctx, h.name)).nodeCpuStats(),
    }),
    memory: t.field({
      type: HostMemoryStats,
      description: 'Memory use.',
      resolve: async (h, _a, ctx) => (await connectionOf(ctx, h.name)).nodeMemoryStats(),
    }),
    cellsFreeMemory: t.field({
      type: [NumaCellMemory],
      description: 'Free memory per NUMA cell (virNodeGetCellsFreeMemory).',
      resolve: async (h, _a, ctx) =>
        (await (await connectionOf(ctx, h.name)).cellsFreeMemoryBytes()).map((freeBytes, cell) => ({
          cell,
          freeBytes,
        })),
    }),
  }),
});

builder.objectFields(Host, (t) => ({
  stats: t.field({
    authScopes: onParentHost('Host.Audit'),
    type: HostStats,
    description: 'CPU times, memory and free memory per NUMA cell of the host.',
    resolve: (h) => h,
  }),
}));
