import { defineConfig } from 'vitest/config';

// `npm run record:histories`: records a real history of every workflow type as replay fixtures
// (test/record/record-histories.test.ts). Same services as the integration tests, in a Temporal
// namespace of its own (registered by the test stack): the recording starts workflows with fixed
// ids, e.g. the scheduled clearing of last month, that the tests' namespace must not keep.
process.env.TEMPORAL_NAMESPACE = `${process.env.TEMPORAL_NAMESPACE || 'default'}-recording-${Date.now().toString(36)}`;
export default defineConfig({
  test: {
    include: ['test/record/**/*.test.ts'],
    // Recordings run on development defaults, which only development and test mode accept.
    env: { APP_MODE: 'test' },
    globalSetup: ['test/global-setup.ts'],
    fileParallelism: false,
    testTimeout: 60_000,
    hookTimeout: 120_000,
  },
});
