import type { Logger } from 'pino';
import type { HostConfig, KeepAliveConfig } from '../config/config.ts';
import type { Connection, OpenOptions } from '../libvirt/index.ts';
import { errorMessage, HostRegistryClosedError, HostTimeoutError } from './errors.ts';
import { withTimeout } from './with-timeout.ts';

/** Opens a libvirt connection; `Connection.open` unless a test substitutes it. */
export type OpenConnection = (uri: string, options: OpenOptions) => Promise<Connection>;

/** How a lost host is reopened in the background: exponential backoff with a cap. */
export interface ReconnectPolicy {
  /** Delay before the first attempt. @default 500 */
  initialDelayMs: number;
  /** The delay doubles per failed attempt up to this. @default 30_000 */
  maxDelayMs: number;
  /** Random spread of each delay as a fraction (0.2 = ±20 %), so many gateways do not retry in step. @default 0.2 */
  jitter: number;
}

export interface HostStatus {
  /** A connection is open and was alive when last used. */
  connected: boolean;
  /** Why the last open failed or the connection was lost; cleared by the next successful open. */
  lastError?: string;
}

export interface HostConnectionOptions {
  host: HostConfig;
  keepAlive: KeepAliveConfig;
  logger: Logger;
  open: OpenConnection;
  openTimeoutMs: number;
  closeTimeoutMs: number;
  reconnect: ReconnectPolicy;
  onConnected: (connection: Connection) => void;
  onDisconnected: (reason: string) => void;
}

async function isAlive(connection: Connection): Promise<boolean> {
  try {
    return await connection.isAlive();
  } catch {
    return false;
  }
}

/**
 * The cached connection of one host: opened on first use, shared by concurrent callers,
 * dropped when libvirt reports it closed or it is found dead, then reopened in the
 * background. Every connection it opens is closed by it, at the latest by close().
 */
export class HostConnection {
  readonly name: string;
  readonly #options: HostConnectionOptions;
  readonly #log: Logger;
  #current: { connection: Connection; unsubscribe: () => void } | undefined;
  #opening: Promise<Connection> | undefined;
  #lastError: string | undefined;
  #closed = false;
  #closing: Promise<void> | undefined;
  #retryTimer: NodeJS.Timeout | undefined;
  #retryAttempt = 0;
  /** Closes of dropped connections still under way; close() waits for them. */
  readonly #pendingCloses = new Set<Promise<void>>();

  constructor(options: HostConnectionOptions) {
    this.name = options.host.name;
    this.#options = options;
    this.#log = options.logger.child({ host: this.name });
  }

