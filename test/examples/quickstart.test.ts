/** The README's quick start is a real file, run here as a user runs it from a clone: `node examples/quickstart.mjs`. */
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from '../helpers/encoder.js';
import { tiedEnv } from '../helpers/tied.js';

const run = promisify(execFile);
let tmp: { dir: string; cleanup: () => Promise<void> };
beforeAll(async () => {
  tmp = await tempDir();
});
afterAll(() => tmp.cleanup());

describe('examples/quickstart.mjs', () => {
  it('runs on Node 20 as written (semroute imports itself by name) and routes as its comments say', async () => {
    const { stdout } = await run(process.execPath, ['examples/quickstart.mjs'], {
      env: tiedEnv({ ...process.env, SEMROUTE_CACHE_DIR: path.join(tmp.dir, 'cache') }),
    });
    const lines = stdout.split('\n');
    expect(lines[0]).toBe('translation');
    expect(lines[1]).toMatch(/^0\.\d+ 0\.4 can you translate my email into \[human_language\]$/);
    expect(lines[2]).toBe('math');
    expect(lines[3]).toBe('recipes');
    expect(stdout).toContain('accuracy: 1');
  });

  it('is the code the README shows', async () => {
    const [readme, code] = await Promise.all([
      readFile('README.md', 'utf8'),
      readFile('examples/quickstart.mjs', 'utf8'),
    ]);
    expect(readme).toContain(code.trim());
  });
});
