import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/unit/**/*.test.ts', 'test/integration/**/*.test.ts', 'web/src/**/*.test.ts'],
    globalSetup: ['test/global-setup.ts'],
    // Tests run on development defaults, which only development and test mode accept.
    env: { APP_MODE: 'test' },
    // Integration files share one database, one Temporal namespace and one outbox; running them
    // one after another keeps each file's worker from relaying another file's workflows.
    fileParallelism: false,
    testTimeout: 60_000,
    hookTimeout: 120_000,
    reporters: ['default'],
  },
});
