import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import { type WebSocket, WebSocketServer } from 'ws';
import type { AuditLog } from '../audit/audit-log.ts';
import type { AuthService } from '../auth/auth-service.ts';
import { AuthError } from '../auth/authenticator.ts';
import { credentialsOf } from '../auth/credentials.ts';
import { Identity } from '../auth/identity.ts';
import type { ConsolesConfig } from '../config/security-schema.ts';
import { CloseCode, type ConnectGuard } from '../events/graphql-ws-server.ts';
import { createLocalLocks, type ObjectLocks } from '../hosts/object-locks.ts';
import { withTimeout } from '../hosts/with-timeout.ts';
import { ConsoleStream, type Domain, LibvirtError, openGraphicsSocket } from '../libvirt/index.ts';
import type { HostSource } from '../schema/core/context.ts';
import type { ConsoleGrant, TicketStore } from './console-tickets.ts';
import { type DisplayRoute, openRemoteDisplay } from './remote-display.ts';
import { ByteQueue, offerNoAuth } from './rfb-handshake.ts';

/** Where consoles are served, on the GraphQL port. */
export const CONSOLE_PATH = '/console';

/**
 * Close codes of a console WebSocket (4xxx: the application's range), with a reason that
 * starts with the code's name.
 */
export const ConsoleCloseCode = {
  /** The client closed, or the gateway is shutting down (1001). */
  Normal: 1000,
  GoingAway: 1001,
  /** A message larger than consoles.maxMessageBytes (ws closes with it). */
  TooBig: 1009,
  /** The console cannot be opened: the domain is not running, has no such device or display, or a remote display cannot be reached or authenticated. */
  Unavailable: 4404,
  /** Someone already holds this serial console (another client of this gateway, or virsh console). */
  Busy: 4409,
  /** The console ended: the domain stopped, or the device went away. */
  Ended: 4410,
  /** The stream failed (libvirt's message in the reason). */
  Failed: 4500,
} as const;

/** A ticket taken, and how to follow the credentials the WebSocket presented (when it did). */
interface Admitted {
  grant: ConsoleGrant;
  track?: (end: (error: AuthError) => void) => () => void;
}

/** An HTTP refusal before the handshake, with the gateway's error code. */
interface Refusal {
  status: number;
  code: string;
  message: string;
}

export interface ConsoleServerOptions {
  tickets: TicketStore;
  hosts: HostSource;
  audit: AuditLog;
  config: ConsolesConfig;
  /** Checks credentials a WebSocket presents besides its ticket. @default none: the ticket alone counts */
  auth?: AuthService;
  /** Run once the ticket's identity is known (the per-identity WebSocket cap). */
  connectGuards?: ConnectGuard[];
  /**
   * How a host's VNC displays are reached over the network; undefined for a host on the local
   * UNIX socket, whose displays libvirt hands over (virDomainOpenGraphicsFD). @default every host local
   */
  displayRoute?: (host: string) => DisplayRoute | undefined;
  /** Serialise the one-time passwords set on one domain's display. @default this process's */
  locks?: ObjectLocks;
  logger?: Logger;
}

/** How long a client has to finish its side of the RFB handshake with the gateway. */
const CLIENT_HANDSHAKE_MS = 30_000;

export interface ConsoleServer {
  /** Takes an upgrade request for CONSOLE_PATH (after the origin and connection-cap guards). */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void;
  /** Console WebSockets open now. */
  openSockets(): number;
  /** The consoles open now. */
  sessions(): ConsoleSession[];
  /** Closes every console (1001) and the ticket store. */
  close(): Promise<void>;
}

