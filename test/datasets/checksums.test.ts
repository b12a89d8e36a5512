/** The datasets shipped in datasets/ are what their READMEs say: every file in SHA256SUMS matches. */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = path.resolve('datasets');

describe('shipped datasets', () => {
  const folders = readdirSync(ROOT, { withFileTypes: true }).filter((d) => d.isDirectory());

  it.each(folders.map((d) => d.name))('%s: a licence, a README, and files matching SHA256SUMS', (name) => {
    const dir = path.join(ROOT, name);
    expect(existsSync(path.join(dir, 'LICENSE')), 'LICENSE').toBe(true);
    expect(readFileSync(path.join(dir, 'README.md'), 'utf8')).toMatch(/licen[cs]e/i);
    const sums = path.join(dir, 'SHA256SUMS');
    if (!existsSync(sums)) return;
    const lines = readFileSync(sums, 'utf8').trim().split('\n');
    expect(lines.length).toBeGreaterThan(0);
    for (const line of lines) {
      const [want, file] = line.split(/\s+\*?/);
      const got = createHash('sha256')
        .update(readFileSync(path.join(dir, file!)))
        .digest('hex');
      expect(got, `${name}/${file}`).toBe(want);
    }
  });
});
