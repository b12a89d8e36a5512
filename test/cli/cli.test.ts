import { execFile, spawn } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from '../helpers/encoder.js';
import { tiedEnv } from '../helpers/tied.js';

const run = promisify(execFile);
const BIN = path.resolve('bin/semroute.js');
let tmp: { dir: string; cleanup: () => Promise<void> };

beforeAll(async () => {
  tmp = await tempDir();
});
afterAll(() => tmp.cleanup());

async function semroute(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [BIN, ...args], {
      env: tiedEnv({ ...process.env, SEMROUTE_CACHE_DIR: path.join(tmp.dir, 'cache') }),
      maxBuffer: 64 * 1024 * 1024,
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

describe('semroute CLI contract', () => {
  it('a reader that has closed the pipe (`| head`, `| true`) ends the command quietly, exit 0', async () => {
    // The reader is gone before the first write (`true` reads nothing): every write is an EPIPE.
    // bash's PIPESTATUS gives the command's own exit status, not the reader's.
    const child = spawn(
      'bash',
      [
        '-c',
        `"${process.execPath}" "${BIN}" route routes/assistant.json "how do I reverse a list in python" | true; exit \${PIPESTATUS[0]}`,
      ],
      { env: tiedEnv({ ...process.env, SEMROUTE_CACHE_DIR: path.join(tmp.dir, 'cache') }) },
    );
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => (stderr += c));
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    expect(stderr).not.toMatch(/EPIPE|Unhandled/);
    expect(code).toBe(0);
  });

  it('route --json prints one object with route, score, threshold and candidates', async () => {
    const { code, stdout } = await semroute(
      'route',
      'routes/assistant.json',
      '--json',
      'how do I reverse a list in python',
    );
    expect(code).toBe(0);
    const lines = stdout.trim().split('\n');
    expect(lines).toHaveLength(1);
    const out = JSON.parse(lines[0]!);
    expect(out.route).toBe('coding');
    expect(typeof out.score).toBe('number');
    expect(out.threshold).toBe(0.4);
    expect(out.candidates[0]).toMatchObject({ route: 'coding', score: out.score });
    for (const c of out.candidates)
      expect(Object.keys(c)).toEqual(expect.arrayContaining(['route', 'score']));
  });

  it('route prints a readable decision, and null when nothing passes', async () => {
    const plain = await semroute('route', 'routes/assistant.json', 'what', 'is', '7', 'times', '8');
    expect(plain.stdout).toMatch(/^route: math/);
    const none = await semroute(
      'route',
      '--json',
      'routes/assistant.json',
      'the mitochondria is the powerhouse of the cell',
    );
    expect(JSON.parse(none.stdout).route).toBeNull();
  });

  it('fails with the error code and exit 1 on a bad file; exit 2 on bad usage', async () => {
    const bad = path.join(tmp.dir, 'bad.json');
    await writeFile(bad, JSON.stringify({ routes: [{ name: 'a', utterances: [] }] }));
    const invalid = await semroute('route', bad, 'hello');
    expect(invalid.code).toBe(1);
    expect(invalid.stderr).toContain('SEMROUTE_CONFIG_INVALID');
    expect(invalid.stderr).toContain('routes[0].utterances');
    const missing = await semroute('route', path.join(tmp.dir, 'nope.json'), 'hello');
    expect(missing.stderr).toContain('SEMROUTE_FILE_READ');
    expect((await semroute('route')).code).toBe(2);
    expect((await semroute('frobnicate')).code).toBe(2);
  });

  it('embed --json prints model, dimensions and one row per text', async () => {
    const { code, stdout } = await semroute('embed', '--json', 'hello world', 'how are you');
    expect(code).toBe(0);
    const out = JSON.parse(stdout);
    expect(out.model).toMatch(/^use-lite-int8@/);
    expect(out.dimensions).toBe(512);
    expect(out.embeddings).toHaveLength(2);
    expect(out.embeddings[0]).toHaveLength(512);
  });

  it('compile --json reports routes, utterances and the index; a second compile is cached', async () => {
    const first = JSON.parse((await semroute('compile', '--json', 'routes/assistant.json')).stdout);
    expect(first.routes).toBe(6);
    expect(first.utterances).toBeGreaterThan(100);
    const second = JSON.parse((await semroute('compile', '--json', 'routes/assistant.json')).stdout);
    expect(second.key).toBe(first.key);
  });

  it('eval --json runs the protocol on any dataset in the normalised format', async () => {
    const dataset = {
      name: 'tiny',
      labels: ['weather', 'music'],
      splits: {
        train: [
          { text: 'will it rain today', label: 'weather' },
          { text: 'how hot is it outside', label: 'weather' },
          { text: 'play some jazz', label: 'music' },
          { text: 'put on my workout playlist', label: 'music' },
        ],
        val: [
          { text: 'is it going to snow', label: 'weather' },
          { text: 'play a song by the beatles', label: 'music' },
          { text: 'what is the capital of peru', label: null },
        ],
        test: [
          { text: 'what is the forecast for tomorrow', label: 'weather' },
          { text: 'shuffle my favourite songs', label: 'music' },
          { text: 'how do I file my taxes', label: null },
          { text: 'who won the world cup', label: null },
        ],
      },
    };
    const file = path.join(tmp.dir, 'tiny.json');
    await writeFile(file, JSON.stringify(dataset));
    for (const extra of [[], ['--fit'], ['--index', 'exact']]) {
      const { code, stdout, stderr } = await semroute(
        'eval',
        '--dataset',
        file,
        '--shots',
        '2',
        '--json',
        ...extra,
      );
      expect(code, stderr).toBe(0);
      const out = JSON.parse(stdout);
      for (const key of [
        'inScopeAccuracy',
        'oosRecall',
        'overallAccuracy',
        'agreementWithExact',
        'encoder',
        'shots',
      ]) {
        expect(out).toHaveProperty(key);
      }
      expect(out.shots).toBe(2);
      expect(out.testRows).toBe(4);
      expect(out.inScopeAccuracy).toBeGreaterThanOrEqual(0.5);
      expect(out.overallAccuracy).toBeGreaterThanOrEqual(0);
      expect(out.overallAccuracy).toBeLessThanOrEqual(1);
    }
    const noOos = {
      ...dataset,
      splits: { ...dataset.splits, test: dataset.splits.test.filter((r) => r.label !== null) },
    };
    await writeFile(file, JSON.stringify(noOos));
    expect(
      JSON.parse((await semroute('eval', '--dataset', file, '--shots', '2', '--json')).stdout).oosRecall,
    ).toBeNull();
  });

  it('models list shows the built default model, both sizes, the active precision and why, and the CPU', async () => {
    const json = JSON.parse((await semroute('models', 'list', '--json')).stdout);
    const useLite = json.models.find((m: { id: string }) => m.id === 'use-lite');
    expect(useLite.int8Bytes).toBeGreaterThan(1e6);
    expect(useLite.int8Bytes).toBeLessThan(useLite.bytes);
    expect(json.useLitePrecision).toMatchObject({ requested: 'int8', active: 'int8' });
    expect(json.cpu.flags).toEqual(expect.any(Array));
    const { stdout } = await semroute('models', 'list');
    expect(stdout).toMatch(/use-lite\tint8 \(default\)\t\d+\.\d MB\tactive/);
    expect(stdout).toMatch(
      /use-lite precision: int8: int8 matches fp32 on this CPU \(probe cosine 0\.999\d+/,
    );
    expect(stdout).toMatch(/^cpu: .*\((with|without) VNNI\)$/m);
  });
});

describe('semroute CLI help and encoder choice', () => {
  const COMMANDS = [
    'route',
    'compile',
    'lint',
    'eval',
    'embed',
    'models',
    'serve',
    'fake-upstream',
    'calibrate',
    'predict',
  ];

  it('--help for semroute and every command: usage, options and an example, exit 0', async () => {
    const top = await semroute('--help');
    expect(top.code).toBe(0);
    for (const command of COMMANDS) expect(top.stdout).toContain(command);
    for (const command of COMMANDS) {
      for (const flag of ['--help', '-h']) {
        const { code, stdout } = await semroute(command, flag);
        expect(code, `${command} ${flag}`).toBe(0);
        expect(stdout).toMatch(/^Usage: semroute /);
        expect(stdout).toContain('Example:');
        expect(stdout).toContain(`semroute ${command}`);
      }
    }
    expect((await semroute('help', 'route')).stdout).toMatch(/^Usage: semroute route/);
  });

  it('lint exits 1 on errors and 0 on warnings only, and prints JSON with --json', async () => {
    const broken = await semroute('lint', 'test/fixtures/lint/threshold-unreachable.json');
    expect(broken.code).toBe(1);
    expect(broken.stdout).toContain('error [threshold_unreachable]');
    const warned = await semroute('lint', '--json', 'test/fixtures/lint/single-utterance.json');
    expect(warned.code).toBe(0);
    const report = JSON.parse(warned.stdout);
    expect(report.errors).toEqual([]);
    expect(report.warnings.map((w: { code: string }) => w.code)).toContain('single_utterance');
  });

  it('--version prints the package version', async () => {
    const { version } = JSON.parse(await readFile('package.json', 'utf8')) as { version: string };
    for (const flag of ['--version', '-v']) {
      const { code, stdout } = await semroute(flag);
      expect(code).toBe(0);
      expect(stdout.trim()).toBe(version);
    }
  });

  it('a usage error shows the command help; a bad option value names the option', async () => {
    const unknown = await semroute('route', '--frobnicate', 'routes/assistant.json', 'hi');
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('--frobnicate');
    expect(unknown.stderr).toContain('Usage: semroute route');
    const port = await semroute('fake-upstream', '--port', 'many');
    expect(port.code).toBe(2);
    expect(port.stderr).toContain('--port');
  });

  it('an openai router.json without a key says so and suggests --encoder use-lite, which then routes it', async () => {
    const env = { ...process.env, OPENAI_API_KEY: '' };
    const failing = await run(
      process.execPath,
      [BIN, 'route', 'routes/litellm-example.json', 'how to code in rust'],
      {
        env,
      },
    ).catch((e: { code: number; stderr: string }) => e);
    expect((failing as { code: number }).code).toBe(1);
    const stderr = (failing as { stderr: string }).stderr;
    expect(stderr).toContain('SEMROUTE_ENCODER_NO_KEY');
    expect(stderr).toContain('--encoder use-lite');
    const local = await semroute(
      'route',
      'routes/litellm-example.json',
      '--encoder',
      'use-lite',
      '--json',
      'how to code a program in Rust',
    );
    expect(local.code).toBe(0);
    expect(JSON.parse(local.stdout).route).toBe('litellm-claude-35');
  });

  it('an unknown encoder_type names the file, the JSON path and the encoders there are', async () => {
    const cohere = path.join(tmp.dir, 'aurelio.json');
    await writeFile(
      cohere,
      JSON.stringify({
        encoder_type: 'cohere',
        encoder_name: 'embed-english-v3.0',
        routes: [{ name: 'a', utterances: ['hi'] }],
      }),
    );
    const { code, stderr } = await semroute('route', cohere, 'hello');
    expect(code).toBe(1);
    expect(stderr).toContain('SEMROUTE_ENCODER_UNKNOWN');
    expect(stderr).toContain(cohere);
    expect(stderr).toContain('encoder_type');
    for (const type of ['use-lite', 'onnx', 'openai']) expect(stderr).toContain(type);
  });
});
