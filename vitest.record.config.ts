import { defineConfig } from 'vitest/config';

// `npm run record:histories`: records a real history of every workflow type as replay fixtures
// (test/record/record-histories.test.ts). Same services as the integration tests.
export default defineConfig({
  test: {
    include: ['test/record/**/*.test.ts'],
    globalSetup: ['test/global-setup.ts'],
    fileParallelism: false,
    testTimeout: 60_000,
    hookTimeout: 120_000,
  },
});
