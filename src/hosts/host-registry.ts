import { type Logger, pino } from 'pino';
import { ConfigError, type ConfigProblem, type GatewayConfig, type HostConfig } from '../config/config.ts';
import { Connection } from '../libvirt/index.ts';
import { errorMessage, HostTimeoutError, UnknownHostError } from './errors.ts';
import { HostConnection, type HostStatus, type OpenConnection, type ReconnectPolicy } from './host-connection.ts';
import { withTimeout } from './with-timeout.ts';

export { HostRegistryClosedError, HostTimeoutError, UnknownHostError } from './errors.ts';
export type { HostStatus, OpenConnection, ReconnectPolicy } from './host-connection.ts';

export const REDACTED = '[redacted]';

/** A host's configuration as the registry shows it: the password never leaves. */
export type RedactedHostConfig = Omit<HostConfig, 'password'> & { password?: typeof REDACTED };

export interface HostRegistryEvents {
  /** A connection to `host` was opened (first use or reconnect): register per-connection work here. */
  connected: (host: string, connection: Connection) => void;
  /** The connection to `host` is gone (`reason`); a reconnect follows unless the registry is closing. */
  disconnected: (host: string, reason: string) => void;
}

export interface ReadyReport {
  host: string;
  ok: boolean;
  error?: string;
}

export interface HostRegistryOptions {
  /** @default a pino logger at info */
  logger?: Logger;
  /** @default Connection.open */
  open?: OpenConnection;
  /** How long a caller waits for a connection to open. @default 30_000 */
  openTimeoutMs?: number;
  /** Per-host time limit of checkReady. @default 5_000 */
  readyTimeoutMs?: number;
  /** How long close() waits for opens still under way (they close themselves when they finish). @default 5_000 */
  closeTimeoutMs?: number;
  reconnect?: Partial<ReconnectPolicy>;
}

export type HostRegistryConfig = Pick<GatewayConfig, 'hosts' | 'defaultHost' | 'keepAlive'>;

const DEFAULT_RECONNECT: ReconnectPolicy = { initialDelayMs: 500, maxDelayMs: 30_000, jitter: 0.2 };

function checkConfig(config: HostRegistryConfig): void {
  const problems: ConfigProblem[] = [];
  const names = new Set<string>();
  config.hosts.forEach((host, i) => {
    if (names.has(host.name)) problems.push({ path: `hosts[${i}].name`, reason: `${host.name} is given twice` });
    names.add(host.name);
  });
  if (names.size === 0) problems.push({ path: 'hosts', reason: 'must name at least one host' });
  if (!names.has(config.defaultHost)) {
    problems.push({ path: 'defaultHost', reason: `no host named ${JSON.stringify(config.defaultHost)}` });
  }
  if (problems.length > 0) throw new ConfigError(problems);
}

/**
 * The gateway's libvirt hosts by name, each with one cached connection: opened lazily on
 * first use, shared by concurrent callers, kept alive with libvirt keepalives, and reopened
 * after the daemon goes away. close() closes every connection it ever opened.
 */
