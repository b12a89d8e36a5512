/**
 * The bench harness itself, on its quickest suite: the whole quick bench takes minutes and runs
 * in `.ci/run` (`npm run bench -- --quick`), not here.
 */
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { tempDir } from './helpers/encoder.js';

const run = promisify(execFile);

describe('npm run bench -- --only encoder --quick', () => {
  it('prints the machine, writes latest.json and latest.md with well-formed rows', async () => {
    const { dir, cleanup } = await tempDir();
    try {
      const tsx = path.resolve('node_modules/.bin/tsx');
      const { stdout } = await run(tsx, ['bench/run.ts', '--only', 'encoder', '--quick', '--out', dir], {
        maxBuffer: 32 * 1024 * 1024,
      });
      expect(stdout).toContain('== encoder (quick)');
      const latest = JSON.parse(await readFile(path.join(dir, 'latest.json'), 'utf8'));
      expect(latest.environment).toMatchObject({
        cores: expect.any(Number),
        node: process.version,
        quick: true,
        suites: ['encoder'],
        cpuFlags: expect.any(Array),
      });
      expect(latest.results.length).toBeGreaterThan(3);
      for (const r of latest.results) {
        expect(r.suite).toBe('encoder');
        expect(Object.keys(r).sort()).toEqual(['extra', 'mean', 'n', 'name', 'p50', 'p99', 'suite', 'unit']);
        if (r.p50 !== null) expect(r.p50).toBeGreaterThan(0);
        if (r.p50 !== null && r.p99 !== null) expect(r.p99).toBeGreaterThanOrEqual(r.p50);
      }
      expect(await readFile(path.join(dir, 'latest.md'), 'utf8')).toContain('### encoder');
    } finally {
      await cleanup();
    }
  });

  it('refuses an unknown suite, naming the ones there are', async () => {
    const tsx = path.resolve('node_modules/.bin/tsx');
    const error = (await run(tsx, ['bench/run.ts', '--only', 'nope']).catch((e: unknown) => e)) as {
      code: number;
      stderr: string;
    };
    expect(error.code).toBe(2);
    expect(error.stderr).toMatch(/unknown suite "nope"; suites: encoder, search/);
  });
});
