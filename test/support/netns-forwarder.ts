import { spawn } from 'node:child_process';
import { createServer, type Server, type Socket } from 'node:net';
import { deferred } from './test-host.ts';

/** Connects stdin/stdout to 127.0.0.1:PORT of the network namespace it runs in. */
const CONNECTOR = `const s = require('node:net').connect(Number(process.argv[1]), '127.0.0.1');
s.on('error', () => process.exit(1));
process.stdin.pipe(s).pipe(process.stdout);
s.on('close', () => process.exit(0));`;

export interface NetnsForwarder {
  /** 127.0.0.1:port in this process's network namespace. */
  port: number;
  close(): Promise<void>;
}

export interface ForwarderOptions {
  /** Runs for each connection before it is forwarded (the connection waits for it). */
  beforeConnect?: () => Promise<void>;
}

/**
 * A TCP port on this namespace's 127.0.0.1 that reaches `targetPort` on the loopback of the
 * network namespace of `netnsPid` (a private libvirtd's TCP listener): each connection gets a
 * node process of its own run by nsenter inside that namespace, ended by pid with the connection.
 * Without `targetPort`, the port it reaches is the port it listens on, so an address the daemon
 * reports for its namespace (a VNC display's port) is good in this one too.
 */
export async function forwardIntoNetns(
  netnsPid: number,
  targetPort?: number,
  options: ForwarderOptions = {},
): Promise<NetnsForwarder> {
  const sockets = new Set<Socket>();
  const exits = new Set<Promise<unknown>>();
  let target = targetPort ?? 0;
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => undefined);
    socket.once('close', () => sockets.delete(socket));
    const ready = options.beforeConnect?.() ?? Promise.resolve();
    void ready.then(
      () => forward(socket),
      () => socket.destroy(),
    );
  });
  const forward = (socket: Socket) => {
    if (socket.destroyed) return;
    const child = spawn(
      'nsenter',
      [`--net=/proc/${netnsPid}/ns/net`, process.execPath, '-e', CONNECTOR, String(target)],
      { stdio: ['pipe', 'pipe', 'ignore'] },
    );
    const exited = new Promise((resolve) => child.once('exit', resolve));
    exits.add(exited);
    void exited.then(() => exits.delete(exited));
    socket.pipe(child.stdin);
    child.stdout.pipe(socket);
    child.stdin.on('error', () => undefined);
    const end = () => {
      if (child.exitCode === null && child.signalCode === null && child.pid !== undefined) {
        process.kill(child.pid, 'SIGTERM');
      }
    };
    socket.once('close', end);
    child.once('exit', () => socket.end());
  };
  const listening = deferred<void>();
  server.once('error', listening.reject);
  server.listen(0, '127.0.0.1', () => listening.resolve());
  await listening.promise;
  const address = server.address();
  if (address === null || typeof address !== 'object') throw new Error('the forwarder has no port');
  if (targetPort === undefined) target = address.port;
  return {
    port: address.port,
    close: async () => {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const socket of sockets) socket.destroy();
      await closed;
      await Promise.all([...exits]);
    },
  };
}
