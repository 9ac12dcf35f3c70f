import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
export const builtEntry = join(repoRoot, 'dist', 'index.js');

function newestTs(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestTs(path));
    else if (entry.name.endsWith('.ts')) newest = Math.max(newest, statSync(path).mtimeMs);
  }
  return newest;
}

/** Why `node dist/index.js` cannot stand for the sources now (`npm test` builds it first), or undefined. */
export function builtEntrySkipReason(): string | undefined {
  if (!existsSync(builtEntry)) return 'dist/index.js is missing: npm run build:ts (npm test builds it)';
  if (newestTs(join(repoRoot, 'src')) > statSync(builtEntry).mtimeMs) {
    return 'dist/ is older than src/: npm run build:ts (npm test builds it)';
  }
  return undefined;
}

export interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the built gateway with `env` until it exits or `until` matches its output; then SIGTERM by pid. */
export function runGateway(
  env: Record<string, string>,
  options: { until?: RegExp; timeoutMs?: number } = {},
): { child: ChildProcess; started: Promise<string>; exited: Promise<Run> } {
  const child = spawn(process.execPath, [builtEntry], {
    cwd: repoRoot,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', LOG_FORMAT: 'json', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  let resolveStarted: (line: string) => void = () => {};
  let rejectStarted: (e: Error) => void = () => {};
  const started = new Promise<string>((resolve, reject) => {
    resolveStarted = resolve;
    rejectStarted = reject;
  });
  const timer = setTimeout(() => {
    rejectStarted(new Error(`gateway did not start in time:\n${stdout}\n${stderr}`));
    if (child.pid !== undefined && child.exitCode === null) process.kill(child.pid, 'SIGKILL');
  }, options.timeoutMs ?? 20_000);
  const check = () => {
    const match = options.until?.exec(stdout + stderr);
    if (match) resolveStarted(match[0]);
  };
  child.stdout?.on('data', (c: Buffer) => {
    stdout += c.toString();
    check();
  });
  child.stderr?.on('data', (c: Buffer) => {
    stderr += c.toString();
    check();
  });
  const exited = new Promise<Run>((resolve) =>
    child.once('exit', (code) => {
      clearTimeout(timer);
      rejectStarted(new Error(`gateway exited (${code}) before starting:\n${stdout}\n${stderr}`));
      resolve({ code, stdout, stderr });
    }),
  );
  started.catch(() => {});
  return { child, started, exited };
}

/** SIGTERM to the child by its pid, then its exit. */
export async function stopGateway(run: { child: ChildProcess; exited: Promise<Run> }): Promise<Run> {
  if (run.child.pid !== undefined && run.child.exitCode === null && run.child.signalCode === null) {
    process.kill(run.child.pid, 'SIGTERM');
  }
  return run.exited;
}
