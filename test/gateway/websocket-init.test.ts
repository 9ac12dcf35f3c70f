import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { type GraphQLWsServer, serveGraphQLWs } from '../../src/events/graphql-ws-server.ts';
import { createWebSocketLimits, type WebSocketLimitsConfig } from '../../src/limits/websocket-limits.ts';
import { wsClient } from '../events/event-clients.ts';
import { startGateway, type TestGateway } from '../support/gateway.ts';
import { deferred, fixtureUri } from '../support/test-host.ts';

// Sockets that never send connection_init (or never finish a console's ticket check) have a
// small cap of their own and a short deadline, so they cannot take the places of clients that
// authenticate; and once sockets have closed, the limits hold nothing of them.

interface Served {
  gw: TestGateway;
  ws: GraphQLWsServer;
  server: Server;
  url: string;
  limits: ReturnType<typeof createWebSocketLimits>;
  /** Resolves once `n` upgraded sockets have closed on the server's side. */
  serverClosed(n: number): Promise<void>;
}

const running: Served[] = [];
afterEach(async () => {
  for (const s of running.splice(0)) {
    await s.ws.close(500);
    await new Promise((resolve) => s.server.close(resolve));
    await s.gw.close();
  }
});

async function serve(config: Partial<WebSocketLimitsConfig>): Promise<Served> {
  const gw = await startGateway({ fixture: fixtureUri });
  const limits = createWebSocketLimits({
    webSockets: 10,
    webSocketsPerIdentity: 1_000,
    webSocketsAwaitingInit: 5,
    webSocketInitSeconds: 30,
    ...config,
  });
  let closed = 0;
  const waiters: Array<{ n: number; resolve: () => void }> = [];
  const counting = (req: IncomingMessage) => {
    const refusal = limits.upgradeGuard(req);
    if (!refusal)
      req.socket.once('close', () => {
        closed += 1;
        for (const w of waiters.filter((w) => closed >= w.n)) w.resolve();
      });
    return refusal;
  };
  const server = createServer(gw.app.yoga);
  const ws = serveGraphQLWs(server, gw.app.yoga, {
    upgradeGuards: [counting],
    connectGuards: [limits.connectGuard],
    connectionInitWaitTimeout: config.webSocketInitSeconds ? config.webSocketInitSeconds * 1000 : 30_000,
    // A console whose ticket check ends in a refusal, a moment later (as the ticket store answers).
    routes: {
      '/console': (_req, socket) => {
        setImmediate(() => socket.end('HTTP/1.1 401 Unauthorized\r\nConnection: close\r\n\r\n'));
      },
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const served: Served = {
    gw,
    ws,
    server,
    url: `ws://127.0.0.1:${port}`,
    limits,
    serverClosed: (n) => {
      const done = deferred<void>();
      if (closed >= n) done.resolve();
      else waiters.push({ n, resolve: () => done.resolve() });
      return done.promise;
    },
  };
  running.push(served);
  return served;
}

/** A socket that upgrades and then says nothing; resolves once open (or refused: its status). */
function idleSocket(url: string, path = '/graphql') {
  const socket = new WebSocket(`${url}${path}`, 'graphql-transport-ws');
  const closed = deferred<number>();
  socket.on('close', (code) => closed.resolve(code));
  socket.on('error', () => undefined);
  const opened = new Promise<number | 'open'>((resolve) => {
    socket.once('open', () => resolve('open'));
    socket.once('unexpected-response', (_req, res) => {
      resolve(res.statusCode ?? 0);
      closed.resolve(res.statusCode ?? 0);
    });
    socket.once('error', () => resolve(0));
  });
  return { socket, opened, closed: closed.promise };
}

async function authenticatedQuery(url: string) {
  const client = wsClient(`${url}/graphql`);
  try {
    return await new Promise<unknown>((resolve, reject) => {
      client.subscribe({ query: '{ hosts { name } }' }, { next: resolve, error: reject, complete: () => undefined });
    });
  } finally {
    await client.dispose();
  }
}

describe('WebSockets that have not finished connection_init', () => {
  it('take at most webSocketsAwaitingInit places (the oldest closes), so a client that authenticates still gets in', async () => {
    const s = await serve({ webSockets: 10, webSocketsAwaitingInit: 5 });
    const idle = [];
    for (let i = 0; i < 20; i++) {
      const socket = idleSocket(s.url);
      expect(await socket.opened).toBe('open');
      idle.push(socket);
      expect(s.limits.held().awaitingInit).toBeLessThanOrEqual(5);
    }
    // The 15 oldest were closed to make room; the 5 newest wait.
    await Promise.all(idle.slice(0, 15).map((i) => i.closed));
    expect(await authenticatedQuery(s.url)).toEqual({
      extensions: { cost: expect.any(Object) },
      data: { hosts: [{ name: 'fixture' }] },
    });
    for (const i of idle) i.socket.close();
  });

  it('are closed once webSocketInitSeconds have passed without connection_init', async () => {
    const s = await serve({ webSocketInitSeconds: 0.2 });
    const started = performance.now();
    const socket = idleSocket(s.url);
    expect(await socket.opened).toBe('open');
    await socket.closed;
    const ms = performance.now() - started;
    console.info(`idle socket closed after ${ms.toFixed(0)} ms (deadline 200 ms)`);
    expect(ms).toBeLessThan(5_000);
    await s.serverClosed(1);
    expect(s.limits.held()).toEqual({ open: 0, awaitingInit: 0, identities: 0 });
  });

  it('leave nothing behind: after idle, authenticated and console sockets open and close, the limits hold nothing', async () => {
    const s = await serve({ webSockets: 200, webSocketsAwaitingInit: 100 });
    const idle = Array.from({ length: 60 }, () => idleSocket(s.url));
    expect(new Set(await Promise.all(idle.map((i) => i.opened)))).toEqual(new Set(['open']));
    const consoles = Array.from({ length: 20 }, () => idleSocket(s.url, '/console'));
    expect(new Set(await Promise.all(consoles.map((c) => c.opened)))).toEqual(new Set([401]));
    const queries = await Promise.all(Array.from({ length: 20 }, () => authenticatedQuery(s.url)));
    expect(queries).toHaveLength(20);
    await s.serverClosed(40);
    expect(s.limits.held()).toEqual({ open: 60, awaitingInit: 60, identities: 0 });
    for (const i of idle) i.socket.close();
    await s.serverClosed(100);
    expect(s.limits.held()).toEqual({ open: 0, awaitingInit: 0, identities: 0 });
    expect(s.ws.openSockets()).toBe(0);
  });
});
