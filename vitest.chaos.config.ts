import { defineConfig } from 'vitest/config';

// `npm run test:chaos`: the fault-injection bank test. It starts its own cluster (scripts/cluster)
// instead of the shared test stack, so there is no globalSetup.
export default defineConfig({
  test: {
    include: ['test/chaos/**/*.chaos.test.ts'],
    env: { APP_MODE: 'test' },
    fileParallelism: false,
    testTimeout: 600_000,
    hookTimeout: 300_000,
  },
});
