import { randomBytes } from 'node:crypto';
import { connect, isIP, type Socket } from 'node:net';
import type { Logger } from 'pino';
import type { ObjectLocks } from '../hosts/object-locks.ts';
import { withTimeout } from '../hosts/with-timeout.ts';
import { type Domain, LibvirtError } from '../libvirt/index.ts';
import { type DomainGraphics, graphicsPasswordXml, parseDomainXml } from '../libvirt/xml/index.ts';
import { authenticateToDisplay, ByteQueue } from './rfb-handshake.ts';

/** How the gateway reaches the displays of a host it speaks to over the network. */
export interface DisplayRoute {
  /** The host name (or address) of the host's libvirt URI. */
  uriHost: string;
  /** Where its displays are reached instead of their listen address (NAT, multi-homed hosts). */
  graphicsAddress?: string;
}

/**
 * How a host's displays are reached: undefined for a URI without a host (the local UNIX socket,
 * where libvirt hands the display over), else the URI's host and the operator's override.
 */
export function displayRouteOf(uri: string, consoles?: { graphicsAddress?: string }): DisplayRoute | undefined {
  let uriHost: string;
  try {
    uriHost = new URL(uri).hostname;
  } catch {
    return undefined;
  }
  if (uriHost === '') return undefined;
  return consoles?.graphicsAddress === undefined ? { uriHost } : { uriHost, graphicsAddress: consoles.graphicsAddress };
}

/** The display cannot be reached or opened; the message names what and where, and never a password. */
export class DisplayUnavailableError extends Error {
  override readonly name = 'DisplayUnavailableError';
}

/** How long a one-time password stays valid should the gateway die before resetting it (clock skew included). */
export const ONE_TIME_PASSWORD_SECONDS = 120;

const stripBrackets = (host: string) => host.replace(/^\[(.*)\]$/, '$1');

const isWildcard = (address: string) => ['0.0.0.0', '::', '[::]', ''].includes(address);

function isLoopback(host: string): boolean {
  const h = stripBrackets(host).toLowerCase();
  return h === 'localhost' || h === '::1' || (isIP(h) === 4 && h.startsWith('127.'));
}

/** `host:port`, with brackets around an IPv6 address. */
export function formatAddress(host: string, port: number): string {
  const h = stripBrackets(host);
  return `${isIP(h) === 6 ? `[${h}]` : h}:${port}`;
}

/**
 * Where the gateway connects for a VNC display of a remote host: the port of the live
 * definition at the operator's graphicsAddress, else at the listen address, a wildcard standing
 * for the URI's host. A display on the remote host's loopback (QEMU's default vnc_listen) or on
 * a UNIX socket cannot be reached from here: that is an error saying so, not a connection to the
 * gateway's own loopback.
 */
export function displayAddress(graphics: DomainGraphics, route: DisplayRoute): { host: string; port: number } {
  if (graphics.type !== 'vnc') throw new DisplayUnavailableError(`the graphics device is ${graphics.type}, not VNC`);
  if (graphics.socket !== undefined || graphics.listenType === 'socket' || graphics.listenType === 'none') {
    throw new DisplayUnavailableError(
      `the display listens on no TCP address (listen type ${graphics.listenType ?? 'socket'}): give it <listen type='address'>`,
    );
  }
  const port = graphics.port;
  if (port === undefined || port <= 0) throw new DisplayUnavailableError('the display has no TCP port yet');
  if (route.graphicsAddress !== undefined) return { host: stripBrackets(route.graphicsAddress), port };
  const listen = graphics.listen;
  if (listen === undefined || isWildcard(listen)) return { host: stripBrackets(route.uriHost), port };
  if (isLoopback(listen) && !isLoopback(route.uriHost)) {
    throw new DisplayUnavailableError(
      `the display listens on ${formatAddress(listen, port)}, unreachable loopback of ${route.uriHost}: change its listen address or set consoles.graphicsAddress`,
    );
  }
  return { host: stripBrackets(listen), port };
}

/** 8 random characters: VNC uses the first 8 bytes of a password, and QMP takes these as they are. */
function randomPassword(): string {
  return randomBytes(6).toString('base64url');
}

