/**
 * A newcomer's first hour (issue #29), done as they did it: configs with the mistakes a first
 * config has, started, reloaded, saved on the route page and tried; OpenRouter's request fields
 * sent the way its docs and SDKs send them. Every answer must say what is wrong and where.
 */
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorCode } from '../../src/errors.js';
import { type FakeUpstream, startFakeUpstream } from '../../src/fake-upstream/fake-upstream.js';
import { serve } from '../../src/server/serve.js';
import { tempDir } from '../helpers/encoder.js';

const MASTER = 'sk-newcomer-master-0000';
const silent = { level: 'silent' } as never;
let up: FakeUpstream;
let dir: { dir: string; cleanup: () => Promise<void> };

beforeAll(async () => {
  [up, dir] = await Promise.all([startFakeUpstream({ anthropic: true }), tempDir()]);
});
afterAll(async () => {
  await up?.close();
  await dir?.cleanup();
});

const ROUTES = {
  routes: [
    { name: 'coding', utterances: ['how to code a program in python', 'fix this bug in my code'] },
    { name: 'chitchat', utterances: ['hello, how are you', 'good morning to you'] },
  ],
};

const group = (name: string, extra = '') =>
  `  - model_name: ${name}
    litellm_params: { model: openai/${name}, api_base: ${up.url}, api_key: sk-up }${extra}`;

/** A config with an auto_router over `routes.json`, its default `general` unless given. */
async function writeConfig(name: string, groups: string[], routerParams = '', rest = ''): Promise<string> {
  const file = path.join(dir.dir, `${name}.yaml`);
  await writeFile(
    file,
    `model_list:
${groups.join('\n')}
  - model_name: router
    litellm_params: { model: auto_router/auto_router_1, auto_router_config_path: ${name}-routes.json${routerParams} }
general_settings:
  master_key: ${MASTER}
${rest}`,
  );
  await writeFile(path.join(dir.dir, `${name}-routes.json`), JSON.stringify(ROUTES, null, 2));
  return file;
}

const start = (config: string) => serve({ config, port: 0, signals: false, watch: false, logger: silent });

async function startError(config: string): Promise<{ code: string; message: string; file?: string }> {
  const error = await start(config).then(
    async (s) => {
      await s.close();
      throw new Error('the proxy started');
    },
    (e: unknown) => e as { code: string; message: string; file?: string },
  );
  return error;
}

interface ErrorBody {
  error: { message: string };
}
interface CostQuality {
  tradeoff: number;
  chosen: string;
  cause: string;
  candidates: Array<{ model: string; quality: number; tradeoff_score: number; input_cost_per_token: number }>;
}

const authed = { authorization: `Bearer ${MASTER}`, 'content-type': 'application/json' };

describe('1-2. a route or default model naming no model_list group', () => {
  it('refuses to start on a route named after no group, naming the route and the groups there are', async () => {
    const config = await writeConfig(
      'no-group',
      [group('general'), group('coding')],
      ', auto_router_default_model: general',
    );
    const error = await startError(config);
    expect(error.code).toBe(ErrorCode.CONFIG_INVALID);
    expect(error.message).toContain('"chitchat"');
    expect(error.message).toMatch(/groups: .*general.*coding/);
  });

  it('refuses to start on an auto_router_default_model naming no group (LiteLLM example: gpt-4o-mini)', async () => {
    const config = await writeConfig(
      'no-default',
      [group('general'), group('coding'), group('chitchat')],
      ', auto_router_default_model: gpt-4o-mini',
    );
    const error = await startError(config);
    expect(error.code).toBe(ErrorCode.CONFIG_INVALID);
    expect(error.message).toContain('auto_router_default_model "gpt-4o-mini"');
    expect(error.message).toContain('general');
  });

  it('keeps serving when a reload, a route page Save or a Try names a route no group serves', async () => {
    const config = await writeConfig(
      'reload',
      [group('general'), group('coding'), group('chitchat')],
      ', auto_router_default_model: general',
    );
    const server = await start(config);
    try {
      const routesFile = path.join(dir.dir, 'reload-routes.json');
      const jokes = { routes: [...ROUTES.routes, { name: 'jokes', utterances: ['tell me a joke'] }] };
      // Reload from the file.
      const before = await readFile(routesFile, 'utf8');
      await writeFile(routesFile, JSON.stringify(jokes));
      expect(await server.runtime.reload('test')).toBe(false);
      expect((server.runtime.lastReloadError as Error).message).toContain('"jokes"');
      await writeFile(routesFile, before);
      expect(await server.runtime.reload('test')).toBe(true);
      // Save on the route page: refused, the file left as it was.
      const save = await fetch(`${server.url}/ui/api/routers/router`, {
        method: 'PUT',
        headers: authed,
        body: JSON.stringify({ config: jokes }),
      });
      expect(save.status).toBe(400);
      expect(JSON.stringify(await save.json())).toContain('jokes');
      expect(await readFile(routesFile, 'utf8')).toBe(before);
      // Try with the unsaved edit: refused the same way.
      const tried = await fetch(`${server.url}/ui/api/try`, {
        method: 'POST',
        headers: authed,
        body: JSON.stringify({ model: 'router', config: jokes, prompt: 'tell me a joke' }),
      });
      expect(tried.status).toBe(400);
      expect(JSON.stringify(await tried.json())).toContain('jokes');
      // A Try of the saved router is no routed request: Recent decisions stays empty.
      const ok = await fetch(`${server.url}/ui/api/try`, {
        method: 'POST',
        headers: authed,
        body: JSON.stringify({ model: 'router', prompt: 'fix this bug in my code' }),
      });
      expect(ok.status).toBe(200);
      expect(((await ok.json()) as { route: string }).route).toBe('coding');
      const recent = await fetch(`${server.url}/ui/api/decisions`, { headers: authed });
      expect(((await recent.json()) as { recent: unknown[] }).recent).toEqual([]);
    } finally {
      await server.close();
    }
  });
});