  get status(): HostStatus {
    return {
      connected: this.#current !== undefined,
      ...(this.#lastError === undefined ? {} : { lastError: this.#lastError }),
    };
  }

  /** The open connection, checked alive; opens (or reopens) one when there is none. */
  async get(): Promise<Connection> {
    this.#assertOpen();
    const current = this.#current;
    if (current !== undefined) {
      if (await isAlive(current.connection)) return current.connection;
      this.#drop(current.connection, 'connection is no longer alive');
      this.#assertOpen();
    }
    return this.#connect();
  }

  /** Closes the connection and any that is still opening; later get() calls reject. Idempotent. */
  close(): Promise<void> {
    this.#closing ??= this.#shutdown();
    return this.#closing;
  }

  #assertOpen(): void {
    if (this.#closed) throw new HostRegistryClosedError(this.name);
  }

  /** One open at a time, shared; each caller waits at most openTimeoutMs for it. */
  #connect(): Promise<Connection> {
    if (this.#current !== undefined) return Promise.resolve(this.#current.connection);
    this.#opening ??= this.#open().finally(() => {
      this.#opening = undefined;
    });
    const ms = this.#options.openTimeoutMs;
    return withTimeout(this.#opening, ms, () => {
      const error = new HostTimeoutError(this.name, ms);
      this.#lastError = error.message;
      return error;
    });
  }

  async #open(): Promise<Connection> {
    const { host, keepAlive, open } = this.#options;
    let connection: Connection;
    try {
      connection = await open(host.uri, { username: host.parts.username, password: host.password });
    } catch (error) {
      this.#lastError = errorMessage(error);
      this.#log.debug({ uri: host.uri, err: this.#lastError }, 'opening the host connection failed');
      throw error;
    }
    try {
      this.#assertOpen();
      // false for drivers without a transport to keep alive (test:///): nothing to do then.
      const keptAlive = await connection.setKeepAlive(keepAlive.intervalSeconds, keepAlive.count);
      const unsubscribe = await connection.subscribe((event) => {
        if (event.kind === 'close') this.#drop(connection, `libvirt closed the connection (${event.reason})`);
      });
      if (this.#closed) {
        unsubscribe();
        throw new HostRegistryClosedError(this.name);
      }
      this.#current = { connection, unsubscribe };
      this.#lastError = undefined;
      this.#retryAttempt = 0;
      clearTimeout(this.#retryTimer);
      this.#retryTimer = undefined;
      this.#log.info({ uri: host.uri, keepAlive: keptAlive }, 'host connected');
      this.#options.onConnected(connection);
      return connection;
    } catch (error) {
      await connection.close().catch(() => undefined);
      if (!(error instanceof HostRegistryClosedError)) this.#lastError = errorMessage(error);
      throw error;
    }
  }

  /** Forgets `connection` if it is still the current one, closes it and starts reconnecting. */
  #drop(connection: Connection, reason: string): void {
    const current = this.#current;
    if (current === undefined || current.connection !== connection) return;
    this.#current = undefined;
    current.unsubscribe();
    this.#lastError = reason;
    this.#log.warn({ reason }, 'host connection lost');
    this.#closeInBackground(connection);
    this.#options.onDisconnected(reason);
    this.#scheduleRetry();
  }

  #closeInBackground(connection: Connection): void {
    const closing = connection.close().catch((error: unknown) => {
      this.#log.debug({ err: errorMessage(error) }, 'closing a lost connection failed');
    });
    this.#pendingCloses.add(closing);
    void closing.finally(() => this.#pendingCloses.delete(closing));
  }

  #scheduleRetry(): void {
    if (this.#closed || this.#retryTimer !== undefined || this.#current !== undefined) return;
    const { initialDelayMs, maxDelayMs, jitter } = this.#options.reconnect;
    const base = Math.min(initialDelayMs * 2 ** this.#retryAttempt, maxDelayMs);
    const delayMs = Math.max(0, Math.round(base * (1 + jitter * (2 * Math.random() - 1))));
    this.#retryAttempt += 1;
    this.#log.info({ attempt: this.#retryAttempt, delayMs }, 'reconnecting');
    this.#retryTimer = setTimeout(() => this.#retry(), delayMs);
    // A pending retry must not keep the process alive.
    this.#retryTimer.unref();
  }

  #retry(): void {
    this.#retryTimer = undefined;
    if (this.#closed || this.#current !== undefined) return;
    this.#connect().then(
      () => this.#log.info('host reconnected'),
      (error: unknown) => {
        if (this.#closed) return;
        this.#log.warn({ err: errorMessage(error), attempt: this.#retryAttempt }, 'reconnecting failed');
        this.#scheduleRetry();
      },
    );
  }

  async #shutdown(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#retryTimer);
    this.#retryTimer = undefined;
    const current = this.#current;
    this.#current = undefined;
    if (current !== undefined) {
      current.unsubscribe();
      this.#closeInBackground(current.connection);
      this.#options.onDisconnected('registry closed');
    }
    const opening = this.#opening;
    if (opening !== undefined) {
      // The open closes its connection itself when it finishes (it sees #closed); wait for that, within reason.
      const ms = this.#options.closeTimeoutMs;
      await withTimeout(
        opening.then(
          () => undefined,
          () => undefined,
        ),
        ms,
        () => new HostTimeoutError(this.name, ms, 'finishing an open'),
      ).catch((error: unknown) => {
        this.#log.warn({ err: errorMessage(error) }, 'an open still under way will be closed when it finishes');
      });
    }
    await Promise.all(this.#pendingCloses);
  }
}
