import { Counter, Gauge, type Registry } from 'prom-client';
import type { BlockStats, DomainStatsRecord, NicStats, VcpuStats } from '../libvirt/domain-stats.ts';
import { DomainState, domainStateName } from '../libvirt/enums.ts';
import type { DomainReading, PoolReading } from './host-reading.ts';
import type { HostSample, HostSampler } from './host-sampler.ts';

type Labels = Record<string, string>;
type Put = (labels: Labels, value: number | undefined) => void;
type Fill = (sample: HostSample, put: Put) => void;

/** Whether `samples` are the very samples of the last fill (a scrape served from the sampler's cache). */
function sameSamples(samples: readonly HostSample[], last: readonly HostSample[]): boolean {
  return samples.length === last.length && samples.every((sample, i) => sample === last[i]);
}

/**
 * One metric family refilled from the host samples at each scrape. Every family of a scrape
 * awaits the same samples (the sampler shares reads), and refills synchronously once they are
 * in, so concurrent scrapes never see a half-filled family. A scrape served from the same
 * samples as the last one keeps the values already set.
 */
function family(
  registry: Registry,
  sampler: HostSampler,
  kind: 'gauge' | 'counter',
  name: string,
  help: string,
  labelNames: string[],
  fill: Fill,
): void {
  const configuration = { name, help, labelNames, registers: [registry] };
  let last: readonly HostSample[] = [];
  if (kind === 'gauge') {
    new Gauge({
      ...configuration,
      async collect() {
        const samples = await sampler.samples();
        if (sameSamples(samples, last)) return;
        last = samples;
        this.reset();
        for (const s of samples) fill(s, (l, v) => v !== undefined && Number.isFinite(v) && this.set(l, v));
      },
    });
  } else {
    new Counter({
      ...configuration,
      async collect() {
        const samples = await sampler.samples();
        if (sameSamples(samples, last)) return;
        last = samples;
        this.reset();
        for (const s of samples) fill(s, (l, v) => v !== undefined && Number.isFinite(v) && v >= 0 && this.inc(l, v));
      },
    });
  }
}

/** A row of a metric table: name (after the table's prefix), kind, help, and the value it reads. */
type Spec<T> = [name: string, kind: 'gauge' | 'counter', help: string, value: (item: T) => number | undefined];

const n = (v: bigint | undefined) => (v === undefined ? undefined : Number(v));
const secs = (ns: bigint | undefined) => (ns === undefined ? undefined : Number(ns) / 1e9);
const kib = (v: bigint | undefined) => (v === undefined ? undefined : Number(v) * 1024);

// Names and labels follow prometheus-libvirt-exporter (inovex), with `host` added.
const DOMAIN: Spec<DomainStatsRecord>[] = [
  ['info_cpu_time_seconds_total', 'counter', 'CPU time used by the domain.', (d) => secs(d.cpu.timeNs)],
  ['info_memory_usage_bytes', 'gauge', 'Memory the domain holds (balloon current).', (d) => kib(d.balloon.currentKiB)],
  ['info_maximum_memory_bytes', 'gauge', 'Maximum memory of the domain.', (d) => kib(d.balloon.maximumKiB)],
  ['info_virtual_cpus', 'gauge', 'vCPUs of the domain.', (d) => d.vcpu.current],
  ['vcpu_maximum', 'gauge', 'Maximum vCPUs of the domain.', (d) => d.vcpu.maximum],
  ['memory_stats_rss_bytes', 'gauge', 'Resident memory of the domain process.', (d) => kib(d.balloon.rssKiB)],
  ['memory_stats_unused_bytes', 'gauge', 'Memory the guest leaves unused.', (d) => kib(d.balloon.unusedKiB)],
  ['memory_stats_available_bytes', 'gauge', 'Memory the guest sees.', (d) => kib(d.balloon.availableKiB)],
  [
    'memory_stats_usable_bytes',
    'gauge',
    'Memory the guest could use without swapping.',
    (d) => kib(d.balloon.usableKiB),
  ],
  ['memory_stats_swap_in_bytes', 'gauge', 'Memory swapped in by the guest.', (d) => kib(d.balloon.swapInKiB)],
  ['memory_stats_swap_out_bytes', 'gauge', 'Memory swapped out by the guest.', (d) => kib(d.balloon.swapOutKiB)],
  ['memory_stats_major_fault_total', 'counter', 'Major page faults in the guest.', (d) => n(d.balloon.majorFaults)],
  ['memory_stats_minor_fault_total', 'counter', 'Minor page faults in the guest.', (d) => n(d.balloon.minorFaults)],
];

