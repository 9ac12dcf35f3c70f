import { type ChildProcess, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { deferred } from './test-host.ts';

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      probe.close(() =>
        typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port')),
      );
    });
  });
}

/** A redis-server of this file's own on a free port of 127.0.0.1, without persistence; stopped by its pid. */
export async function startRedis(): Promise<{ url: string; process: ChildProcess } | { unavailable: string }> {
  const port = await freePort();
  const child = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--daemonize', 'no'],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const ready = deferred<string | undefined>();
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    output += chunk.toString();
    if (output.includes('Ready to accept connections')) ready.resolve(undefined);
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  child.once('error', (error) =>
    ready.resolve(`cannot run redis-server (${error.message}); scripts/setup.sh installs it`),
  );
  child.once('exit', (code) => ready.resolve(`redis-server exited (${code}): ${output.trim().split('\n').at(-1)}`));
  const unavailable = await ready.promise;
  return unavailable === undefined ? { url: `redis://127.0.0.1:${port}`, process: child } : { unavailable };
}

export async function stopRedis(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  if (child.pid !== undefined) process.kill(child.pid, 'SIGTERM');
  await exited;
}
