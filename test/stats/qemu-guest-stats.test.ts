import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Connection, ConsoleStream, type Domain, type Volume } from '../../src/libvirt/index.ts';
import { buildVolumeXml } from '../../src/libvirt/xml/volume-xml.ts';
import { type ListeningGateway, listen, stopAll, subscribeWs, wsClient } from '../events/event-clients.ts';
import { consoleCollector } from '../support/console-collector.ts';
import {
  buildGuestImage,
  GUEST_READY_MARKER,
  guestDomainXml,
  guestImageUnavailableReason,
} from '../support/guest-image.ts';
import { DIR_POOL, openPrivateDaemon, privateDaemon, privateDaemonSkipReason } from '../support/private-daemon.ts';
import { virsh } from '../support/run-command.ts';

const skip = privateDaemonSkipReason() ?? (await guestImageUnavailableReason());
if (skip) console.warn(`skipping the guest stats cases: ${skip}`);

const NAME = 'stats-guest';
const INTERVAL_SECONDS = 2;
/**
 * How far the gateway's rate may stray from the one the test computes from `virsh domstats`.
 * Both read the same counters, but not at the same instants: virsh runs after each sample
 * arrives (a process start and a connection, 20–150 ms on a loaded 2-core machine), so each
 * end of the 2 s window may move by up to ~0.15 s (±7.5% each), and a TCG guest's dd comes in
 * bursts that the shift can catch or miss. ±25% leaves room for that and still tells a right
 * figure from a wrong unit (ns vs µs, KiB vs bytes) or a wrong divisor (elapsed time, vCPUs).
 */
const TOLERANCE = 0.25;

interface Sample {
  domainStats: {
    sampledAt: string;
    error: string | null;
    domains: Array<{
      name: string;
      rates: {
        elapsedSeconds: number;
        cpuPercentOfVcpus: number | null;
        blockDevices: Array<{ name: string | null; writeBytesPerSecond: number | null }>;
      } | null;
    }>;
  };
}

const SUBSCRIPTION = `subscription ($domains: [String!], $interval: Float!) {
  domainStats(host: "qemu", domains: $domains, intervalSeconds: $interval) {
    sampledAt error
    domains { name rates { elapsedSeconds cpuPercentOfVcpus blockDevices { name writeBytesPerSecond } } }
  }
}`;

/** `virsh domstats NAME` as numbers by key, and when (performance.now, ms) virsh answered. */
async function domstats(uri: string): Promise<{ at: number; get(key: string): number }> {
  const out = await virsh(uri, 'domstats', '--cpu-total', '--block', NAME);
  const at = performance.now();
  const fields = new Map<string, number>();
  for (const line of out.split('\n')) {
    const i = line.indexOf('=');
    if (i > 0) fields.set(line.slice(0, i).trim(), Number(line.slice(i + 1).trim()));
  }
  return {
    at,
    get(key) {
      const v = fields.get(key);
      if (v === undefined) throw new Error(`virsh domstats shows no ${key}:\n${out}`);
      return v;
    },
  };
}

/** The PID of the QEMU process running domain `name` (its command line names it `guest=NAME`). */
async function qemuPid(name: string): Promise<number> {
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const argv = await readFile(`/proc/${entry}/cmdline`, 'utf8').catch(() => '');
    const args = argv.split('\0');
    if (args[0]?.includes('qemu-system') && args.some((a) => a.startsWith(`guest=${name},`) || a === `guest=${name}`)) {
      return Number(entry);
    }
  }
  throw new Error(`no QEMU process runs ${name}`);
}

/**
 * Raises the CPU weight of every cgroup from the top of the process's CPU cgroup path (libvirt's
 * `machine` partition) down to the process's own, and returns what puts the old weights back.
 * cgroup v1 `cpu.shares` or v2 `cpu.weight`; a process in no CPU cgroup is left alone.
 */
async function raiseCpuWeight(pid: number): Promise<() => Promise<void>> {
  const lines = (await readFile(`/proc/${pid}/cgroup`, 'utf8')).split('\n');
  const v1 = lines.find((l) => /^\d+:[^:]*\bcpu\b[^:]*:/.test(l));
  const v2 = lines.find((l) => l.startsWith('0::'));
  const [base, file, high] = v1
    ? [`/sys/fs/cgroup/${v1.split(':')[1]}`, 'cpu.shares', '262144']
    : ['/sys/fs/cgroup', 'cpu.weight', '10000'];
  const path = (v1 ?? v2 ?? '').split(':').slice(2).join(':');
  const parts = path.split('/').filter((p) => p !== '');
  const saved: Array<[string, string]> = [];
  for (let i = 1; i <= parts.length; i++) {
    const knob = join(base, ...parts.slice(0, i), file);
    const old = await readFile(knob, 'utf8').catch(() => undefined);
    if (old === undefined) continue;
    await writeFile(knob, high);
    saved.push([knob, old.trim()]);
  }
  return async () => {
    for (const [knob, old] of saved.reverse()) await writeFile(knob, old).catch(() => undefined);
  };
}

