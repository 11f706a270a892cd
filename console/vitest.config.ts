// The console's tests (npm run test:console; .ci/run runs them as their own step): the unit
// checks of console/test and the end-to-end run of console/e2e in headless Chromium.
import path from 'node:path';
import { createRequire } from 'node:module';
import { defineConfig } from 'vitest/config';

const require = createRequire(import.meta.url);
const root = path.resolve(import.meta.dirname, '..');

export default defineConfig({
  root,
  resolve: {
    // One graphql for the server under test (see the root vitest.config.ts).
    alias: [{ find: /^graphql$/, replacement: require.resolve('graphql') }],
  },
  test: {
    include: ['console/test/**/*.test.ts', 'console/e2e/**/*.test.ts'],
    pool: 'forks',
    fileParallelism: false,
    testTimeout: 120_000,
    hookTimeout: 180_000,
  },
});
