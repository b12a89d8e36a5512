/**
 * semroute as npm publishes it, installed into an empty project the way a user does it: no
 * environment variable, no .npmrc, nothing reachable but the npm registry (as in CI). Once with
 * install scripts, once with them blocked (the model is then built on first use).
 */
import { execFile } from 'node:child_process';
import { readdir, readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from '../helpers/encoder.js';

const exec = promisify(execFile);
const ROOT = path.resolve('.');
const TSC = path.join(ROOT, 'node_modules/typescript/bin/tsc');

/** The environment of a user's shell: none of the npm_* variables `npm test` sets for its scripts. */
const userEnv = Object.fromEntries(
  Object.entries(process.env).filter(([k]) => !k.toLowerCase().startsWith('npm_') && k !== 'INIT_CWD'),
);

async function sh(cmd: string, args: string[], cwd: string): Promise<{ code: number; out: string }> {
  try {
    const { stdout, stderr } = await exec(cmd, args, { cwd, env: userEnv, maxBuffer: 64 * 1024 * 1024 });
    return { code: 0, out: `${stdout}${stderr}` };
  } catch (error) {
    const e = error as { code: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : 1, out: `${e.stdout ?? ''}${e.stderr ?? ''}` };
  }
}

let tmp: { dir: string; cleanup: () => Promise<void> };
let tarball: string;
const withScripts = () => path.join(tmp.dir, 'app');
const noScripts = () => path.join(tmp.dir, 'app-no-scripts');
const installs: Record<string, { code: number; out: string }> = {};

const USER_CODE = `import { SemanticRouter } from 'semroute';
const index = process.argv[2];
const router = await SemanticRouter.fromConfig(
  {
    routes: [
      { name: 'coding', utterances: ['how to code a program in [language]', 'fix this bug in my code'] },
      { name: 'weather', utterances: ['will it rain tomorrow', 'what is the weather like today'] },
    ],
  },
  { index, cacheDir: false },
);
const decision = await router.route('how do I code a program in Rust');
console.log(JSON.stringify({ route: decision.name, index: router.indexKind, encoder: router.encoder.id }));
await router.close();
`;

const TYPED_USER_CODE = `import { Gateway, type RouteResult, SemanticRouter, SemrouteError } from 'semroute';
export async function decide(text: string): Promise<RouteResult> {
  const router = await SemanticRouter.fromFile('router.json');
  return router.route(text);
}
export const isError = (e: unknown): e is SemrouteError => e instanceof SemrouteError;
export const create = Gateway.create;
`;

beforeAll(async () => {
  tmp = await tempDir('semroute-pack-');
  // dist/ is what `npm test` built a moment ago; prepare would only build it again.
  const packed = await sh(
    'npm',
    ['pack', '--ignore-scripts', '--pack-destination', tmp.dir, '--silent'],
    ROOT,
  );
  expect(packed.code, packed.out).toBe(0);
  tarball = path.join(tmp.dir, packed.out.trim().split('\n').at(-1)!);
  for (const [dir, extra] of [
    [withScripts(), []],
    [noScripts(), ['--ignore-scripts']],
  ] as const) {
    await sh('mkdir', ['-p', dir], tmp.dir);
    // npm 11 asks a project to approve the install scripts of its dependencies (README: semroute
    // and hnswlib-node have one); npm 10, Node 20's own, runs them without asking. From the
    // registry the key is the name (`semroute`); from a tarball, npm matches the file itself.
    const allowScripts =
      extra.length === 0 ? { allowScripts: { [`file:${tarball}`]: true, 'hnswlib-node': true } } : {};
    await writeFile(
      path.join(dir, 'package.json'),
      JSON.stringify({ name: 'user-app', private: true, type: 'module', ...allowScripts }),
    );
    installs[dir] = await sh('npm', ['install', tarball, '--no-audit', '--no-fund', ...extra], dir);
  }
}, 600_000);
afterAll(() => tmp?.cleanup());

describe('semroute installed from its tarball', () => {
  it('installs offline (npm registry only) with no environment variable, and npm warns about nothing', () => {
    // Only semroute's and hnswlib-node's install scripts exist to approve: nothing else of ours has one.
    for (const dir of [withScripts(), noScripts()]) {
      const { code, out } = installs[dir]!;
      expect(code, out).toBe(0);
      expect(out, `${dir}: ${out}`).not.toMatch(/npm warn/i);
      expect(out).not.toMatch(/ENOTFOUND|EAI_AGAIN|Downloading/);
    }
  });

  it('ships dist with its types, the bin, routes, scripts and the page; no sources or tests', async () => {
    const { out } = await sh('tar', ['tzf', tarball], tmp.dir);
    const files = out.trim().split('\n');
    for (const f of [
      'package/dist/index.js',
      'package/dist/index.d.ts',
      'package/bin/semroute.js',
      'package/routes/assistant.json',
      'package/data/difficulty-default.json',
      'package/scripts/postinstall.js',
      'package/ui/js/main.js',
    ])
      expect(files).toContain(f);
    expect(files.some((f) => f.startsWith('package/src/') || f.startsWith('package/test/'))).toBe(false);
    const pkg = JSON.parse(
      await readFile(path.join(withScripts(), 'node_modules/semroute/package.json'), 'utf8'),
    );
    expect(pkg.exports['.']).toEqual({ types: './dist/index.d.ts', import: './dist/index.js' });
  });

  it("runs README's quick start as it is in the user's own project, and the default difficulty model loads", async () => {
    const dir = withScripts();
    await writeFile(path.join(dir, 'quickstart.mjs'), await readFile('examples/quickstart.mjs', 'utf8'));
    const run = await sh(process.execPath, ['quickstart.mjs'], dir);
    expect(run.code, run.out).toBe(0);
    expect(run.out.split('\n').slice(0, 4)).toEqual([
      'translation',
      expect.stringMatching(/^0\.\d+ 0\.4 /),
      'math',
      'recipes',
    ]);
    // The difficulty model shipped in the package (data/), through the installed bin.
    await writeFile(
      path.join(dir, 'prompts.jsonl'),
      `${JSON.stringify({ id: 'easy', prompt: 'What is 2+2?' })}\n${JSON.stringify({ id: 'hard', prompt: `Prove that there are infinitely many primes of the form 4k+3. ${'Justify every step of the argument carefully and say which lemma each one uses. '.repeat(8)}` })}\n`,
    );
    const predicted = await sh(
      process.execPath,
      ['node_modules/semroute/bin/semroute.js', 'predict', '--router', 'default', '--json', 'prompts.jsonl'],
      dir,
    );
    expect(predicted.code, predicted.out).toBe(0);
    const [easy, hard] = predicted.out
      .trim()
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as { id: string; difficulty: number });
    expect([easy?.id, hard?.id]).toEqual(['easy', 'hard']);
    expect(hard!.difficulty).toBeGreaterThan(easy!.difficulty);
  });

  it("routes with `import { SemanticRouter } from 'semroute'`, HNSW and exact, on the model the install built", async () => {
    const dir = withScripts();
    await stat(path.join(dir, 'node_modules/semroute/models/use-lite/model.onnx'));
    await writeFile(path.join(dir, 'main.mjs'), USER_CODE);
    for (const index of ['hnsw', 'exact']) {
      const { code, out } = await sh(process.execPath, ['main.mjs', index], dir);
      expect(code, out).toBe(0);
      expect(JSON.parse(out.trim().split('\n').at(-1)!)).toMatchObject({ route: 'coding', index });
    }
  });

  it("type-checks a user's TypeScript against the published types, without skipLibCheck", async () => {
    const dir = withScripts();
    await writeFile(path.join(dir, 'user.ts'), TYPED_USER_CODE);
    const { code, out } = await sh(
      process.execPath,
      [
        TSC,
        '--noEmit',
        '--strict',
        '--module',
        'nodenext',
        '--moduleResolution',
        'nodenext',
        '--target',
        'es2022',
        '--types',
        'node',
        '--typeRoots',
        path.join(ROOT, 'node_modules/@types'),
        'user.ts',
      ],
      dir,
    );
    expect(code, out).toBe(0);
  });

  it('leaves npm its record of node_modules up to date, so npx semroute installs nothing again', async () => {
    const dir = withScripts();
    const record = (await stat(path.join(dir, 'node_modules/.package-lock.json'))).mtimeMs;
    for (const name of await readdir(path.join(dir, 'node_modules'))) {
      if (name.startsWith('.') || name.startsWith('@')) continue;
      const folder = (await stat(path.join(dir, 'node_modules', name))).mtimeMs;
      expect(folder, `node_modules/${name} is newer than npm's record`).toBeLessThanOrEqual(record + 10);
    }
    const version = await sh('npx', ['--no-install', 'semroute', '--version'], dir);
    expect(version.code, version.out).toBe(0);
    expect(version.out.trim()).toMatch(/^\d+\.\d+\.\d+$/);
  });

  it('with install scripts blocked, builds the default model on first use and routes', async () => {
    const dir = noScripts();
    const model = path.join(dir, 'node_modules/semroute/models/use-lite/model.onnx');
    await expect(stat(model)).rejects.toThrow();
    await writeFile(path.join(dir, 'main.mjs'), USER_CODE);
    const { code, out } = await sh(process.execPath, ['main.mjs', 'exact'], dir);
    expect(code, out).toBe(0);
    expect(JSON.parse(out.trim().split('\n').at(-1)!)).toMatchObject({ route: 'coding', index: 'exact' });
    // The graph is small; its tensors are in the shared weights file beside it.
    expect((await stat(model)).size).toBeGreaterThan(10_000);
    expect((await stat(path.join(path.dirname(model), 'weights.bin'))).size).toBeGreaterThan(20_000_000);
    // No native HNSW build without scripts: asking for it says what to do.
    const hnsw = await sh(process.execPath, ['main.mjs', 'hnsw'], dir);
    expect(hnsw.code).not.toBe(0);
    expect(hnsw.out).toContain('npm rebuild hnswlib-node');
  });
});
