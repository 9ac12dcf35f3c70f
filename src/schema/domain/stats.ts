import { map, pipe } from 'graphql-yoga';
import {
  type BlockRates,
  type BlockStats,
  type DomainRates,
  type DomainStatsRecord,
  type NicRates,
  type NicStats,
  parseDomainStats,
  type VcpuState,
  type VcpuStats,
  vcpuStateName,
} from '../../libvirt/index.ts';
import type { SampledDomain, StatsSample } from '../../stats/stats-samplers.ts';
import { somewhereOnHostArg } from '../core/auth-scopes.ts';
import { builder } from '../core/builder.ts';
import { describedEnum } from '../core/enum-types.ts';
import { invalidInput } from '../core/errors.ts';
import { connectionOf, Host, hostName } from '../core/hosts.ts';
import { perHost } from '../core/request-cache.ts';
import { DomainNode } from './domain.ts';

interface DomainStatsShape {
  stats: DomainStatsRecord;
  sampledAt: Date;
}

/** Every domain's counters: one bulk stats call per host per request, asked with NOWAIT so a domain in a job cannot stall it. */
const statsSnapshot = perHost(async (ctx, host): Promise<Map<string, DomainStatsShape>> => {
  const c = await connectionOf(ctx, host);
  const rows = await c.allDomainStats(['STATE', 'CPU_TOTAL', 'BALLOON', 'VCPU', 'INTERFACE', 'BLOCK'], 'all', {
    enforce: false,
    nowait: true,
  });
  const sampledAt = new Date();
  return new Map(rows.map((r) => [r.domain.uuid, { stats: parseDomainStats(r.params), sampledAt }]));
});

const vcpuStateDescriptions: Record<keyof typeof VcpuState, string> = {
  OFFLINE: 'Not online (unplugged, or not started).',
  RUNNING: 'Running on a host CPU.',
  BLOCKED: 'Waiting for a resource.',
};

const VcpuStateEnum = describedEnum('VcpuState', 'What a virtual CPU is doing (virVcpuState).', vcpuStateDescriptions);

const CpuStats = builder.objectRef<DomainStatsRecord['cpu']>('DomainCpuStats').implement({
  description: 'CPU time the domain used since it started, in nanoseconds.',
  fields: (t) => ({
    timeNs: t.expose('timeNs', { type: 'BigInt', description: 'Total CPU time (cpu.time).' }),
    userNs: t.expose('userNs', { type: 'BigInt', description: 'User-mode CPU time (cpu.user).' }),
    systemNs: t.expose('systemNs', { type: 'BigInt', description: 'Kernel-mode CPU time (cpu.system).' }),
  }),
});

const BalloonStats = builder.objectRef<DomainStatsRecord['balloon']>('DomainBalloonStats').implement({
  description:
    'Memory as the balloon driver reports it, in KiB. Most figures need a guest with a balloon driver; null when the host did not report them.',
  fields: (t) => ({
    currentKiB: t.expose('currentKiB', { type: 'BigInt', description: 'Memory the guest has now.' }),
    maximumKiB: t.expose('maximumKiB', { type: 'BigInt', description: 'The most memory the guest may have.' }),
    rssKiB: t.expose('rssKiB', { type: 'BigInt', description: 'Resident memory of the process on the host.' }),
    unusedKiB: t.expose('unusedKiB', { type: 'BigInt', description: 'Memory the guest leaves unused.' }),
    availableKiB: t.expose('availableKiB', { type: 'BigInt', description: 'Memory the guest sees as usable in all.' }),
    usableKiB: t.expose('usableKiB', {
      type: 'BigInt',
      description: 'Memory the guest could use without swapping (free plus reclaimable caches).',
    }),
    swapInKiB: t.expose('swapInKiB', { type: 'BigInt', description: 'Swapped in since boot.' }),
    swapOutKiB: t.expose('swapOutKiB', { type: 'BigInt', description: 'Swapped out since boot.' }),
    majorFaults: t.expose('majorFaults', { type: 'BigInt', description: 'Page faults that read from disk.' }),
    minorFaults: t.expose('minorFaults', { type: 'BigInt', description: 'Page faults served from memory.' }),
  }),
});

