/**
 * One encoder rule, the same for the library, the CLI and the proxy: what router.json asks for,
 * unless the config names auto_router_embedding_model (LiteLLM's rule). Never a silent swap.
 */
import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Writable } from 'node:stream';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorCode } from '../../../src/errors.js';
import { type FakeUpstream, startFakeUpstream } from '../../../src/fake-upstream/fake-upstream.js';
import { Gateway } from '../../../src/gateway/gateway.js';
import { SemanticRouter } from '../../../src/semantic/semantic-router.js';
import { serve } from '../../../src/server/serve.js';
import { tempDir, useLitePool } from '../../helpers/encoder.js';
import { tiedEnv } from '../../helpers/tied.js';

const run = promisify(execFile);
let upstream: FakeUpstream;
let tmp: { dir: string; cleanup: () => Promise<void> };
let openaiRouter: string;
const routes = [
  { name: 'coding', utterances: ['fix this bug in my code', 'write a function'] },
  { name: 'chat', utterances: ['hello there', 'tell me a joke'] },
];

beforeAll(async () => {
  upstream = await startFakeUpstream();
  tmp = await tempDir();
  openaiRouter = path.join(tmp.dir, 'openai-router.json');
  await writeFile(
    openaiRouter,
    JSON.stringify({
      encoder_type: 'openai',
      encoder_name: 'text-embedding-3-small',
      encoder_options: { api_key: 'sk-embed', base_url: upstream.url },
      routes,
    }),
  );
});
afterAll(async () => {
  await upstream?.close();
  await tmp?.cleanup();
});

const entry = (extra: Record<string, unknown> = {}) => ({
  model_name: 'router1',
  litellm_params: {
    model: 'auto_router/r',
    auto_router_config_path: openaiRouter,
    auto_router_default_model: 'coding',
    ...extra,
  },
});
/** The groups the routes name, served by the fake upstream. */
const groups = () => [
  { model_name: 'coding', litellm_params: { model: 'openai/m', api_base: upstream.url } },
  { model_name: 'chat', litellm_params: { model: 'openai/m', api_base: upstream.url } },
];

describe('the encoder a semantic router uses', () => {
  it("is router.json's, in the library, the gateway and the CLI alike", async () => {
    const library = await SemanticRouter.fromFile(openaiRouter, { cacheDir: false });
    expect(library.encoder.id).toMatch(/^openai:text-embedding-3-small via 127\.0\.0\.1:\d+$/);
    await library.close();
    const gateway = await Gateway.create(
      {
        model_list: [...groups(), entry()],
      },
      { encoders: await useLitePool() },
    );
    expect(gateway.semanticRouters()).toEqual([
      expect.objectContaining({
        model: 'router1',
        encoder: expect.stringMatching(/^openai:text-embedding-3-small via 127.0.0.1:/),
        source: 'router.json',
      }),
    ]);
    await gateway.close();
    const before = upstream.requests.filter((r) => r.url.endsWith('/embeddings')).length;
    const cli = await run(
      process.execPath,
      [path.resolve('bin/semroute.js'), 'route', openaiRouter, '--json', 'fix my code'],
      {
        env: tiedEnv({ ...process.env, SEMROUTE_CACHE_DIR: path.join(tmp.dir, 'cache') }),
      },
    );
    expect(JSON.parse(cli.stdout).candidates.length).toBeGreaterThan(0);
    expect(upstream.requests.filter((r) => r.url.endsWith('/embeddings')).length).toBeGreaterThan(before);
  });

  it("is the config's auto_router_embedding_model when it names one: a group, or the local model said by name", async () => {
    const withGroup = await Gateway.create(
      {
        model_list: [
          ...groups(),
          {
            model_name: 'embedder',
            litellm_params: {
              model: 'openai/text-embedding-3-large',
              api_base: upstream.url,
              api_key: 'sk-e',
            },
            model_info: { mode: 'embedding' },
          },
          entry({ auto_router_embedding_model: 'embedder' }),
        ],
      },
      { encoders: await useLitePool() },
    );
    expect(withGroup.semanticRouters()[0]).toMatchObject({
      encoder: expect.stringMatching(/^openai:text-embedding-3-large via 127.0.0.1:/),
      source: 'auto_router_embedding_model',
    });
    await withGroup.close();
    const local = await Gateway.create(
      {
        model_list: [...groups(), entry({ auto_router_embedding_model: 'use-lite' })],
      },
      { encoders: await useLitePool() },
    );
    expect(local.semanticRouters()[0]).toMatchObject({
      encoder: expect.stringMatching(/^use-lite-int8@/),
      source: 'auto_router_embedding_model',
    });
    await local.close();
  });

  it('refuses to start, naming the entry, when it cannot have the encoder (no key)', async () => {
    const noKey = path.join(tmp.dir, 'no-key.json');
    await writeFile(noKey, JSON.stringify({ encoder_type: 'openai', routes }));
    const saved = process.env.OPENAI_API_KEY;
    delete process.env.OPENAI_API_KEY;
    try {
      const error = await Gateway.create(
        {
          model_list: [...groups(), entry({ auto_router_config_path: noKey })],
        },
        { encoders: await useLitePool() },
      ).catch((e: unknown) => e);
      expect(error).toMatchObject({ code: ErrorCode.ENCODER_NO_KEY });
      expect((error as Error).message).toContain('model_list entry "router1"');
      expect((error as Error).message).toContain(noKey);
    } finally {
      if (saved !== undefined) process.env.OPENAI_API_KEY = saved;
    }
  });

  it('is said in the proxy log, per semantic router, at start', async () => {
    const config = path.join(tmp.dir, 'config.yaml');
    await writeFile(
      config,
      `model_list:
  - model_name: coding
    litellm_params: { model: openai/m, api_base: ${upstream.url} }
  - model_name: chat
    litellm_params: { model: openai/m, api_base: ${upstream.url} }
  - model_name: router1
    litellm_params: { model: auto_router/r, auto_router_config_path: ${openaiRouter}, auto_router_default_model: coding }
`,
    );
    const lines: Array<Record<string, unknown>> = [];
    const sink = new Writable({
      write(chunk, _enc, done) {
        for (const line of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(line));
        done();
      },
    });
    const server = await serve({
      config,
      port: 0,
      signals: false,
      watch: false,
      logger: { level: 'info', stream: sink },
    });
    try {
      const said = lines.find((l) => l.model === 'router1' && l.encoder !== undefined);
      expect(said).toMatchObject({
        encoder: expect.stringMatching(/^openai:text-embedding-3-small via 127.0.0.1:/),
        chosen_by: 'router.json',
      });
    } finally {
      await server.close();
    }
  });
});
