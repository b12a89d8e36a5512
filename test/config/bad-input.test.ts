import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SemrouteError } from '../../src/errors.js';
import { loadProxyConfig } from '../../src/config/proxy-config.js';
import { EncoderPool } from '../../src/embeddings/pool.js';
import { Gateway } from '../../src/gateway/gateway.js';
import { SemanticRouter } from '../../src/semantic/semantic-router.js';
import { ProxyRuntime } from '../../src/server/runtime.js';
import { tempDir } from '../helpers/encoder.js';

const DIR = path.resolve('test/fixtures/bad-input');
const manifest = JSON.parse(await readFile(path.join(DIR, 'manifest.json'), 'utf8')) as {
  router: Array<{ file: string; code: string; path: string | null }>;
  config: Array<{ file: string; code: string; path: string | null }>;
};

async function failure(run: () => Promise<unknown>): Promise<SemrouteError> {
  try {
    await run();
  } catch (error) {
    if (error instanceof SemrouteError) return error;
    throw new Error(`not a SemrouteError: ${(error as Error)?.stack ?? String(error)}`);
  }
  throw new Error('expected a failure');
}

/** What the proxy does with a config file: validate it, then build the gateway (strategies, auto routers). */
async function build(file: string): Promise<void> {
  const config = await loadProxyConfig(file);
  const router = await Gateway.create(config.gateway, {
    baseDir: config.baseDir,
    encoders: new EncoderPool(),
  });
  await router.close();
}

describe('bad-input corpus', () => {
  it('has at least 30 files', () => {
    expect(manifest.router.length + manifest.config.length).toBeGreaterThanOrEqual(30);
  });

  it.each(manifest.router)('router.json $file → $code at $path', async ({ file, code, path: at }) => {
    // What the library does with the file: load, validate and check it before any model loads.
    const error = await failure(() => SemanticRouter.fromFile(path.join(DIR, file), { cacheDir: false }));
    expect(error.code).toBe(code);
    expect(error.file).toBe(path.join(DIR, file));
    if (at !== null) expect(error.path).toBe(at);
    expect(error.message).toContain(file);
  });

  it.each(manifest.config)('config.yaml $file → $code at $path', async ({ file, code, path: at }) => {
    const error = await failure(() => build(path.join(DIR, file)));
    expect(error.code).toBe(code);
    if (at !== null) expect(error.path).toBe(at);
    expect(error.message.length).toBeGreaterThan(10);
  });

  it('refuses a huge config file by size, without reading it into the parser', async () => {
    const tmp = await tempDir();
    try {
      const file = path.join(tmp.dir, 'huge.yaml');
      await writeFile(file, `# ${'x'.repeat(17 * 1024 * 1024)}\n`);
      expect((await failure(() => build(file))).code).toBe('SEMROUTE_FILE_READ');
    } finally {
      await tmp.cleanup();
    }
  });
});

describe('hot reload with bad files', () => {
  let tmp: { dir: string; cleanup: () => Promise<void> };
  let runtime: ProxyRuntime;
  const logged: string[] = [];
  const good = `model_list:\n  - model_name: good\n    litellm_params: { model: openai/x, api_base: http://127.0.0.1:9/v1, api_key: k }\n`;

  beforeAll(async () => {
    tmp = await tempDir();
    await writeFile(path.join(tmp.dir, 'config.yaml'), good);
    const logger = { info: () => {}, warn: () => {}, error: (o: object) => logged.push(JSON.stringify(o)) };
    runtime = await ProxyRuntime.start({
      file: path.join(tmp.dir, 'config.yaml'),
      logger,
      encoders: new EncoderPool(),
    });
  });
  afterAll(async () => {
    await runtime.close();
    await tmp.cleanup();
  });

  it('keeps serving the previous config for every bad config in the corpus', async () => {
    const serving = runtime.serving;
    for (const { file } of manifest.config) {
      await writeFile(path.join(tmp.dir, 'config.yaml'), await readFile(path.join(DIR, file)));
      expect(await runtime.reload(`test ${file}`)).toBe(false);
      expect(runtime.serving).toBe(serving);
      expect(runtime.serving.gateway.listModels().map((m) => m.id)).toContain('good');
    }
    expect(logged).toHaveLength(manifest.config.length);
    await writeFile(path.join(tmp.dir, 'config.yaml'), good.replace('good', 'better'));
    expect(await runtime.reload('fixed')).toBe(true);
    expect(runtime.serving.gateway.listModels().map((m) => m.id)).toContain('better');
  });
});
