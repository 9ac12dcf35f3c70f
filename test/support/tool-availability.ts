import { spawnSync } from 'node:child_process';

/** Why `tool` cannot run here (not installed, or fails its version probe), or undefined when it can. */
export function toolSkipReason(tool: string, versionArgs: readonly string[], installHint: string): string | undefined {
  const probe = spawnSync(tool, versionArgs, { encoding: 'utf8', timeout: 30_000 });
  if (probe.error) return `${tool} is not installed (${installHint})`;
  if (probe.status !== 0) return `${tool} ${versionArgs.join(' ')} exited ${probe.status}: ${probe.stderr.trim()}`;
  return undefined;
}
