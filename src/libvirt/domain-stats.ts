import type { TypedParams } from './native.ts';

// Typed views of one virConnectGetAllDomainStats record, whose params are flat names such as
// 'block.0.rd.bytes' (libvirt-libvirt-domain.html#virConnectGetAllDomainStats). A field the
// driver did not report is undefined: the test driver reports state only, QEMU reports
// balloon figures only when the guest has a balloon driver.

export interface CpuStats {
  timeNs?: bigint;
  userNs?: bigint;
  systemNs?: bigint;
}

/** Balloon figures, in KiB except majorFaults. */
export interface BalloonStats {
  currentKiB?: bigint;
  maximumKiB?: bigint;
  rssKiB?: bigint;
  unusedKiB?: bigint;
  availableKiB?: bigint;
  usableKiB?: bigint;
  swapInKiB?: bigint;
  swapOutKiB?: bigint;
  majorFaults?: bigint;
  minorFaults?: bigint;
}

export interface VcpuStats {
  index: number;
  /** virVcpuState: 0 offline, 1 running, 2 blocked. */
  state?: number;
  timeNs?: bigint;
}

export interface BlockStats {
  index: number;
  name?: string;
  path?: string;
  readBytes?: bigint;
  readRequests?: bigint;
  readTimeNs?: bigint;
  writeBytes?: bigint;
  writeRequests?: bigint;
  writeTimeNs?: bigint;
  flushRequests?: bigint;
  flushTimeNs?: bigint;
  errors?: bigint;
  capacityBytes?: bigint;
  allocationBytes?: bigint;
  physicalBytes?: bigint;
}

export interface NicStats {
  index: number;
  name?: string;
  rxBytes?: bigint;
  rxPackets?: bigint;
  rxErrors?: bigint;
  rxDrops?: bigint;
  txBytes?: bigint;
  txPackets?: bigint;
  txErrors?: bigint;
  txDrops?: bigint;
}

export interface DomainStatsRecord {
  state?: { state: number; reason?: number };
  cpu: CpuStats;
  balloon: BalloonStats;
  vcpu: { current?: number; maximum?: number; vcpus: VcpuStats[] };
  blocks: BlockStats[];
  nics: NicStats[];
}

function big(p: TypedParams, key: string): bigint | undefined {
  const v = p[key];
  if (typeof v === 'bigint') return v;
  if (typeof v === 'number' && Number.isInteger(v)) return BigInt(v);
  return undefined;
}

function int(p: TypedParams, key: string): number | undefined {
  const v = p[key];
  if (typeof v === 'number') return v;
  if (typeof v === 'bigint') return Number(v);
  return undefined;
}

function str(p: TypedParams, key: string): string | undefined {
  const v = p[key];
  return typeof v === 'string' ? v : undefined;
}

/** Copies only the fields that are present, so "not reported" stays undefined. */
function pick<T extends object>(fields: T): T {
  return Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== undefined)) as T;
}

/** The indexes of `prefix.<n>.*` entries, ascending (vcpu.<n> has no count field, so read the names). */
function indexes(p: TypedParams, prefix: string): number[] {
  const seen = new Set<number>();
  const pattern = new RegExp(`^${prefix}\\.(\\d+)\\.`);
  for (const key of Object.keys(p)) {
    const m = pattern.exec(key);
    if (m) seen.add(Number(m[1]));
  }
  return [...seen].sort((a, b) => a - b);
}

/** One record's flat params as typed groups. */
export function parseDomainStats(p: TypedParams): DomainStatsRecord {
  const state = int(p, 'state.state');
  return {
    ...(state === undefined ? {} : { state: pick({ state, reason: int(p, 'state.reason') }) }),
    cpu: pick({ timeNs: big(p, 'cpu.time'), userNs: big(p, 'cpu.user'), systemNs: big(p, 'cpu.system') }),
    balloon: pick({
      currentKiB: big(p, 'balloon.current'),
      maximumKiB: big(p, 'balloon.maximum'),
      rssKiB: big(p, 'balloon.rss'),
      unusedKiB: big(p, 'balloon.unused'),
      availableKiB: big(p, 'balloon.available'),
      usableKiB: big(p, 'balloon.usable'),
      swapInKiB: big(p, 'balloon.swap_in'),
      swapOutKiB: big(p, 'balloon.swap_out'),
      majorFaults: big(p, 'balloon.major_fault'),
      minorFaults: big(p, 'balloon.minor_fault'),
    }),
    vcpu: {
      ...pick({ current: int(p, 'vcpu.current'), maximum: int(p, 'vcpu.maximum') }),
      vcpus: indexes(p, 'vcpu').map((i) =>
        pick({ index: i, state: int(p, `vcpu.${i}.state`), timeNs: big(p, `vcpu.${i}.time`) }),
      ),
    },
    blocks: indexes(p, 'block').map((i) => {
      const b = `block.${i}.`;
      return pick({
        index: i,
        name: str(p, `${b}name`),
        path: str(p, `${b}path`),
        readBytes: big(p, `${b}rd.bytes`),
        readRequests: big(p, `${b}rd.reqs`),
        readTimeNs: big(p, `${b}rd.times`),
        writeBytes: big(p, `${b}wr.bytes`),
        writeRequests: big(p, `${b}wr.reqs`),
        writeTimeNs: big(p, `${b}wr.times`),
        flushRequests: big(p, `${b}fl.reqs`),
        flushTimeNs: big(p, `${b}fl.times`),
        errors: big(p, `${b}errors`),
        capacityBytes: big(p, `${b}capacity`),
        allocationBytes: big(p, `${b}allocation`),
        physicalBytes: big(p, `${b}physical`),
      });
    }),
    nics: indexes(p, 'net').map((i) => {
      const n = `net.${i}.`;
      return pick({
        index: i,
        name: str(p, `${n}name`),
        rxBytes: big(p, `${n}rx.bytes`),
        rxPackets: big(p, `${n}rx.pkts`),
        rxErrors: big(p, `${n}rx.errs`),
        rxDrops: big(p, `${n}rx.drop`),
        txBytes: big(p, `${n}tx.bytes`),
        txPackets: big(p, `${n}tx.pkts`),
        txErrors: big(p, `${n}tx.errs`),
        txDrops: big(p, `${n}tx.drop`),
      });
    }),
  };
}