describe('3. an embedding group whose key variable is unset', () => {
  it('refuses with the no-key error and the use-lite hint, and calls nothing', async () => {
    const before = up.attempts;
    const config = await writeConfig(
      'no-key',
      [
        group('general'),
        group('coding'),
        group('chitchat'),
        `  - model_name: embedder
    litellm_params: { model: openai/text-embedding-3-large, api_key: os.environ/SEMROUTE_TEST_UNSET_KEY }`,
      ],
      ', auto_router_default_model: general, auto_router_embedding_model: embedder',
    );
    const error = await startError(config);
    expect(error.code).toBe(ErrorCode.ENCODER_NO_KEY);
    expect(error.message).toContain('SEMROUTE_TEST_UNSET_KEY');
    expect(error.message).toContain('auto_router_embedding_model: use-lite');
    expect(up.attempts).toBe(before);
  });
});

describe('4. an Anthropic deployment on `semroute fake-upstream`', () => {
  it("is served by the fake's Messages API; a server without it gets a hint naming the path", async () => {
    const bare = await startFakeUpstream();
    const file = path.join(dir.dir, 'anthropic.yaml');
    await writeFile(
      file,
      `model_list:
  - model_name: claude
    litellm_params: { model: anthropic/claude-fake, api_base: ${up.url}, api_key: sk-ant-x }
  - model_name: claude-nowhere
    litellm_params: { model: anthropic/claude-fake, api_base: ${bare.url}, api_key: sk-ant-x }
router_settings: { num_retries: 0 }
general_settings: { master_key: ${MASTER} }
`,
    );
    const server = await start(file);
    try {
      const client = new OpenAI({ apiKey: MASTER, baseURL: `${server.url}/v1`, maxRetries: 0 });
      const answer = await client.chat.completions.create({
        model: 'claude',
        messages: [{ role: 'user', content: 'hello there' }],
      });
      expect(answer.choices[0]?.message.content).toContain('hello there');
      const error = await client.chat.completions
        .create({ model: 'claude-nowhere', messages: [{ role: 'user', content: 'hello' }] })
        .then(
          () => undefined,
          (e: unknown) => e as { status: number; message: string },
        );
      expect(error?.message).toContain(`has no POST ${new URL(bare.url).origin}/v1/messages`);
      expect(error?.message).not.toContain('check that the upstream serves this model name');
    } finally {
      await server.close();
      await bare.close();
    }
  });
});

