/** One thing wrong with the configuration: where (`hosts[1].port`, `PORT`…) and why. */
export interface ConfigProblem {
  path: string;
  reason: string;
}

/** The configuration is unusable; `problems` lists every fault found, not just the first. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';

  constructor(
    readonly problems: readonly ConfigProblem[],
    /** Where the configuration came from, for the message: a file path or "environment". */
    readonly source?: string,
  ) {
    const lines = problems.map((p) => `  ${p.path}: ${p.reason}`);
    super(`invalid configuration${source === undefined ? '' : ` (${source})`}:\n${lines.join('\n')}`);
  }
}