/** Connects within `ms`, or rejects naming the address (a firewall that drops packets makes a connect hang). */
function connectWithin(host: string, port: number, ms: number): Promise<Socket> {
  const where = formatAddress(host, port);
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new DisplayUnavailableError(`cannot reach the display at ${where} within ${ms} ms`));
    }, ms);
    const failed = (e: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      reject(new DisplayUnavailableError(`cannot reach the display at ${where}: ${e.code ?? e.message}`));
    };
    socket.once('error', failed);
    socket.once('connect', () => {
      clearTimeout(timer);
      socket.off('error', failed);
      socket.setNoDelay(true);
      resolve(socket);
    });
  });
}

/**
 * Sets the live display's password (virDomainUpdateDeviceFlags, AFFECT_LIVE). libvirt's
 * messages may quote the device XML, password included: the error keeps only its first line,
 * with the password cut out.
 */
async function setDisplayPassword(
  domain: Domain,
  liveXml: string,
  index: number,
  password: string,
  validTo: Date,
): Promise<void> {
  try {
    await domain.updateDevice(graphicsPasswordXml(liveXml, index, password, validTo), 'live');
  } catch (e) {
    const message = (e instanceof Error ? e.message : String(e)).split('\n')[0]?.replaceAll(password, '***') ?? '';
    if (/set_password|expire_password/.test(message)) {
      // QEMU takes a password only on a display started with password auth (README, Consoles).
      throw new DisplayUnavailableError(
        'the display has no VNC password authentication: give its <graphics> a passwd (an expired one will do)',
      );
    }
    if (e instanceof LibvirtError) throw new LibvirtError(message, e.code, e.domain, e.level);
    throw new DisplayUnavailableError(message);
  }
}

export interface OpenRemoteDisplayOptions {
  domain: Domain;
  /** The graphics device's index among the domain's graphics devices. */
  index: number;
  route: DisplayRoute;
  locks: ObjectLocks;
  /** The lock's key: one per domain, so two consoles never change one display's password at once. */
  lockKey: string;
  /** Bound on the TCP connect, and again on the RFB exchange with the display. */
  timeoutMs: number;
  logger?: Logger | undefined;
}

/**
 * A TCP connection to a remote host's VNC display, authenticated as oVirt does it: a one-time
 * password is set on the running display, the gateway answers the display's VNC challenge with
 * it, and the display is then given a fresh password that has already expired, so the one used
 * opens nothing more (QEMU checks the password at authentication only: the session goes on).
 * The socket is at the point of the RFB handshake where ClientInit comes next.
 */
export async function openRemoteDisplay(options: OpenRemoteDisplayOptions): Promise<Socket> {
  const { domain, index, timeoutMs } = options;
  return options.locks.run(options.lockKey, async () => {
    const live = await domain.xml();
    const graphics = parseDomainXml(live).graphics[index];
    if (graphics === undefined) throw new DisplayUnavailableError(`the domain has no graphics device ${index}`);
    const { host, port } = displayAddress(graphics, options.route);
    const password = randomPassword();
    let socket: Socket | undefined;
    try {
      await setDisplayPassword(domain, live, index, password, new Date(Date.now() + ONE_TIME_PASSWORD_SECONDS * 1000));
      const connected = await connectWithin(host, port, timeoutMs);
      socket = connected;
      const queue = new ByteQueue();
      const onData = (data: Buffer) => queue.push(data);
      const onEnd = () => queue.fail(new DisplayUnavailableError('the display closed the connection'));
      connected.on('data', onData);
      connected.once('close', onEnd);
      connected.once('error', onEnd);
      try {
        await withTimeout(
          authenticateToDisplay(queue, (data) => connected.write(data), password),
          timeoutMs,
          () =>
            new DisplayUnavailableError(
              `the display at ${formatAddress(host, port)} did not answer within ${timeoutMs} ms`,
            ),
        );
      } finally {
        connected.off('data', onData);
        connected.off('close', onEnd);
        connected.off('error', onEnd);
      }
      connected.pause();
      // While the password is reset, nobody else listens: a peer's reset must not become an uncaught 'error'.
      connected.on('error', () => undefined);
      // The server says nothing between SecurityResult and ClientInit; anything here is a broken peer.
      if (queue.drain().length > 0) throw new DisplayUnavailableError('the display sent data before ClientInit');
      return connected;
    } catch (e) {
      socket?.destroy();
      throw e;
    } finally {
      await setDisplayPassword(domain, live, index, randomPassword(), new Date(1000)).catch((e: unknown) =>
        options.logger?.warn(
          { err: e instanceof Error ? e.message : String(e), domain: domain.name },
          'the display keeps its one-time password until it expires',
        ),
      );
    }
  });
}
