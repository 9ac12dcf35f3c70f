import { ConfigError, type ConfigProblem } from '../../src/config/config.ts';

/** The problems a config load reports; fails the test when it loads without a ConfigError. */
export async function problemsOf(run: () => Promise<unknown>): Promise<ConfigProblem[]> {
  try {
    await run();
  } catch (error) {
    if (error instanceof ConfigError) return [...error.problems];
    throw error;
  }
  throw new Error('expected a ConfigError');
}
