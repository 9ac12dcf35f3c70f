import { readFile } from 'node:fs/promises';
import { setTimeout as delay } from 'node:timers/promises';

/**
 * True once the process has exited. PID 1 on these machines reaps late, so a
 * zombie counts as gone and `kill -0` is no use.
 */
export async function isProcessGone(pid: number): Promise<boolean> {
  let stat: string;
  try {
    stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return true;
  }
  // Field 3, after the parenthesised command name (which may itself hold spaces or parens).
  const state = stat.charAt(stat.lastIndexOf(')') + 2);
  return state === 'Z' || state === 'X' || state === 'x';
}

/** Polls `check` until it answers true or `timeoutMs` passes; answers whether it became true. */
export async function pollUntil(check: () => Promise<boolean>, timeoutMs: number, intervalMs = 25): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return true;
    if (Date.now() >= deadline) return false;
    await delay(intervalMs);
  }
}

function sendSignal(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error;
  }
}

/** SIGTERM, then SIGKILL after `graceMs`; resolves once the process is gone, rejects if it never goes. */
export async function terminateProcess(pid: number, graceMs = 15_000): Promise<void> {
  if (await isProcessGone(pid)) return;
  sendSignal(pid, 'SIGTERM');
  if (await pollUntil(() => isProcessGone(pid), graceMs)) return;
  sendSignal(pid, 'SIGKILL');
  if (!(await pollUntil(() => isProcessGone(pid), 5_000))) {
    throw new Error(`process ${pid} is still alive after SIGKILL`);
  }
}
