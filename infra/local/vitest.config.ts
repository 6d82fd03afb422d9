import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    globalSetup: ['@samsyn/testkit/global-setup'],
    // Whole-system tests share two cores with the rest of the suite (and a browser): allow them time.
    testTimeout: 120_000,
    hookTimeout: 60_000,
  },
});
