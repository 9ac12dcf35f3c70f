import { readFileSync } from 'node:fs';
import type { ConnectGuard, UpgradeGuard } from '../events/graphql-ws-server.ts';

/** Close code for a connection past its identity's cap (429 Too Many Requests, in graphql-ws' 4xxx range). */
export const TooManyConnections = 4429;

/** File descriptors kept free of WebSockets: libvirt connections, Redis, log files, HTTP requests, /health. */
const FD_HEADROOM = 256;

/** The soft limit on open files from /proc/self/limits; undefined where there is none to read. */
export function openFilesSoftLimit(limits = '/proc/self/limits'): number | undefined {
  try {
    const line = readFileSync(limits, 'utf8')
      .split('\n')
      .find((l) => l.startsWith('Max open files'));
    const soft = line?.slice('Max open files'.length).trim().split(/\s+/)[0];
    return soft && /^\d+$/.test(soft) ? Number(soft) : undefined;
  } catch {
    return undefined;
  }
}

/** The configured total, clamped so WebSockets alone never take the descriptors `/health` needs. */
export function webSocketCap(configured: number, softLimit = openFilesSoftLimit()): number {
  if (softLimit === undefined) return configured;
  return Math.max(1, Math.min(configured, softLimit - FD_HEADROOM));
}

export interface WebSocketLimits {
  /** The total cap in effect, after clamping. */
  total: number;
  /** Past the total, the upgrade is answered 503 before the handshake. */
  upgradeGuard: UpgradeGuard;
  /** Past the identity's cap, the socket closes 4429 once authenticated. */
  connectGuard: ConnectGuard;
}

export function createWebSocketLimits({
  webSockets,
  webSocketsPerIdentity,
}: {
  webSockets: number;
  webSocketsPerIdentity: number;
}): WebSocketLimits {
  const total = webSocketCap(webSockets);
  let open = 0;
  const perIdentity = new Map<string, number>();
  return {
    total,
    upgradeGuard(req) {
      if (open >= total)
        return { status: 503, code: 'LIMIT_EXCEEDED', message: `at most ${total} WebSockets are open at once` };
      open += 1;
      // The upgrade's TCP socket becomes the WebSocket's, so its close ends either.
      req.socket.once('close', () => {
        open -= 1;
      });
      return undefined;
    },
    connectGuard(identity, socket) {
      const { key } = identity;
      const held = perIdentity.get(key) ?? 0;
      if (held >= webSocketsPerIdentity) {
        return {
          code: TooManyConnections,
          reason: `LIMIT_EXCEEDED: at most ${webSocketsPerIdentity} WebSockets per identity`,
        };
      }
      perIdentity.set(key, held + 1);
      socket.once('close', () => {
        const n = (perIdentity.get(key) ?? 1) - 1;
        if (n > 0) perIdentity.set(key, n);
        else perIdentity.delete(key);
      });
      return undefined;
    },
  };
}
