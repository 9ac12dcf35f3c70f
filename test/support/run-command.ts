import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);

export interface CommandResult {
  stdout: string;
  stderr: string;
}

/** Runs a program without a shell; a failure carries the command line and its stderr. */
export async function runCommand(
  file: string,
  args: readonly string[],
  options: { timeoutMs?: number; env?: NodeJS.ProcessEnv } = {},
): Promise<CommandResult> {
  try {
    const { stdout, stderr } = await execFileAsync(file, args, {
      encoding: 'utf8',
      env: options.env ?? process.env,
      timeout: options.timeoutMs ?? 60_000,
      maxBuffer: 64 * 1024 * 1024,
    });
    return { stdout, stderr };
  } catch (error) {
    const failure = error as { code?: unknown; signal?: unknown; stderr?: string; message: string };
    const detail = failure.stderr?.trim() || failure.message;
    throw new Error(`${[file, ...args].join(' ')} failed (${String(failure.code ?? failure.signal)}): ${detail}`, {
      cause: error,
    });
  }
}

/** Runs `virsh -q -c URI ARGS…` and returns its stdout. */
export async function virsh(uri: string, ...args: string[]): Promise<string> {
  const { stdout } = await runCommand('virsh', ['-q', '-c', uri, ...args]);
  return stdout;
}
