import { performance } from 'node:perf_hooks';
import { Repeater } from 'graphql-yoga';
import type { Connection, Domain } from '../libvirt/index.ts';
import { type DomainRates, type DomainStatsRecord, domainRates, parseDomainStats } from '../libvirt/index.ts';

/** One domain in one tick: its counters, and its rates since the previous tick (null on its first). */
export interface SampledDomain {
  domain: Domain;
  stats: DomainStatsRecord;
  rates: DomainRates | null;
}

/** What one tick of a host's sampler read: every active domain, or why the host could not be read. */
export interface StatsSample {
  host: string;
  sampledAt: Date;
  domains: SampledDomain[];
  error?: string;
}

export interface StatsSamplersOptions {
  connection(host: string): Promise<Connection>;
  /** The shortest interval a subscriber may ask for. @default 1 */
  minIntervalSeconds?: number;
}

type Listener = { push: (s: StatsSample) => void; stop: () => void };

/** The stat groups the rates need: CPU time, vCPU count, block and NIC counters. */
const GROUPS = ['STATE', 'CPU_TOTAL', 'VCPU', 'INTERFACE', 'BLOCK'] as const;

/**
 * One timer per host and interval, shared by every subscriber to it: each tick is one bulk
 * virConnectGetAllDomainStats, asked with NOWAIT so a domain stuck in a job cannot stall it.
 */
class Sampler {
  readonly #listeners = new Set<Listener>();
  #timer: NodeJS.Timeout | undefined;
  #ticking = false;
  #previous = new Map<string, DomainStatsRecord>();
  #previousAt = 0;
  #hostCpus: number | undefined;

  constructor(
    readonly host: string,
    readonly intervalMs: number,
    readonly connection: () => Promise<Connection>,
    readonly onIdle: () => void,
  ) {}

  get listenerCount(): number {
    return this.#listeners.size;
  }

  add(listener: Listener): () => void {
    this.#listeners.add(listener);
    if (this.#timer === undefined) {
      this.#timer = setInterval(() => void this.#tick(), this.intervalMs);
      this.#timer.unref();
      void this.#tick();
    }
    return () => {
      this.#listeners.delete(listener);
      if (this.#listeners.size === 0) this.stop();
    };
  }

  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
    for (const l of [...this.#listeners]) l.stop();
    this.#listeners.clear();
    this.onIdle();
  }

  async #tick(): Promise<void> {
    // A tick slower than the interval makes the next one skip rather than queue behind it.
    if (this.#ticking) return;
    this.#ticking = true;
    try {
      this.#emit(await this.#read());
    } catch (e) {
      this.#previous.clear();
      this.#emit({ host: this.host, sampledAt: new Date(), domains: [], error: (e as Error).message });
    } finally {
      this.#ticking = false;
    }
  }

  async #read(): Promise<StatsSample> {
    const c = await this.connection();
    this.#hostCpus ??= (await c.nodeInfo()).cpus;
    const rows = await c.allDomainStats([...GROUPS], 'active', { enforce: false, nowait: true });
    const at = performance.now();
    const elapsed = (at - this.#previousAt) / 1000;
    const current = new Map<string, DomainStatsRecord>();
    const domains = rows.map(({ domain, params }): SampledDomain => {
      const stats = parseDomainStats(params);
      current.set(domain.uuid, stats);
      const before = this.#previous.get(domain.uuid);
      return { domain, stats, rates: before ? domainRates(before, stats, elapsed, this.#hostCpus ?? 0) : null };
    });
    this.#previous = current;
    this.#previousAt = at;
    return { host: this.host, sampledAt: new Date(), domains };
  }

  #emit(sample: StatsSample): void {
    if (this.#timer === undefined) return;
    for (const l of this.#listeners) l.push(sample);
  }
}

/** The gateway's stats samplers, keyed by host and interval, started on a first subscriber and stopped on the last. */
export class StatsSamplers {
  readonly minIntervalSeconds: number;
  readonly #options: StatsSamplersOptions;
  readonly #samplers = new Map<string, Sampler>();
  #closed = false;

  constructor(options: StatsSamplersOptions) {
    this.#options = options;
    this.minIntervalSeconds = options.minIntervalSeconds ?? 1;
  }

  /** Samplers running now (one per host and interval with subscribers). */
  get size(): number {
    return this.#samplers.size;
  }

  /** The samples of `host` every `intervalSeconds`, the first at once, until the consumer returns or close(). */
  subscribe(host: string, intervalSeconds: number): AsyncIterableIterator<StatsSample> {
    return new Repeater<StatsSample>(async (push, stop) => {
      if (this.#closed) return stop();
      const intervalMs = Math.round(intervalSeconds * 1000);
      const key = `${host}\u001f${intervalMs}`;
      let sampler = this.#samplers.get(key);
      if (!sampler) {
        const created = new Sampler(
          host,
          intervalMs,
          () => this.#options.connection(host),
          () => {
            if (this.#samplers.get(key) === created) this.#samplers.delete(key);
          },
        );
        sampler = created;
        this.#samplers.set(key, sampler);
      }
      const remove = sampler.add({ push: (s) => void push(s).catch(() => {}), stop });
      await stop;
      remove();
    });
  }

  /** Stops every sampler and ends every stream. */
  close(): void {
    this.#closed = true;
    for (const sampler of [...this.#samplers.values()]) sampler.stop();
  }
}