describe("5-7. OpenRouter's request fields", () => {
  let slow: FakeUpstream;
  let server: Awaited<ReturnType<typeof serve>>;
  let client: OpenAI;

  beforeAll(async () => {
    slow = await startFakeUpstream();
    slow.behave({ latencyMs: 120 });
    const file = path.join(dir.dir, 'openrouter.yaml');
    const deployment = (id: string, base: string, price: number) => `
    litellm_params: { model: openai/gpt-4o-mini, api_base: ${base}, api_key: sk-up }
    model_info: { id: ${id}, input_cost_per_token: ${price}, output_cost_per_token: ${price * 4} }`;
    await writeFile(
      file,
      `model_list:
  # One model, two providers: a cheap slow one and a dear fast one.
  - model_name: chat${deployment('cheap-slow', slow.url, 0.0000001)}
  - model_name: chat${deployment('dear-fast', up.url, 0.000002)}
  - model_name: small
    litellm_params: { model: openai/gpt-4o-mini, api_base: ${slow.url}, api_key: sk-up }
    model_info: { id: small-1, input_cost_per_token: 0.0000001, output_cost_per_token: 0.0000004, quality: 0.5 }
  - model_name: large
    litellm_params: { model: openai/gpt-4.1, api_base: ${up.url}, api_key: sk-up }
    model_info: { id: large-1, input_cost_per_token: 0.000002, output_cost_per_token: 0.000008, quality: 0.9 }
  - model_name: broken
    litellm_params: { model: openai/broken, api_base: http://127.0.0.1:9, api_key: sk-up }
router_settings:
  num_retries: 0
  fallbacks: [{ broken: [large] }]
general_settings: { master_key: ${MASTER} }
`,
    );
    server = await start(file);
    client = new OpenAI({ apiKey: MASTER, baseURL: `${server.url}/v1`, maxRetries: 0 });
    // Measured calls on both deployments, so latency and throughput are known.
    for (const id of ['cheap-slow', 'dear-fast', 'cheap-slow', 'dear-fast'])
      await raw({
        model: 'chat',
        messages: [{ role: 'user', content: 'warm up' }],
        provider: { order: [id] },
      });
  }, 60_000);
  afterAll(async () => {
    await server?.close();
    await slow?.close();
  });

  async function raw(
    body: Record<string, unknown>,
  ): Promise<{ status: number; headers: Headers; data: ErrorBody }> {
    const r = await fetch(`${server.url}/v1/chat/completions`, {
      method: 'POST',
      headers: authed,
      body: JSON.stringify(body),
    });
    return { status: r.status, headers: r.headers, data: (await r.json()) as ErrorBody };
  }
  const ask = (extra: Record<string, unknown>) =>
    raw({ model: 'chat', messages: [{ role: 'user', content: 'hi' }], ...extra });
  const served = (r: { headers: Headers }) => r.headers.get('x-semroute-model-id');

  it('provider.sort: price picks the cheap provider, latency and throughput the fast one', async () => {
    expect(served(await ask({ provider: { sort: 'price' } }))).toBe('cheap-slow');
    expect(served(await ask({ provider: { sort: 'latency' } }))).toBe('dear-fast');
    expect(served(await ask({ provider: { sort: 'throughput' } }))).toBe('dear-fast');
    // OpenRouter's object form.
    expect(served(await ask({ provider: { sort: { by: 'price' } } }))).toBe('cheap-slow');
  });

  it('an invalid provider value is a 400 naming it', async () => {
    const bogus = await ask({ provider: { sort: 'fastest' } });
    expect(bogus.status).toBe(400);
    expect(bogus.data.error.message).toContain('provider.sort');
    const flag = await ask({ provider: { allow_fallbacks: 'no' } });
    expect(flag.status).toBe(400);
    expect(flag.data.error.message).toContain('provider.allow_fallbacks');
  });

  it('provider.only, ignore and order choose among the deployments; none left is a 400', async () => {
    for (let i = 0; i < 3; i++) {
      expect(served(await ask({ provider: { only: ['dear-fast'] } }))).toBe('dear-fast');
      expect(served(await ask({ provider: { ignore: ['dear-fast'] } }))).toBe('cheap-slow');
      expect(served(await ask({ provider: { order: ['cheap-slow', 'dear-fast'] } }))).toBe('cheap-slow');
    }
    const none = await ask({ provider: { only: ['nobody'] } });
    expect(none.status).toBe(400);
    expect(none.data.error.message).toContain('provider.only');
  });

  it('provider.allow_fallbacks: false keeps a failing group from its fallbacks', async () => {
    const body = { model: 'broken', messages: [{ role: 'user', content: 'hi' }] };
    const fallen = await raw(body);
    expect(fallen.status).toBe(200);
    expect(fallen.headers.get('x-semroute-model')).toBe('large');
    const kept = await raw({ ...body, provider: { allow_fallbacks: false } });
    expect(kept.status).toBeGreaterThanOrEqual(500);
  });

  it('the SDK way (extra_body) and a literal "extra_body" in raw JSON both narrow auto\'s pool', async () => {
    const sdk = await client.chat.completions
      .create({ model: 'auto', messages: [{ role: 'user', content: 'hi' }] }, {
        body: { model: 'auto', messages: [{ role: 'user', content: 'hi' }], models: ['small'] },
      } as never)
      .withResponse();
    expect(sdk.response.headers.get('x-semroute-model')).toBe('small');
    const literal = await raw({
      model: 'auto',
      messages: [{ role: 'user', content: 'hi' }],
      extra_body: { models: ['large'] },
    });
    expect(literal.status).toBe(200);
    expect(literal.headers.get('x-semroute-model')).toBe('large');
    // Nothing of OpenRouter's reached the upstream.
    const sent = up.requests.at(-1)!.body as Record<string, unknown>;
    expect(sent.models).toBeUndefined();
    expect(sent.extra_body).toBeUndefined();
  });

  it('`models` beside a named model is its fallback list', async () => {
    const r = await raw({ model: 'broken', messages: [{ role: 'user', content: 'hi' }], models: ['small'] });
    expect(r.status).toBe(200);
    expect(r.headers.get('x-semroute-model')).toBe('small');
    const unknown = await raw({
      model: 'broken',
      messages: [{ role: 'user', content: 'hi' }],
      models: ['nope'],
    });
    expect(unknown.status).toBe(400);
    expect(unknown.data.error.message).toContain('models[0]');
  });

  it("POST /v1/route for auto shows the pool, each candidate's quality, cost and score, and the tradeoff", async () => {
    const r = await fetch(`${server.url}/v1/route`, {
      method: 'POST',
      headers: authed,
      body: JSON.stringify({
        model: 'auto',
        models: ['small', 'large'],
        messages: [{ role: 'user', content: 'hi' }],
      }),
    });
    expect(r.status).toBe(200);
    const body = (await r.json()) as { model: string; cost_quality: CostQuality };
    const cq = body.cost_quality;
    expect(cq.tradeoff).toBeTypeOf('number');
    expect(cq.candidates.map((c: { model: string }) => c.model).sort()).toEqual(['large', 'small']);
    for (const c of cq.candidates) {
      expect(c.quality).toBeTypeOf('number');
      expect(c.tradeoff_score).toBeTypeOf('number');
      expect(c.input_cost_per_token).toBeTypeOf('number');
    }
    expect(cq.chosen).toBe(body.model);
    const best = [...cq.candidates].sort((a, b) => b.tradeoff_score - a.tradeoff_score)[0];
    // The one chosen is the best scored, or the prompt's difficulty moved it (cause says which).
    expect(cq.chosen === best?.model || cq.cause !== 'tradeoff').toBe(true);
  });
});

