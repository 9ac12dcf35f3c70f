import { defineConfig } from 'vitest/config';

export default defineConfig({
  // graphql 16 has no exports map: Node gives packages its CommonJS build, Vite would give
  // our sources the .mjs one, and two copies of graphql cannot share a schema.
  resolve: { alias: { graphql: 'graphql/index.js' } },
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