const VcpuStatsType = builder.objectRef<VcpuStats>('DomainVcpuStats').implement({
  description: 'One virtual CPU.',
  fields: (t) => ({
    index: t.exposeInt('index', { nullable: false, description: 'The vCPU number.' }),
    state: t.field({
      type: VcpuStateEnum,
      description: 'What it is doing.',
      resolve: (v) => vcpuStateName(v.state) ?? null,
    }),
    timeNs: t.expose('timeNs', { type: 'BigInt', description: 'CPU time it used, in nanoseconds.' }),
  }),
});

const BlockStatsType = builder.objectRef<BlockStats>('DomainBlockStats').implement({
  description: 'One block device: I/O counters since the domain started, and sizes in bytes.',
  fields: (t) => ({
    name: t.exposeString('name', { description: 'The target device, e.g. vda.' }),
    path: t.exposeString('path', { description: 'The source file or device on the host.' }),
    readBytes: t.expose('readBytes', { type: 'BigInt', description: 'Bytes read.' }),
    readRequests: t.expose('readRequests', { type: 'BigInt', description: 'Read requests.' }),
    readTimeNs: t.expose('readTimeNs', { type: 'BigInt', description: 'Time spent reading, in nanoseconds.' }),
    writeBytes: t.expose('writeBytes', { type: 'BigInt', description: 'Bytes written.' }),
    writeRequests: t.expose('writeRequests', { type: 'BigInt', description: 'Write requests.' }),
    writeTimeNs: t.expose('writeTimeNs', { type: 'BigInt', description: 'Time spent writing, in nanoseconds.' }),
    flushRequests: t.expose('flushRequests', { type: 'BigInt', description: 'Flush requests.' }),
    flushTimeNs: t.expose('flushTimeNs', { type: 'BigInt', description: 'Time spent flushing, in nanoseconds.' }),
    errors: t.expose('errors', { type: 'BigInt', description: 'I/O errors.' }),
    capacityBytes: t.expose('capacityBytes', { type: 'BigInt', description: 'Size the guest sees.' }),
    allocationBytes: t.expose('allocationBytes', { type: 'BigInt', description: 'Highest offset written.' }),
    physicalBytes: t.expose('physicalBytes', { type: 'BigInt', description: 'Space taken on the host.' }),
  }),
});

const NicStatsType = builder.objectRef<NicStats>('DomainInterfaceStats').implement({
  description: 'One network interface: counters since the domain started.',
  fields: (t) => ({
    name: t.exposeString('name', { description: 'The host-side device, e.g. vnet0.' }),
    rxBytes: t.expose('rxBytes', { type: 'BigInt', description: 'Bytes received.' }),
    rxPackets: t.expose('rxPackets', { type: 'BigInt', description: 'Packets received.' }),
    rxErrors: t.expose('rxErrors', { type: 'BigInt', description: 'Receive errors.' }),
    rxDrops: t.expose('rxDrops', { type: 'BigInt', description: 'Received packets dropped.' }),
    txBytes: t.expose('txBytes', { type: 'BigInt', description: 'Bytes sent.' }),
    txPackets: t.expose('txPackets', { type: 'BigInt', description: 'Packets sent.' }),
    txErrors: t.expose('txErrors', { type: 'BigInt', description: 'Send errors.' }),
    txDrops: t.expose('txDrops', { type: 'BigInt', description: 'Sent packets dropped.' }),
  }),
});