const VCPU: Spec<VcpuStats>[] = [
  ['state', 'gauge', 'vCPU state (virVcpuState: 0 offline, 1 running, 2 blocked).', (v) => v.state],
  ['time_seconds_total', 'counter', 'CPU time used by the vCPU.', (v) => secs(v.timeNs)],
];

const BLOCK: Spec<BlockStats>[] = [
  ['read_bytes_total', 'counter', 'Bytes read from the block device.', (b) => n(b.readBytes)],
  ['read_requests_total', 'counter', 'Read requests on the block device.', (b) => n(b.readRequests)],
  ['read_time_seconds_total', 'counter', 'Time spent reading.', (b) => secs(b.readTimeNs)],
  ['write_bytes_total', 'counter', 'Bytes written to the block device.', (b) => n(b.writeBytes)],
  ['write_requests_total', 'counter', 'Write requests on the block device.', (b) => n(b.writeRequests)],
  ['write_time_seconds_total', 'counter', 'Time spent writing.', (b) => secs(b.writeTimeNs)],
  ['flush_requests_total', 'counter', 'Flush requests on the block device.', (b) => n(b.flushRequests)],
  ['flush_time_seconds_total', 'counter', 'Time spent flushing.', (b) => secs(b.flushTimeNs)],
  ['capacity_bytes', 'gauge', 'Logical size of the block device.', (b) => n(b.capacityBytes)],
  ['allocation_bytes', 'gauge', 'Bytes allocated to the block device.', (b) => n(b.allocationBytes)],
  ['physical_bytes', 'gauge', 'Physical size of the block device.', (b) => n(b.physicalBytes)],
];

const NIC: Spec<NicStats>[] = [
  ['receive_bytes_total', 'counter', 'Bytes received.', (i) => n(i.rxBytes)],
  ['receive_packets_total', 'counter', 'Packets received.', (i) => n(i.rxPackets)],
  ['receive_errors_total', 'counter', 'Receive errors.', (i) => n(i.rxErrors)],
  ['receive_drops_total', 'counter', 'Received packets dropped.', (i) => n(i.rxDrops)],
  ['transmit_bytes_total', 'counter', 'Bytes transmitted.', (i) => n(i.txBytes)],
  ['transmit_packets_total', 'counter', 'Packets transmitted.', (i) => n(i.txPackets)],
  ['transmit_errors_total', 'counter', 'Transmit errors.', (i) => n(i.txErrors)],
  ['transmit_drops_total', 'counter', 'Transmitted packets dropped.', (i) => n(i.txDrops)],
];

const POOL: Spec<PoolReading>[] = [
  ['state', 'gauge', 'Pool state code (virStoragePoolState).', (p) => p.state],
  ['capacity_bytes', 'gauge', 'Logical size of the pool.', (p) => p.capacityBytes],
  ['allocation_bytes', 'gauge', 'Bytes allocated in the pool.', (p) => p.allocationBytes],
  ['available_bytes', 'gauge', 'Bytes free in the pool.', (p) => p.availableBytes],
];

/** prometheus-libvirt-exporter's state_desc: libvirt's own descriptions of virDomainState. */
const EXPORTER_STATE_DESC: Record<number, string> = {
  [DomainState.NOSTATE]: 'no state',
  [DomainState.RUNNING]: 'the domain is running',
  [DomainState.BLOCKED]: 'the domain is blocked on resource',
  [DomainState.PAUSED]: 'the domain is paused by user',
  [DomainState.SHUTDOWN]: 'the domain is being shut down',
  [DomainState.SHUTOFF]: 'the domain is shut off',
  [DomainState.CRASHED]: 'the domain is crashed',
  [DomainState.PMSUSPENDED]: 'the domain is suspended by guest power management',
};

/** How libvirt_domain_info_state names states: virtql's short names, or the exporter's sentences. */
export type StateDescriptions = 'short' | 'exporter';

export function stateDescription(state: number, style: StateDescriptions): string {
  if (style === 'exporter') return EXPORTER_STATE_DESC[state] ?? domainStateName(state).toLowerCase();
  return domainStateName(state).toLowerCase();
}

