import { withTimeout } from '../hosts/with-timeout.ts';
import type { Connection } from '../libvirt/connection.ts';
import { type HostReading, readHost } from './host-reading.ts';

export interface HostSample {
  host: string;
  /** The host's reading, or why it could not be read (libvirt_up 0). */
  reading?: HostReading;
  error?: string;
}

export interface HostSamplerOptions {
  hosts: { names(): string[]; connection(name: string): Promise<Connection> };
  /** A sample younger than this serves every scrape. */
  maxAgeSeconds: number;
  /** How long one host may take before it counts as down for this sample. */
  hostTimeoutSeconds: number;
  /** @default Date.now */
  now?: () => number;
}

interface Entry {
  sample: Promise<HostSample>;
  /** When the read finished; undefined while it runs, so scrapes meanwhile share it. */
  takenAt?: number;
}

/**
 * One sample per host, shared: a scrape reuses a sample at most maxAgeSeconds old, and scrapes
 * that arrive while a host is being read wait for that read, so N scrapers (several Prometheus
 * servers, replicas behind one address) cost libvirt what one costs.
 */
export class HostSampler {
  readonly #options: HostSamplerOptions;
  readonly #entries = new Map<string, Entry>();
  readonly #now: () => number;

  constructor(options: HostSamplerOptions) {
    this.#options = options;
    this.#now = options.now ?? Date.now;
  }

  /**
   * Forgets the host's sample, so the next scrape reads it again: libvirt reported a change
   * (a domain started, a pool stopped...), which a sample up to maxAgeSeconds old would hide.
   */
  invalidate(host: string): void {
    this.#entries.delete(host);
  }

  /** Every configured host's sample, in configuration order. Never rejects. */
  samples(): Promise<HostSample[]> {
    return Promise.all(this.#options.hosts.names().map((host) => this.#sample(host)));
  }

  #sample(host: string): Promise<HostSample> {
    const entry = this.#entries.get(host);
    if (entry && (entry.takenAt === undefined || this.#now() - entry.takenAt <= this.#options.maxAgeSeconds * 1000)) {
      return entry.sample;
    }
    const next: Entry = {
      // Age counts from when the read finished, so a slow host is not read back to back.
      sample: this.#read(host).finally(() => {
        next.takenAt = this.#now();
      }),
    };
    this.#entries.set(host, next);
    return next.sample;
  }

  async #read(host: string): Promise<HostSample> {
    const ms = this.#options.hostTimeoutSeconds * 1000;
    try {
      const reading = await withTimeout(
        this.#options.hosts.connection(host).then(readHost),
        ms,
        () => new Error(`no answer within ${this.#options.hostTimeoutSeconds} s`),
      );
      return { host, reading };
    } catch (e) {
      return { host, error: e instanceof Error ? e.message : String(e) };
    }
  }
}
