import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { privateDaemon } from '../support/private-daemon.ts';
import { fixtureUri } from '../support/test-host.ts';

interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Runs a script of test/child in its own node process; kills it if it has not exited in time. */
function runChild(script: string, args: string[] = [], limitMs = 30_000): Promise<Exit> {
  const file = fileURLToPath(new URL(`../child/${script}`, import.meta.url));
  const child = spawn(process.execPath, ['--import', 'tsx', file, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (b: Buffer) => {
    stdout += b.toString();
  });
  child.stderr.on('data', (b: Buffer) => {
    stderr += b.toString();
  });
  const killer = setTimeout(() => child.kill('SIGKILL'), limitMs);
  return new Promise((resolve) => {
    child.on('close', (code, signal) => {
      clearTimeout(killer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

describe('The binding in a whole process', () => {
  it('delivers every event with no timer running, then lets the process exit by itself after close', async () => {
    const exit = await runChild('events-without-timers.ts');
    expect(exit.stderr).toBe('');
    expect(exit).toMatchObject({ code: 0, signal: null });
    const report = JSON.parse(exit.stdout) as { seen: string[]; timersWhileWaiting: string[] };
    expect(report.timersWhileWaiting).toEqual([]);
    expect(report.seen).toEqual([
      'SUSPENDED/PAUSED',
      'RESUMED/UNPAUSED',
      'STOPPED/DESTROYED',
      'STARTED/BOOTED',
      'DEFINED/ADDED',
      'UNDEFINED/REMOVED',
    ]);
  });

  it('exits cleanly through process.exit() with connections open and events in flight', async () => {
    const uris = ['test:///default', fixtureUri];
    const daemon = privateDaemon();
    if (daemon) uris.push(daemon.uri, daemon.testUri);
    for (let round = 0; round < 5; round++) {
      const exit = await runChild('exit-with-open-connections.ts', uris);
      expect(exit.stderr).toBe('');
      expect(exit).toMatchObject({ code: 0, signal: null });
    }
  });
});