/**
 * libvirt_* metrics of every configured host, read through the shared sampler. Labels are those of
 * prometheus-libvirt-exporter (domain, uuid, target_device, source_file, source_bridge, state_desc)
 * plus `host`, so its dashboards and alerts work with a `host` filter added.
 */
export function collectHypervisorMetrics(
  registry: Registry,
  sampler: HostSampler,
  stateDescriptions: StateDescriptions = 'short',
): void {
  family(
    registry,
    sampler,
    'gauge',
    'libvirt_up',
    'Whether the host answered this sample (1) or not (0).',
    ['host'],
    (s, put) => put({ host: s.host }, s.reading ? 1 : 0),
  );
  family(registry, sampler, 'gauge', 'libvirt_domains', 'Domains defined or running on the host.', ['host'], (s, put) =>
    put({ host: s.host }, s.reading?.domains.length),
  );
  const domainLabels = ['host', 'domain', 'uuid'];
  const labelsOf = (host: string, d: DomainReading) => ({ host, domain: d.name, uuid: d.uuid });
  family(
    registry,
    sampler,
    'gauge',
    'libvirt_domain_info_state',
    'Domain state code (virDomainState); state_desc names it.',
    [...domainLabels, 'state_desc'],
    (sample, put) => {
      for (const d of sample.reading?.domains ?? []) {
        const state = d.stats.state?.state ?? DomainState.NOSTATE;
        put({ ...labelsOf(sample.host, d), state_desc: stateDescription(state, stateDescriptions) }, state);
      }
    },
  );
  for (const [name, kind, help, value] of DOMAIN) {
    family(registry, sampler, kind, `libvirt_domain_${name}`, help, domainLabels, (sample, put) => {
      for (const d of sample.reading?.domains ?? []) put(labelsOf(sample.host, d), value(d.stats));
    });
  }
  for (const [name, kind, help, value] of VCPU) {
    family(registry, sampler, kind, `libvirt_domain_vcpu_${name}`, help, [...domainLabels, 'vcpu'], (sample, put) => {
      for (const d of sample.reading?.domains ?? []) {
        for (const v of d.stats.vcpu.vcpus) put({ ...labelsOf(sample.host, d), vcpu: String(v.index) }, value(v));
      }
    });
  }
  // The exporter's source label of each device: the block device's host path, the interface's bridge.
  const devices = <T extends { name?: string }>(
    prefix: string,
    specs: Spec<T>[],
    of: (d: DomainStatsRecord) => T[],
    sourceLabel: string,
    sourceOf: (item: T, d: DomainReading) => string | undefined,
  ) => {
    const labelNames = [...domainLabels, 'target_device', sourceLabel];
    for (const [name, kind, help, value] of specs) {
      family(registry, sampler, kind, `${prefix}${name}`, help, labelNames, (sample, put) => {
        for (const d of sample.reading?.domains ?? []) {
          for (const item of of(d.stats)) {
            if (item.name === undefined) continue;
            const labels = {
              ...labelsOf(sample.host, d),
              target_device: item.name,
              [sourceLabel]: sourceOf(item, d) ?? '',
            };
            put(labels, value(item));
          }
        }
      });
    }
  };
  devices(
    'libvirt_domain_block_stats_',
    BLOCK,
    (d) => d.blocks,
    'source_file',
    (b) => b.path,
  );
  devices(
    'libvirt_domain_interface_stats_',
    NIC,
    (d) => d.nics,
    'source_bridge',
    (nic, d) => (nic.name === undefined ? undefined : d.bridges.get(nic.name)),
  );
  for (const [name, kind, help, value] of POOL) {
    family(registry, sampler, kind, `libvirt_storage_pool_${name}`, help, ['host', 'storage_pool'], (s, put) => {
      for (const p of s.reading?.pools ?? []) put({ host: s.host, storage_pool: p.name }, value(p));
    });
  }
  family(
    registry,
    sampler,
    'gauge',
    'libvirt_network_active',
    'Whether the virtual network is active (1) or not (0).',
    ['host', 'network'],
    (s, put) => {
      for (const n of s.reading?.networks ?? []) put({ host: s.host, network: n.name }, n.active ? 1 : 0);
    },
  );
}