export class HostRegistry {
  /** The host a request gets when it names none. */
  readonly defaultName: string;
  readonly #configs = new Map<string, HostConfig>();
  readonly #hosts = new Map<string, HostConnection>();
  readonly #listeners: { [E in keyof HostRegistryEvents]: Set<HostRegistryEvents[E]> } = {
    connected: new Set(),
    disconnected: new Set(),
  };
  readonly #log: Logger;
  readonly #readyTimeoutMs: number;
  #closing: Promise<void> | undefined;

  constructor(config: HostRegistryConfig, options: HostRegistryOptions = {}) {
    checkConfig(config);
    this.defaultName = config.defaultHost;
    this.#log = (options.logger ?? pino({ level: 'info' })).child({ component: 'host-registry' });
    this.#readyTimeoutMs = options.readyTimeoutMs ?? 5_000;
    const open: OpenConnection = options.open ?? ((uri, openOptions) => Connection.open(uri, openOptions));
    for (const host of config.hosts) {
      this.#configs.set(host.name, host);
      this.#hosts.set(
        host.name,
        new HostConnection({
          host,
          keepAlive: config.keepAlive,
          logger: this.#log,
          open,
          openTimeoutMs: options.openTimeoutMs ?? 30_000,
          closeTimeoutMs: options.closeTimeoutMs ?? 5_000,
          reconnect: { ...DEFAULT_RECONNECT, ...options.reconnect },
          onConnected: (connection) => this.#emit('connected', host.name, connection),
          onDisconnected: (reason) => this.#emit('disconnected', host.name, reason),
        }),
      );
    }
  }

  /** Host names in configuration order. */
  names(): string[] {
    return [...this.#configs.keys()];
  }

  has(name: string): boolean {
    return this.#configs.has(name);
  }

  /** `name`, or the default host when it is omitted; throws {@link UnknownHostError} for a name not configured. */
  resolveName(name?: string | null): string {
    const resolved = name ?? this.defaultName;
    if (!this.#configs.has(resolved)) throw new UnknownHostError(resolved, this.names());
    return resolved;
  }

  /** The host's configuration with its password redacted. */
  config(name?: string | null): RedactedHostConfig {
    const { password, ...rest } = this.#config(name);
    return password === undefined ? rest : { ...rest, password: REDACTED };
  }

  /** The canonical libvirt URI the host is opened with. */
  uri(name?: string | null): string {
    return this.#config(name).uri;
  }

  /**
   * The host's open connection: opened on first use, shared by concurrent callers,
   * reopened when the cached one was closed by libvirt or is no longer alive.
   * Rejects with {@link UnknownHostError}, the LibvirtError of a failed open, or
   * {@link HostTimeoutError}.
   */
  async connection(name?: string | null): Promise<Connection> {
    return this.#host(name).get();
  }

  status(name?: string | null): HostStatus {
    return this.#host(name).status;
  }

  /** Ready when every host answers: its connection opens and is alive, each within `timeoutMs`. */
  async checkReady(timeoutMs = this.#readyTimeoutMs): Promise<ReadyReport[]> {
    return Promise.all(
      [...this.#hosts.values()].map(async (host): Promise<ReadyReport> => {
        try {
          const alive = await withTimeout(
            host.get().then((connection) => connection.isAlive()),
            timeoutMs,
            () => new HostTimeoutError(host.name, timeoutMs, 'checking the connection'),
          );
          return alive
            ? { host: host.name, ok: true }
            : { host: host.name, ok: false, error: 'connection is not alive' };
        } catch (error) {
          return { host: host.name, ok: false, error: errorMessage(error) };
        }
      }),
    );
  }

  /** Adds a listener; returns the function that removes it. A listener that throws is logged, not propagated. */
  on<E extends keyof HostRegistryEvents>(event: E, listener: HostRegistryEvents[E]): () => void {
    const listeners = this.#listeners[event] as Set<HostRegistryEvents[E]>;
    listeners.add(listener);
    return () => {
      listeners.delete(listener);
    };
  }

  /** Closes every connection, including those still opening; later connection() calls reject. Idempotent. */
  close(): Promise<void> {
    this.#closing ??= Promise.all([...this.#hosts.values()].map((host) => host.close())).then(() => undefined);
    return this.#closing;
  }

  #config(name?: string | null): HostConfig {
    const config = this.#configs.get(this.resolveName(name));
    if (config === undefined) throw new UnknownHostError(String(name), this.names());
    return config;
  }

  #host(name?: string | null): HostConnection {
    const host = this.#hosts.get(this.resolveName(name));
    if (host === undefined) throw new UnknownHostError(String(name), this.names());
    return host;
  }

  #emit<E extends keyof HostRegistryEvents>(event: E, ...args: Parameters<HostRegistryEvents[E]>): void {
    for (const listener of [...this.#listeners[event]]) {
      try {
        (listener as (...a: Parameters<HostRegistryEvents[E]>) => void)(...args);
      } catch (error) {
        this.#log.error({ err: errorMessage(error), event }, 'host registry listener failed');
      }
    }
  }
}
