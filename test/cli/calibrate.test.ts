/** `semroute calibrate` and `semroute predict` as users run them, on the shipped outcomes. */
import { execFile } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from '../helpers/encoder.js';
import { tiedEnv } from '../helpers/tied.js';

const run = promisify(execFile);
const BIN = path.resolve('bin/semroute.js');
let tmp: { dir: string; cleanup: () => Promise<void> };
let lines: string[];

async function semroute(...args: string[]) {
  try {
    const { stdout, stderr } = await run(process.execPath, [BIN, ...args], {
      env: tiedEnv(),
      maxBuffer: 64 * 1024 * 1024,
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

beforeAll(async () => {
  tmp = await tempDir();
  lines = (await readFile('datasets/routellm-outcomes/gsm8k.jsonl', 'utf8')).trim().split('\n').slice(0, 400);
  await writeFile(path.join(tmp.dir, 'graded.jsonl'), `${lines.join('\n')}\n`);
});
afterAll(async () => {
  await tmp?.cleanup();
});

describe('semroute calibrate', () => {
  it('prints the held-out curve and the operating point, and writes the model, SVG and report', async () => {
    const out = path.join(tmp.dir, 'router');
    const { code, stdout } = await semroute(
      'calibrate',
      '--outcomes',
      path.join(tmp.dir, 'graded.jsonl'),
      '--out',
      out,
      '--target-share',
      '0.3',
    );
    expect(code).toBe(0);
    expect(stdout).toMatch(
      /held-out cost-quality curve \(5-fold cross-validation; weak = weak, strong = strong\)/,
    );
    expect(stdout).toMatch(/^APGR \d\.\d{3} \(random 0\.500\)/m);
    expect(stdout).toMatch(
      /operating point \(target_share 0\.3\): difficulty ≥ 0\.700 → strong; held out: (2[5-9]|3[0-5])\.\d% strong calls/,
    );
    expect(stdout).toMatch(/baselines on the same rows: random APGR 0\.500, prompt length 0\.\d{3}/);
    const report = JSON.parse(await readFile(path.join(out, 'report.json'), 'utf8'));
    expect(report.rows).toBe(400);
    expect(report.curve).toHaveLength(11);
    expect(await readFile(path.join(out, 'curve.svg'), 'utf8')).toMatch(/^<svg/);
    const model = JSON.parse(await readFile(path.join(out, 'model.json'), 'utf8'));
    expect(model).toMatchObject({
      format: 'semroute-difficulty',
      candidates: [{ name: 'weak' }, { name: 'strong' }],
    });
  });

  it.each([
    [
      'a line that is not JSON',
      (l: string[]) => [...l.slice(0, 60), '{oops', ...l.slice(60)],
      /bad\.jsonl:61: not JSON/,
    ],
    [
      'a score outside [0, 1]',
      (l: string[]) => [
        ...l.slice(0, 9),
        l[9]!.replace('"weak": 1.0', '"weak": 1.5').replace('"weak": 0.0', '"weak": 1.5'),
        ...l.slice(10),
      ],
      /bad\.jsonl:10: outcomes\.weak: 1\.5 is not a score in \[0, 1\]/,
    ],
    [
      'one model only',
      (l: string[]) => l.map((x) => x.replace(/, "strong": [01]\.0/, '')),
      /only one model \(weak\) is graded on every row/,
    ],
    ['fewer than 50 rows', (l: string[]) => l.slice(0, 49), /49 graded rows; calibrating needs at least 50/],
    [
      'no prompt',
      (l: string[]) => [l[0]!.replace('"prompt"', '"question"'), ...l.slice(1)],
      /bad\.jsonl:1: prompt: needs "prompt" \(text\) or "messages"/,
    ],
  ])('refuses %s, naming the line', async (_, edit, message) => {
    const file = path.join(tmp.dir, 'bad.jsonl');
    await writeFile(file, `${edit(lines).join('\n')}\n`);
    const { code, stderr } = await semroute(
      'calibrate',
      '--outcomes',
      file,
      '--out',
      path.join(tmp.dir, 'bad'),
    );
    expect(code).toBe(1);
    expect(stderr).toMatch(message);
  });

  it('refuses two operating points, and one out of range', async () => {
    const graded = path.join(tmp.dir, 'graded.jsonl');
    const both = await semroute(
      'calibrate',
      '--outcomes',
      graded,
      '--out',
      tmp.dir,
      '--target-share',
      '0.3',
      '--tradeoff',
      '5',
    );
    expect(both.code).toBe(2);
    expect(both.stderr).toContain('give one operating point');
    const range = await semroute(
      'calibrate',
      '--outcomes',
      graded,
      '--out',
      tmp.dir,
      '--target-share',
      '1.5',
    );
    expect(range.code).toBe(2);
    expect(range.stderr).toContain('--target-share takes a number from 0 to 1');
  });
});

describe('semroute predict', () => {
  it('prints one object per line with difficulty, qualities and the choice; reads no outcomes', async () => {
    const file = path.join(tmp.dir, 'prompts.jsonl');
    await writeFile(
      file,
      `${JSON.stringify({ id: 'a', prompt: 'What is 2+2?' })}\n${JSON.stringify({ id: 'b', messages: [{ role: 'user', content: `Refactor this module. ${'It does many things. '.repeat(40)}` }] })}\n`,
    );
    const { code, stdout } = await semroute('predict', '--router', 'default', '--json', file);
    expect(code).toBe(0);
    const out = stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(out.map((o) => o.id)).toEqual(['a', 'b']);
    for (const o of out) {
      expect(o.difficulty).toBeGreaterThanOrEqual(0);
      expect(o.difficulty).toBeLessThanOrEqual(1);
      expect(Object.keys(o.quality).sort()).toEqual(['strong', 'weak']);
    }
    expect(out[0].choice).toBe('weak');
    expect(out[1].difficulty).toBeGreaterThan(out[0].difficulty);
    // Outcomes in the file change nothing.
    const graded = path.join(tmp.dir, 'with-outcomes.jsonl');
    await writeFile(
      graded,
      `${JSON.stringify({ id: 'a', prompt: 'What is 2+2?', outcomes: { weak: 0, strong: 1 } })}\n`,
    );
    const again = JSON.parse((await semroute('predict', '--json', graded)).stdout);
    expect(again).toEqual(out[0]);
  });
});