const DomainStatsType = builder.objectRef<DomainStatsShape>('DomainStats').implement({
  description:
    'Counters of a domain from one bulk read of its host (virConnectGetAllDomainStats). A stopped domain reports little; a figure the host does not report is null.',
  fields: (t) => ({
    sampledAt: t.field({
      type: 'DateTime',
      nullable: false,
      description: 'When the gateway read them.',
      resolve: (s) => s.sampledAt,
    }),
    cpu: t.field({ type: CpuStats, nullable: false, description: 'CPU time.', resolve: (s) => s.stats.cpu }),
    balloon: t.field({
      type: BalloonStats,
      nullable: false,
      description: 'Memory (balloon).',
      resolve: (s) => s.stats.balloon,
    }),
    vcpuCount: t.int({ description: 'vCPUs online now.', resolve: (s) => s.stats.vcpu.current ?? null }),
    maxVcpuCount: t.int({ description: 'The most vCPUs it may have.', resolve: (s) => s.stats.vcpu.maximum ?? null }),
    vcpus: t.field({
      type: [VcpuStatsType],
      nullable: false,
      description: 'Each vCPU.',
      resolve: (s) => s.stats.vcpu.vcpus,
    }),
    blockDevices: t.field({
      type: [BlockStatsType],
      nullable: false,
      description: 'Each disk.',
      resolve: (s) => s.stats.blocks,
    }),
    interfaces: t.field({
      type: [NicStatsType],
      nullable: false,
      description: 'Each network interface.',
      resolve: (s) => s.stats.nics,
    }),
  }),
});

builder.objectFields(DomainNode, (t) => ({
  stats: t.field({
    type: DomainStatsType,
    description:
      'CPU, memory, vCPU, block and NIC counters. One bulk read per host serves every domain of a request; null for a domain defined after it.',
    resolve: async (s, _a, ctx) => (await statsSnapshot(ctx, s.host)).get(s.domain.uuid) ?? null,
  }),
}));

const BlockRatesType = builder.objectRef<BlockRates>('DomainBlockRates').implement({
  description: 'One block device’s rates between two samples; null where a counter is missing or went backwards.',
  fields: (t) => ({
    name: t.exposeString('name', { description: 'The target device, e.g. vda.' }),
    readBytesPerSecond: t.exposeFloat('readBytesPerSecond', { description: 'Bytes read per second.' }),
    writeBytesPerSecond: t.exposeFloat('writeBytesPerSecond', { description: 'Bytes written per second.' }),
    readIops: t.exposeFloat('readIops', { description: 'Read requests per second.' }),
    writeIops: t.exposeFloat('writeIops', { description: 'Write requests per second.' }),
  }),
});

const NicRatesType = builder.objectRef<NicRates>('DomainInterfaceRates').implement({
  description: 'One network interface’s rates between two samples; null where a counter is missing or went backwards.',
  fields: (t) => ({
    name: t.exposeString('name', { description: 'The host-side device, e.g. vnet0.' }),
    rxBytesPerSecond: t.exposeFloat('rxBytesPerSecond', { description: 'Bytes received per second.' }),
    txBytesPerSecond: t.exposeFloat('txBytesPerSecond', { description: 'Bytes sent per second.' }),
    rxPacketsPerSecond: t.exposeFloat('rxPacketsPerSecond', { description: 'Packets received per second.' }),
    txPacketsPerSecond: t.exposeFloat('txPacketsPerSecond', { description: 'Packets sent per second.' }),
  }),
});

const RatesType = builder.objectRef<DomainRates>('DomainStatsRates').implement({
  description: 'What changed between the previous sample and this one, per second.',
  fields: (t) => ({
    elapsedSeconds: t.exposeFloat('elapsedSeconds', { nullable: false, description: 'Time between the two samples.' }),
    cpuPercentOfVcpus: t.exposeFloat('cpuPercentOfVcpus', {
      description: 'CPU used over what its vCPUs could use: 100 when every vCPU is busy.',
    }),
    cpuPercentOfHost: t.exposeFloat('cpuPercentOfHost', {
      description: 'CPU used over what all the host’s CPUs could give.',
    }),
    blockDevices: t.field({
      type: [BlockRatesType],
      nullable: false,
      description: 'Each disk.',
      resolve: (r) => r.blocks,
    }),
    interfaces: t.field({
      type: [NicRatesType],
      nullable: false,
      description: 'Each network interface.',
      resolve: (r) => r.nics,
    }),
  }),
});

