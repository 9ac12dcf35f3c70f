import { Redis } from 'ioredis';

/** One host's answer to the readiness check. */
export interface HostReadiness {
  host: string;
  ok: boolean;
}

export interface ReadinessOptions {
  /** Asks every host whether its connection opens and is alive. */
  checkHosts(): Promise<Array<{ host: string; ok: boolean }>>;
  /** Hosts that must answer for the gateway to be ready (config ready.minHosts). */
  minHosts: number;
  /** Name the hosts in the report (config ready.hostNames): the route is public. @default false */
  hostNames?: boolean;
  /** Redis shared with the other replicas: it must answer PING when configured. */
  redisUrl?: string;
  /** False once the server stopped listening or is shutting down: the load balancer should drain this replica. */
  serving(): boolean;
  /** How long PING may take. @default 2_000 */
  redisTimeoutMs?: number;
}

export interface ReadinessReport {
  ready: boolean;
  serving: boolean;
  /** Absent without Redis configured. */
  redis?: 'up' | 'down';
  minHosts: number;
  connected: number;
  /**
   * Each host's state, in the configured order, with its name only when ready.hostNames is on. No
   * libvirt error text: the route is public, Host.lastError is for authenticated callers.
   */
  hosts: Array<{ name?: string; state: 'connected' | 'down' }>;
}

export interface Readiness {
  check(): Promise<ReadinessReport>;
  close(): Promise<void>;
}

/**
 * Whether this replica can serve: it listens, its Redis answers (when configured) and at least
 * `minHosts` hypervisors are connected. One broken hypervisor does not pull every replica out of the
 * load balancer; its state shows in the report and in Host.connected.
 */
export function createReadiness(options: ReadinessOptions): Readiness {
  const timeoutMs = options.redisTimeoutMs ?? 2_000;
  // Its own client, never queueing commands while disconnected: a PING either answers now or the check says down.
  let redis: Redis | undefined;
  const pingRedis = async (url: string): Promise<boolean> => {
    if (redis === undefined) {
      redis = new Redis(url, { lazyConnect: true, enableOfflineQueue: false, maxRetriesPerRequest: 0 });
      // ioredis reports a refused connection as an 'error' event too; the PING's rejection is what counts here.
      redis.on('error', () => {});
    }
    let timer: NodeJS.Timeout | undefined;
    try {
      const client = redis;
      const pong = await Promise.race([
        (async () => {
          if (client.status === 'wait' || client.status === 'end') await client.connect();
          return client.ping();
        })(),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error('timeout')), timeoutMs);
        }),
      ]);
      return pong === 'PONG';
    } catch {
      return false;
    } finally {
      clearTimeout(timer);
    }
  };
  return {
    async check() {
      const serving = options.serving();
      const [hosts, redisUp] = await Promise.all([
        options.checkHosts(),
        options.redisUrl === undefined ? undefined : pingRedis(options.redisUrl),
      ]);
      const connected = hosts.filter((h) => h.ok).length;
      const ready = serving && redisUp !== false && connected >= options.minHosts;
      return {
        ready,
        serving,
        ...(redisUp === undefined ? {} : { redis: redisUp ? 'up' : 'down' }),
        minHosts: options.minHosts,
        connected,
        hosts: hosts.map((h) => ({
          ...(options.hostNames === true ? { name: h.host } : {}),
          state: h.ok ? 'connected' : 'down',
        })),
      };
    },
    async close() {
      redis?.disconnect();
    },
  };
}
