// The fast tier (`npm run test:unit`): pure logic and process-local tests, no services, seconds.
// `npm test` (vitest.config.ts) runs these files too, with the integration tier.
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/unit/**/*.test.ts', 'web/src/**/*.test.ts'],
    env: { APP_MODE: 'test' },
    globalSetup: ['test/unit-global-setup.ts'],
    testTimeout: 30_000,
    reporters: ['default'],
  },
});