const SampledDomainType = builder
  .objectRef<SampledDomain & { host: string; sampledAt: Date }>('DomainStatsReading')
  .implement({
    description: 'One active domain in one sample.',
    fields: (t) => ({
      domain: t.field({
        type: DomainNode,
        nullable: false,
        description: 'The domain.',
        resolve: (d) => ({ host: d.host, domain: d.domain }),
      }),
      name: t.string({ nullable: false, description: 'The domain name.', resolve: (d) => d.domain.name }),
      uuid: t.string({ nullable: false, description: 'The domain UUID.', resolve: (d) => d.domain.uuid }),
      stats: t.field({
        type: DomainStatsType,
        nullable: false,
        description: 'Its counters in this sample.',
        resolve: (d) => ({ stats: d.stats, sampledAt: d.sampledAt }),
      }),
      rates: t.field({
        type: RatesType,
        description:
          'Rates since the previous sample of the shared sampler for this host and interval; null when there is none for this domain (the sampler just started, or the domain just appeared).',
        resolve: (d) => d.rates,
      }),
    }),
  });

const SampleType = builder.objectRef<StatsSample>('DomainStatsSample').implement({
  description: 'One tick of a host’s stats sampler.',
  fields: (t) => ({
    host: t.field({
      type: Host,
      nullable: false,
      description: 'The host sampled.',
      resolve: (s) => ({ name: s.host }),
    }),
    sampledAt: t.field({
      type: 'DateTime',
      nullable: false,
      description: 'When the bulk read returned.',
      resolve: (s) => s.sampledAt,
    }),
    error: t.exposeString('error', {
      description: 'Why this tick could not read the host (it is unreachable); domains is empty then.',
    }),
    domains: t.field({
      type: [SampledDomainType],
      nullable: false,
      description: 'Active (running or paused) domains: one that starts or stops between ticks appears or disappears.',
      resolve: (s) => s.domains.map((d) => ({ ...d, host: s.host, sampledAt: s.sampledAt })),
    }),
  }),
});

/** Samplers beyond an hour would hold rates no one can read as "live". */
const MAX_INTERVAL_SECONDS = 3600;

builder.subscriptionFields((t) => ({
  domainStats: t.field({
    type: SampleType,
    authScopes: somewhereOnHostArg('VM.Audit'),
    nullable: false,
    description:
      'Per-domain counters and rates of one host, every intervalSeconds (the first at once). One bulk stats call per host and interval serves every subscriber.',
    args: {
      host: t.arg.string({ description: 'Registry name of the host; the default host when omitted.' }),
      domains: t.arg.stringList({
        description: 'Only the domains of these names; every one the caller may see when omitted.',
      }),
      intervalSeconds: t.arg.float({
        required: true,
        defaultValue: 5,
        description: 'Seconds between samples; at least the gateway’s limits.minStatsIntervalSeconds (1 by default).',
      }),
    },
    subscribe: (_root, args, ctx) => {
      const host = hostName(ctx, args.host);
      const min = ctx.stats.minIntervalSeconds;
      if (!(args.intervalSeconds >= min)) throw invalidInput('intervalSeconds', `must be at least ${min}`);
      if (args.intervalSeconds > MAX_INTERVAL_SECONDS) {
        throw invalidInput('intervalSeconds', `must be at most ${MAX_INTERVAL_SECONDS}`);
      }
      const names = args.domains == null ? undefined : new Set(args.domains);
      const wanted = (d: SampledDomain) =>
        (names?.has(d.domain.name) ?? true) && ctx.identity.can('VM.Audit', host, d.domain.name);
      return pipe(
        ctx.stats.subscribe(host, args.intervalSeconds),
        map((s: StatsSample) => ({ ...s, domains: s.domains.filter(wanted) })),
      );
    },
    resolve: (s) => s,
  }),
}));