describe('11. small ones', () => {
  it('routing_strategy "simple-shufle" names the file and the valid values', async () => {
    const file = await writeConfig(
      'strategy',
      [group('general'), group('coding'), group('chitchat')],
      ', auto_router_default_model: general',
      'router_settings: { routing_strategy: simple-shufle }\n',
    );
    const error = await startError(file);
    expect(error.message).toContain('strategy.yaml');
    expect(error.message).toContain('"simple-shufle"');
    expect(error.message).toContain('simple-shuffle');
    expect(error.message).toContain('least-busy');
  });

  it('a model_lst typo says which key it saw and suggests model_list', async () => {
    const file = path.join(dir.dir, 'typo.yaml');
    await writeFile(file, `model_lst:\n${group('general')}\n`);
    const error = await startError(file);
    expect(error.message).toContain('"model_lst"');
    expect(error.message).toContain('did you mean model_list');
  });

  it('the "scoring: not set" warning is said once, not at every reload', async () => {
    const config = await writeConfig(
      'warn-once',
      [group('general'), group('coding'), group('chitchat')],
      ', auto_router_default_model: general',
    );
    await writeFile(
      path.join(dir.dir, 'warn-once-routes.json'),
      JSON.stringify({ ...ROUTES, score_threshold: 0.5 }),
    );
    const said: string[] = [];
    const stream = { write: (line: string) => void said.push((JSON.parse(line) as { msg: string }).msg) };
    const server = await serve({
      config,
      port: 0,
      signals: false,
      watch: false,
      logger: { level: 'warn', stream },
    });
    try {
      const scoring = () => said.filter((m) => m.includes('scoring: not set')).length;
      expect(scoring()).toBe(1);
      expect(await server.runtime.reload('test')).toBe(true);
      expect(await server.runtime.reload('test')).toBe(true);
      expect(scoring()).toBe(1);
    } finally {
      await server.close();
    }
  });
});
