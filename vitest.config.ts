import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Each file in its own process: libvirt's test:///default state and event loop are per process.
    pool: 'forks',
    execArgv: ['--expose-gc'],
    globalSetup: ['test/support/global-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 180_000,
    teardownTimeout: 120_000,
  },
});
