import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../helpers/encoder.js';

const run = promisify(execFile);

/** The whole quick bench, as `npm run bench -- --quick` runs it: every suite, and its figures well formed. */
describe('npm run bench -- --quick', () => {
  it('runs every suite and writes a valid latest.json, latest.md and charts', async () => {
    const { dir, cleanup } = await tempDir();
    try {
      const tsx = path.resolve('node_modules/.bin/tsx');
      await run(tsx, ['bench/run.ts', '--quick', '--out', dir], {
        maxBuffer: 32 * 1024 * 1024,
        timeout: 1_200_000,
      });
      const latest = JSON.parse(await readFile(path.join(dir, 'latest.json'), 'utf8'));
      expect(latest.environment).toMatchObject({
        cores: expect.any(Number),
        node: process.version,
        quick: true,
      });
      expect(latest.environment.encoder).toMatch(/^use-lite-int8@/);
      const suites = new Set(latest.results.map((r: { suite: string }) => r.suite));
      expect([...suites].sort()).toEqual([
        'cli',
        'cost-quality',
        'encoder',
        'gateway',
        'proxy',
        'quality',
        'route',
        'scale',
        'search',
      ]);
      for (const r of latest.results) {
        expect(Object.keys(r).sort()).toEqual(['extra', 'mean', 'n', 'name', 'p50', 'p99', 'suite', 'unit']);
        if (r.p50 !== null) expect(r.p50).toBeGreaterThan(0);
        if (r.p50 !== null && r.p99 !== null) expect(r.p99).toBeGreaterThanOrEqual(r.p50);
      }
      const cli = latest.results.find((r: { suite: string; unit: string }) => r.suite === 'cli');
      expect(cli.n).toBe(10);
      // Cost-quality on GSM8K: calibrated beats prompt length held out; the 30% point holds.
      const cq = (name: string) => latest.results.find((r: { name: string }) => r.name === `gsm8k: ${name}`);
      expect(cq('calibrated (5-fold CV)').mean).toBeGreaterThan(cq('prompt length').mean);
      const share = cq('asked for 30% strong calls, share reached on held-out prompts').mean;
      expect(share).toBeGreaterThanOrEqual(0.25);
      expect(share).toBeLessThanOrEqual(0.35);
      const hnsw10k = latest.results.find((r: { name: string }) => r.name === 'hnsw 10k');
      expect(hnsw10k.extra.recallAt1).toBeGreaterThanOrEqual(0.99);
      expect(await readFile(path.join(dir, 'latest.md'), 'utf8')).toContain('### search');
      expect(await readFile(path.join(dir, 'search-latency.svg'), 'utf8')).toMatch(/^<svg/);
    } finally {
      await cleanup();
    }
  }, 1_300_000);
});
