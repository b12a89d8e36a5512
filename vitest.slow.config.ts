import { defineConfig } from 'vitest/config';
import { SLOW } from './vitest.config.js';

/**
 * The suites `npm test` leaves out, run by `npm run test:package`, `npm run soak` and
 * `npm run test:slow` (and all of them by `.ci/run`).
 */
export default defineConfig({
  test: {
    include: SLOW.map((glob) => (glob.endsWith('**') ? `${glob}/*.test.ts` : glob)),
    testTimeout: 900_000,
    hookTimeout: 900_000,
    pool: 'forks',
    maxWorkers: 1,
    isolate: true,
  },
});
