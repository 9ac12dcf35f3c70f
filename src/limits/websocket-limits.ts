import { readFileSync } from 'node:fs';
import type { Duplex } from 'node:stream';
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
  /** What the limits hold now: it all goes back to zero once the sockets have closed. */
  held(): { open: number; awaitingInit: number; identities: number };
}

export interface WebSocketLimitsConfig {
  webSockets: number;
  webSocketsPerIdentity: number;
  /** Sockets at once that have not yet authenticated (graphql-ws `connection_init`, a console's ticket). */
  webSocketsAwaitingInit: number;
  /** How long a socket may take to authenticate before it is closed. */
  webSocketInitSeconds: number;
}

/**
 * The WebSocket caps. A socket counts against the total from its upgrade request, and against
 * the small awaiting-init cap until it has authenticated (connectGuard runs). Sockets that never
 * authenticate are closed after webSocketInitSeconds; past the awaiting-init cap the oldest of
 * them is closed to make room, so idle sockets can neither fill the total nor starve a client
 * that authenticates within a round trip.
 */
export function createWebSocketLimits({
  webSockets,
  webSocketsPerIdentity,
  webSocketsAwaitingInit,
  webSocketInitSeconds,
}: WebSocketLimitsConfig): WebSocketLimits {
  const total = webSocketCap(webSockets);
  let open = 0;
  const perIdentity = new Map<string, number>();
  /** Sockets that have not authenticated yet, oldest first, each with its deadline. */
  const awaiting = new Map<Duplex, NodeJS.Timeout>();
  const initialised = (socket: Duplex) => {
    clearTimeout(awaiting.get(socket));
    awaiting.delete(socket);
  };
  return {
    total,
    held: () => ({ open, awaitingInit: awaiting.size, identities: perIdentity.size }),
    upgradeGuard(req) {
      if (open >= total)
        return { status: 503, code: 'LIMIT_EXCEEDED', message: `at most ${total} WebSockets are open at once` };
      if (awaiting.size >= webSocketsAwaitingInit) {
        const [oldest] = awaiting.keys();
        if (oldest) {
          initialised(oldest);
          oldest.destroy();
        }
      }
      open += 1;
      const socket = req.socket;
      const deadline = setTimeout(() => {
        awaiting.delete(socket);
        socket.destroy();
      }, webSocketInitSeconds * 1000);
      deadline.unref();
      awaiting.set(socket, deadline);
      // The upgrade's TCP socket becomes the WebSocket's, so its close ends either.
      socket.once('close', () => {
        open -= 1;
        initialised(socket);
      });
      return undefined;
    },
    connectGuard(identity, socket, req) {
      initialised(req.socket);
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