function refuse(socket: Duplex, { status, code, message }: Refusal): void {
  const body = JSON.stringify({ errors: [{ message, extensions: { code } }] });
  const text = status === 401 ? 'Unauthorized' : status === 403 ? 'Forbidden' : 'Error';
  socket.end(
    `HTTP/1.1 ${status} ${text}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}

/** What the client sends, from the handshake on: held until the console is open, then handed over in order. */
interface Input {
  attach(handler: (data: Buffer) => void): void;
}

/**
 * Listens from the start: a client may send before libvirt has opened the console (an xterm.js
 * user types at once), and ws drops messages nobody listens to. Past `limit` held bytes the
 * socket stops being read until the console is open.
 */
function holdInput(ws: WebSocket, limit: number): Input {
  const held: Buffer[] = [];
  let bytes = 0;
  let handler: ((data: Buffer) => void) | undefined;
  ws.on('message', (data: Buffer) => {
    if (handler) return handler(data);
    held.push(data);
    bytes += data.length;
    if (bytes > limit) ws.pause();
  });
  return {
    attach(next) {
      handler = next;
      for (const data of held.splice(0)) next(data);
      if (bytes > limit) ws.resume();
    },
  };
}

/** The WebSocket close reason: at most 123 bytes by the protocol. */
function reason(name: string, detail: string): string {
  const text = `${name}: ${detail}`;
  return Buffer.byteLength(text) <= 123 ? text : `${Buffer.from(text).subarray(0, 120).toString()}…`;
}

/** One open console, as the gateway sees it. */
export interface ConsoleSession {
  kind: ConsoleGrant['kind'];
  host: string;
  domain: string;
  identity: string;
  bytesToClient: number;
  bytesFromClient: number;
  /** Whether the gateway stopped reading the console because the client has too much queued. */
  readingPaused: boolean;
  /** Bytes queued for the client (ws bufferedAmount). */
  bufferedToClient: number;
}

type Bridge = ConsoleSession;

/**
 * The console endpoint: a WebSocket at /console?ticket=… that openConsole issued. The ticket
 * is taken (single use) before the handshake, so a bad one gets an HTTP 401 and no socket.
 * Then libvirt's console or display is opened and bytes flow both ways as binary frames:
 * raw RFB for VNC (subprotocol `binary`, as websockify, so noVNC connects unchanged; a remote
 * host's display is reached over TCP and authenticated by the gateway, see remote-display.ts), raw
 * bytes for serial (xterm.js' attach addon). Each side stops reading while the other has
 * consoles.maxBufferedBytes queued.
 */
export function createConsoleServer(options: ConsoleServerOptions): ConsoleServer {
  const { config } = options;
  const wss = new WebSocketServer({
    noServer: true,
    maxPayload: config.maxMessageBytes,
    // websockify's protocol name; a client that offers none gets none.
    handleProtocols: (offered) => (offered.has('binary') ? 'binary' : false),
  });
  const log = options.logger?.child({ component: 'console' });
  const locks = options.locks ?? createLocalLocks();
  /** host/uuid/device of each serial console open here: a second client is refused before libvirt is asked. */
  const serialInUse = new Set<string>();
  const sessions = new Map<WebSocket, Bridge>();

  /**
   * Checks credentials the WebSocket presents besides the ticket: they must be the ticket
   * owner's, and the console then ends when they are revoked (as a GraphQL socket's session does).
   */
  async function identityOf(req: IncomingMessage, grant: ConsoleGrant): Promise<Refusal | Admitted> {
    const credentials = credentialsOf(req.headers.authorization, req);
    const presented = credentials.authorization !== null || credentials.certificate !== undefined;
    const auth = options.auth;
    if (!presented || !auth?.enabled) return { grant };
    let identity: Identity;
    try {
      identity = await auth.authenticate(credentials);
    } catch (e) {
      if (!(e instanceof AuthError)) throw e;
      return { status: 401, code: e.code, message: e.message };
    }
    if (identity.key !== grant.identityKey) {
      return { status: 403, code: 'FORBIDDEN', message: 'this console ticket was issued to another identity' };
    }
    return { grant, track: (end) => auth.track(credentials, identity, end) };
  }

  async function admit(req: IncomingMessage): Promise<Admitted | Refusal> {
    const ticket = new URL(req.url ?? '/', 'http://virtql').searchParams.get('ticket');
    if (!ticket) return { status: 401, code: 'UNAUTHENTICATED', message: 'a console needs ?ticket= from openConsole' };
    const grant = await options.tickets.take(ticket);
    if (!grant) {
      return {
        status: 401,
        code: 'UNAUTHENTICATED',
        message: 'the console ticket is unknown, expired or already used',
      };
    }
    return identityOf(req, grant);
  }

  function audit(grant: ConsoleGrant, operation: string, result: string, durationMs: number, extra = {}) {
    void options.audit.write({
      time: new Date(Date.now() - durationMs).toISOString(),
      identity: { name: grant.identityName, kind: grant.identityKind },
      source: grant.source,
      host: grant.host,
      operation,
      arguments: { domain: grant.domainName, kind: grant.kind, device: grant.device, ...extra },
      result,
      durationMs,
    });
  }

  async function domainOf(grant: ConsoleGrant): Promise<Domain> {
    const connection = await options.hosts.connection(grant.host);
    return connection.domainByUuid(grant.domainUuid);
  }

  /** Sends to the client in frames of at most maxMessageBytes, pausing `source` while too much is queued. */
  function sender(ws: WebSocket, bridge: Bridge, source: { pause(): unknown; resume(): unknown }) {
    const limit = config.maxBufferedBytes;
    const drained = () => {
      if (bridge.readingPaused && ws.bufferedAmount <= limit / 2) {
        bridge.readingPaused = false;
        source.resume();
      }
    };
    return (data: Buffer) => {
      if (ws.readyState !== ws.OPEN) return;
      for (let at = 0; at < data.length; at += config.maxMessageBytes) {
        const frame = data.subarray(at, at + config.maxMessageBytes);
        bridge.bytesToClient += frame.length;
        ws.send(frame, { binary: true }, drained);
      }
      if (!bridge.readingPaused && ws.bufferedAmount > limit) {
        bridge.readingPaused = true;
        source.pause();
      }
    };
  }

  async function serveSerial(ws: WebSocket, grant: ConsoleGrant, bridge: Bridge, input: Input): Promise<string> {
    const key = `${grant.host}/${grant.domainUuid}/${grant.device ?? ''}`;
    if (serialInUse.has(key)) {
      ws.close(ConsoleCloseCode.Busy, reason('CONSOLE_BUSY', 'another client holds this serial console'));
      return 'CONSOLE_BUSY';
    }
    serialInUse.add(key);
    ws.once('close', () => serialInUse.delete(key));
    let stream: ConsoleStream | undefined;
    let send: (data: Buffer) => void = () => undefined;
    const flow = { pause: () => void stream?.pause(), resume: () => void stream?.resume() };
    send = sender(ws, bridge, flow);
    try {
      stream = await ConsoleStream.open(
        await domainOf(grant),
        {
          onData: (data) => send(data),
          onEnd: () => ws.close(ConsoleCloseCode.Ended, reason('CONSOLE_ENDED', 'the domain stopped')),
          onError: (e) =>
            ws.close(ConsoleCloseCode.Failed, reason('CONSOLE_FAILED', e instanceof Error ? e.message : String(e))),
        },
        { ...(grant.device ? { device: grant.device } : {}), inflightCap: config.maxBufferedBytes / 4 },
      );
    } catch (e) {
      const busy = e instanceof LibvirtError && e.codeName === 'OPERATION_FAILED';
      const message = e instanceof Error ? e.message : String(e);
      const name = busy ? 'CONSOLE_BUSY' : 'CONSOLE_UNAVAILABLE';
      ws.close(busy ? ConsoleCloseCode.Busy : ConsoleCloseCode.Unavailable, reason(name, message));
      return name;
    }
    const opened = stream;
    if (ws.readyState !== ws.OPEN) {
      await opened.close();
      return 'CLIENT_GONE';
    }
    ws.once('close', () => {
      void opened.close().catch((e: unknown) => log?.warn({ err: e }, 'closing a serial console failed'));
    });
    let inputPaused = false;
    input.attach((data: Buffer) => {
      bridge.bytesFromClient += data.length;
      opened.write(data).then(
        () => {
          if (inputPaused && opened.pendingWrite <= config.maxBufferedBytes / 2) {
            inputPaused = false;
            ws.resume();
          }
        },
        () => undefined,
      );
      if (!inputPaused && opened.pendingWrite > config.maxBufferedBytes) {
        inputPaused = true;
        ws.pause();
      }
    });
    return 'ok';
  }

  /** The display: handed over by libvirt on a local host, over TCP with a one-time VNC password on a remote one. */
  function openDisplay(grant: ConsoleGrant, route: DisplayRoute | undefined): Promise<Socket> {
    const index = grant.device ? Number(grant.device) : 0;
    return domainOf(grant).then((domain) =>
      route === undefined
        ? openGraphicsSocket(domain, index)
        : openRemoteDisplay({
            domain,
            index,
            route,
            locks,
            lockKey: `display:${grant.host}:${grant.domainUuid}`,
            timeoutMs: config.connectTimeoutMs,
            logger: log,
          }),
    );
  }

  /**
   * The client's side of the RFB handshake, when the gateway authenticated to the display itself:
   * the client is offered None, then what it sends from ClientInit on goes to the display.
   */
  async function greetClient(ws: WebSocket, bridge: Bridge, input: Input, display: Socket): Promise<void> {
    const queue = new ByteQueue(config.maxBufferedBytes);
    input.attach((data) => {
      bridge.bytesFromClient += data.length;
      queue.push(data);
    });
    const gone = () => queue.fail(new Error('the client closed'));
    ws.once('close', gone);
    try {
      await withTimeout(
        offerNoAuth(queue, (data) => ws.send(data, { binary: true })),
        CLIENT_HANDSHAKE_MS,
        () => new Error(`the client did not finish the RFB handshake within ${CLIENT_HANDSHAKE_MS / 1000} s`),
      );
    } finally {
      ws.off('close', gone);
    }
    const rest = queue.drain();
    if (rest.length > 0) display.write(rest);
  }

  async function serveVnc(ws: WebSocket, grant: ConsoleGrant, bridge: Bridge, input: Input): Promise<string> {
    const route = options.displayRoute?.(grant.host);
    let display: Socket;
    try {
      display = await openDisplay(grant, route);
    } catch (e) {
      ws.close(ConsoleCloseCode.Unavailable, reason('CONSOLE_UNAVAILABLE', e instanceof Error ? e.message : String(e)));
      return 'CONSOLE_UNAVAILABLE';
    }
    if (ws.readyState !== ws.OPEN) {
      display.destroy();
      return 'CLIENT_GONE';
    }
    ws.once('close', () => display.destroy());
    display.on('error', () => undefined);
    display.on('close', () => ws.close(ConsoleCloseCode.Ended, reason('CONSOLE_ENDED', 'the display closed')));
    if (route !== undefined) {
      try {
        await greetClient(ws, bridge, input, display);
      } catch (e) {
        ws.close(ConsoleCloseCode.Failed, reason('CONSOLE_FAILED', e instanceof Error ? e.message : String(e)));
        return 'CONSOLE_FAILED';
      }
      if (ws.readyState !== ws.OPEN) return 'CLIENT_GONE';
    }
    const send = sender(ws, bridge, display);
    display.on('data', send);
    // The remote display was paused after its handshake; a handler alone does not restart it.
    if (route !== undefined) display.resume();
    display.on('drain', () => ws.resume());
    input.attach((data: Buffer) => {
      bridge.bytesFromClient += data.length;
      if (!display.write(data)) ws.pause();
    });
    return 'ok';
  }

  function serve(ws: WebSocket, { grant, track }: Admitted): void {
    const started = Date.now();
    const bridge: Bridge = {
      kind: grant.kind,
      host: grant.host,
      domain: grant.domainName,
      identity: grant.identityName,
      bytesToClient: 0,
      bytesFromClient: 0,
      readingPaused: false,
      bufferedToClient: 0,
    };
    sessions.set(ws, bridge);
    // The console lives no longer than the credentials behind it: a JWT's expiry, a revocation.
    const untrack = track?.((e) => ws.close(CloseCode.Forbidden, reason(e.code, e.message)));
    const expiry =
      grant.identityExpiresAt === undefined
        ? undefined
        : setTimeout(
            () => ws.close(CloseCode.Unauthorized, reason('TOKEN_EXPIRED', 'the token behind the ticket expired')),
            Math.max(0, Math.min(grant.identityExpiresAt - Date.now(), 2 ** 31 - 1)),
          );
    expiry?.unref();
    ws.once('close', (code: number, why: Buffer) => {
      untrack?.();
      clearTimeout(expiry);
      sessions.delete(ws);
      audit(grant, 'console.close', 'ok', Date.now() - started, {
        bytesToClient: bridge.bytesToClient,
        bytesFromClient: bridge.bytesFromClient,
        closeCode: code,
        closeReason: why.toString(),
      });
    });
    const input = holdInput(ws, config.maxBufferedBytes);
    const served = grant.kind === 'SERIAL' ? serveSerial(ws, grant, bridge, input) : serveVnc(ws, grant, bridge, input);
    served
      .then((result) => audit(grant, 'console.open', result, Date.now() - started))
      .catch((e: unknown) => {
        log?.error({ err: e }, 'console failed');
        ws.close(ConsoleCloseCode.Failed, reason('CONSOLE_FAILED', 'internal error'));
      });
  }

  return {
    handleUpgrade(req, socket, head) {
      admit(req).then(
        (result) => {
          if ('status' in result) return refuse(socket, result);
          const { grant } = result;
          wss.handleUpgrade(req, socket, head, (ws) => {
            for (const guard of options.connectGuards ?? []) {
              const identity = new Identity(grant.identityName, grant.identityKind, [], []);
              const refusal = guard(identity, ws, req);
              if (refusal) {
                ws.close(refusal.code, refusal.reason.slice(0, 120));
                return;
              }
            }
            serve(ws, result);
          });
        },
        (e: unknown) => {
          log?.error({ err: e }, 'console upgrade failed');
          refuse(socket, { status: 503, code: 'UNAVAILABLE', message: 'console tickets cannot be checked now' });
        },
      );
    },
    openSockets: () => wss.clients.size,
    sessions: () => [...sessions].map(([ws, s]) => ({ ...s, bufferedToClient: ws.bufferedAmount })),
    async close() {
      const closed = [...wss.clients].map(
        (ws) =>
          new Promise<void>((resolve) => {
            ws.once('close', () => resolve());
            ws.close(ConsoleCloseCode.GoingAway, 'the gateway is shutting down');
            setTimeout(() => {
              ws.terminate();
              resolve();
            }, 2_000).unref();
          }),
      );
      await Promise.all(closed);
      await options.tickets.close();
    },
  };
}