export interface BlockRates {
  name?: string;
  readBytesPerSecond: number | null;
  writeBytesPerSecond: number | null;
  readIops: number | null;
  writeIops: number | null;
}

export interface NicRates {
  name?: string;
  rxBytesPerSecond: number | null;
  txBytesPerSecond: number | null;
  rxPacketsPerSecond: number | null;
  txPacketsPerSecond: number | null;
}

export interface DomainRates {
  elapsedSeconds: number;
  /** CPU time over wall time of the domain's vCPUs: 100 is every vCPU busy. */
  cpuPercentOfVcpus: number | null;
  /** CPU time over wall time of all the host's CPUs. */
  cpuPercentOfHost: number | null;
  blocks: BlockRates[];
  nics: NicRates[];
}

/** Per second, or null when either side lacks the counter or it went backwards (a restart). */
function perSecond(before: bigint | undefined, after: bigint | undefined, seconds: number): number | null {
  if (before === undefined || after === undefined || after < before || seconds <= 0) return null;
  return Number(after - before) / seconds;
}

/** Rates between two readings of one domain taken `elapsedSeconds` apart; devices are matched by name. */
export function domainRates(
  before: DomainStatsRecord,
  after: DomainStatsRecord,
  elapsedSeconds: number,
  hostCpus: number,
): DomainRates {
  const cpuNsPerSecond = perSecond(before.cpu.timeNs, after.cpu.timeNs, elapsedSeconds);
  const vcpus = after.vcpu.current;
  const cpuPercent = (cpus: number | undefined) =>
    cpuNsPerSecond === null || !cpus ? null : (cpuNsPerSecond / 1e9 / cpus) * 100;
  const blocksBefore = new Map(before.blocks.map((b) => [b.name ?? b.index, b]));
  const nicsBefore = new Map(before.nics.map((n) => [n.name ?? n.index, n]));
  return {
    elapsedSeconds,
    cpuPercentOfVcpus: cpuPercent(vcpus),
    cpuPercentOfHost: cpuPercent(hostCpus),
    blocks: after.blocks.map((b) => {
      const a = blocksBefore.get(b.name ?? b.index);
      return pick({
        name: b.name,
        readBytesPerSecond: perSecond(a?.readBytes, b.readBytes, elapsedSeconds),
        writeBytesPerSecond: perSecond(a?.writeBytes, b.writeBytes, elapsedSeconds),
        readIops: perSecond(a?.readRequests, b.readRequests, elapsedSeconds),
        writeIops: perSecond(a?.writeRequests, b.writeRequests, elapsedSeconds),
      });
    }),
    nics: after.nics.map((n) => {
      const a = nicsBefore.get(n.name ?? n.index);
      return pick({
        name: n.name,
        rxBytesPerSecond: perSecond(a?.rxBytes, n.rxBytes, elapsedSeconds),
        txBytesPerSecond: perSecond(a?.txBytes, n.txBytes, elapsedSeconds),
        rxPacketsPerSecond: perSecond(a?.rxPackets, n.rxPackets, elapsedSeconds),
        txPacketsPerSecond: perSecond(a?.txPackets, n.txPackets, elapsedSeconds),
      });
    }),
  };
}

// virVcpuState — libvirt-libvirt-domain.html#virVcpuState
export const VcpuState = {
  OFFLINE: 0,
  RUNNING: 1,
  BLOCKED: 2,
} as const;
export type VcpuStateName = keyof typeof VcpuState;
const vcpuStateNames = new Map(Object.entries(VcpuState).map(([k, v]) => [v as number, k as VcpuStateName]));
export function vcpuStateName(value: number | undefined): VcpuStateName | undefined {
  return value === undefined ? undefined : vcpuStateNames.get(value);
}