describe.skipIf(skip !== undefined)(
  'domainStats of a busy tiny guest (private libvirtd, TCG)',
  { timeout: 90_000 },
  () => {
    let uri: string;
    let c: Connection;
    let vol: Volume;
    let dom: Domain;
    let stream: ConsoleStream;
    let gw: ListeningGateway;
    const out = consoleCollector();

    /** Types a command line and waits for what only its output (not its echo) contains. */
    async function run(command: string, answer: string): Promise<void> {
      await stream.write(Buffer.from(`${command}\n`));
      await out.until(answer);
    }

    beforeAll(async () => {
      const daemon = privateDaemon();
      if (!daemon) throw new Error('unreachable');
      uri = daemon.uri;
      const image = await buildGuestImage();
      c = await openPrivateDaemon();
      await (await c.domainByName(NAME).catch(() => undefined))?.destroy().catch(() => undefined);
      const pool = await c.storagePoolByName(DIR_POOL);
      await (await pool.volumeByName(`${NAME}.raw`).catch(() => undefined))?.delete();
      vol = await pool.createVolume(buildVolumeXml({ name: `${NAME}.raw`, capacityBytes: 64n << 20n, format: 'raw' }));
      dom = await c.createDomain(
        guestDomainXml({ name: NAME, image, serial: 'pty', disks: [{ path: vol.path, target: 'vda' }] }),
        { paused: true },
      );
      stream = await ConsoleStream.open(dom, out.listener);
      await dom.resume();
      await out.until(GUEST_READY_MARKER);
      gw = await listen({ qemu: uri });
    }, 120_000);
    afterAll(async () => {
      stopAll();
      await gw?.close();
      await stream?.close().catch(() => undefined);
      if (dom && (await dom.isActive().catch(() => false))) await dom.destroy();
      await vol?.delete().catch(() => undefined);
      await c?.close();
    });

    /**
     * Waits for the next sample, reads virsh domstats, waits for the one after and reads virsh
     * again: the second sample's rates and the virsh deltas cover the same window.
     */
    async function window() {
      const client = wsClient(gw.wsUrl);
      const sub = subscribeWs<Sample>(client, SUBSCRIPTION, { domains: [NAME], interval: INTERVAL_SECONDS });
      try {
        const first = await sub.results.next();
        expect(first.errors).toBeUndefined();
        const before = await domstats(uri);
        const second = await sub.results.next();
        const after = await domstats(uri);
        expect(second.errors).toBeUndefined();
        const reading = second.data?.domainStats.domains.find((d) => d.name === NAME);
        if (!reading?.rates) throw new Error(`no rates for ${NAME}: ${JSON.stringify(second.data)}`);
        const seconds = (after.at - before.at) / 1000;
        return { rates: reading.rates, before, after, seconds };
      } finally {
        sub.stop();
        await client.dispose();
      }
    }

    it('a busy loop in the guest shows as CPU % above 50, as virsh domstats cpu.time deltas say', async () => {
      // The test machines are shared: libvirt puts QEMU in its `machine` CPU cgroup, which weighs
      // as much as one process of the host's root group, so with 8-12 runnable threads on 2 cores
      // the vCPU got 12-33% of a core whatever the guest asked (measured). For the window the
      // domain's cgroups weigh more, so that the guest's demand decides the figure and not the
      // host's other load; both figures compared below read the same counter anyway.
      const pid = await qemuPid(NAME);
      await run('while :; do :; done & echo burn=$((1+1))', 'burn=2');
      const restore = await raiseCpuWeight(pid);
      let measured: Awaited<ReturnType<typeof window>>;
      try {
        measured = await window();
      } finally {
        await restore();
      }
      const { rates, before, after, seconds } = measured;
      await run('kill $! && echo stopped=$((2+2))', 'stopped=4');
      // One vCPU: the share of it the domain's CPU time took over the window.
      const virshPercent = ((after.get('cpu.time') - before.get('cpu.time')) / 1e9 / seconds) * 100;
      expect(rates.cpuPercentOfVcpus).toBeGreaterThan(50);
      expect(rates.cpuPercentOfVcpus).toBeGreaterThan(virshPercent * (1 - TOLERANCE));
      expect(rates.cpuPercentOfVcpus).toBeLessThan(virshPercent * (1 + TOLERANCE));
    });

    it('dd in the guest to its virtio disk shows as write bytes/s, as virsh domstats block.0.wr.bytes deltas say', async () => {
      // Direct I/O, so each write reaches the disk now rather than at the page cache's next flush.
      await run(
        'while :; do dd if=/dev/zero of=/dev/vda bs=256k count=128 oflag=direct 2>/dev/null; done & echo dd=$((3+3))',
        'dd=6',
      );
      const { rates, before, after, seconds } = await window();
      await run('kill $! && echo stopped=$((4+4))', 'stopped=8');
      const disk = rates.blockDevices.find((b) => b.name === 'vda');
      const virshRate = (after.get('block.0.wr.bytes') - before.get('block.0.wr.bytes')) / seconds;
      console.info(
        `vda writes: gateway ${disk?.writeBytesPerSecond?.toFixed(0)} B/s, virsh ${virshRate.toFixed(0)} B/s`,
      );
      expect(virshRate).toBeGreaterThan(0);
      expect(disk?.writeBytesPerSecond).toBeGreaterThan(virshRate * (1 - TOLERANCE));
      expect(disk?.writeBytesPerSecond).toBeLessThan(virshRate * (1 + TOLERANCE));
    });
  },
);
