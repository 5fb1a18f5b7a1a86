import { createRequire } from 'node:module';
import { defineConfig } from 'vitest/config';

const require = createRequire(import.meta.url);

export default defineConfig({
  resolve: {
    // graphql 16 ships CJS (main) and ESM (module) twins without an exports map.
    // Node resolves the CJS one for the libraries; make our own code use the
    // same instance, or `instanceof` checks fail across the two copies.
    alias: { graphql: require.resolve('graphql') },
  },
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/support/globalSetup.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // Two cores: more workers only contend with PostgreSQL for CPU.
    maxWorkers: 2,
    reporters: ['default'],
  },
});
