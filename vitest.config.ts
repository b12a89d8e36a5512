import { defineConfig } from 'vitest/config';

/**
 * `npm test`: every suite that runs in a few minutes on 2 cores. The slow ones (the pack-and-
 * install test, the fault soak, the emulated-CPU parity run) have their own scripts and config
 * (vitest.slow.config.ts); `.ci/run` runs them after this one, and the quick bench too.
 */
export const SLOW = ['test/package/**', 'test/server/soak.test.ts', 'test/slow/**'];

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    exclude: ['**/node_modules/**', ...SLOW],
    // Generous: a loaded machine makes a test slower, and a timeout must not be what fails it.
    // No test asserts elapsed time; each waits on the event it needs (expect.poll).
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: 'forks',
    maxWorkers: 2,
    // Each file in its own module graph, so no module-level state (a loaded model, a pool, an
    // environment variable read at import) leaks from one file into the next. The cost: each
    // file that needs the model loads it again (about 0.1 s).
    isolate: true,
  },
});
