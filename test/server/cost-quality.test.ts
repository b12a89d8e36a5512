/**
 * Cost-quality routing through a running proxy, driven with the official openai client: LiteLLM's
 * documented complexity_router config as it is (tiers to groups on a fake upstream), semroute's
 * difficulty classifier, prompt-aware `auto`, and the cost and savings every answer reports.
 */
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FakeUpstream, startFakeUpstream } from '../../src/fake-upstream/fake-upstream.js';
import { serve } from '../../src/server/serve.js';
import { tempDir } from '../helpers/encoder.js';

const MASTER = 'sk-cost-quality-master-000';
let up: FakeUpstream;
let backup: FakeUpstream;
let server: Awaited<ReturnType<typeof serve>>;
let dir: { dir: string; cleanup: () => Promise<void> };

const group = (name: string, upstream: () => FakeUpstream, price: number, extra = '') =>
  `  - model_name: ${name}
    litellm_params: { model: openai/${name}, api_base: ${upstream().url}, api_key: sk-up${extra} }
    model_info: { id: ${name}-1, input_cost_per_token: ${price}, output_cost_per_token: ${price * 4} }`;

const HARD = `Refactor this 500-line TypeScript module into smaller functions. ${'It parses a configuration file, validates every field against a schema, resolves environment references, and reports every error with the file, the path and what was expected. '.repeat(6)}Keep the public API unchanged and explain each step.`;

beforeAll(async () => {
  [up, backup, dir] = await Promise.all([startFakeUpstream(), startFakeUpstream(), tempDir()]);
  const config = path.join(dir.dir, 'config.yaml');
  await writeFile(
    config,
    `
model_list:
${group('gpt-4o-mini', () => up, 0.00000015)}
${group('gpt-4o', () => up, 0.0000025)}
${group('claude-sonnet', () => up, 0.000003, ', tags: [eu]')}
${group('o1-preview', () => up, 0.000015)}
${group('backup-model', () => backup, 0.000001)}
  # LiteLLM's documented example (docs/proxy/auto_routing.md), unchanged.
  - model_name: smart-router
    litellm_params:
      model: auto_router/complexity_router
      complexity_router_config:
        tiers:
          SIMPLE: gpt-4o-mini
          MEDIUM: gpt-4o
          COMPLEX: claude-sonnet
          REASONING: { model_name: o1-preview, litellm_params: { reasoning_effort: high } }
      complexity_router_default_model: gpt-4o
  - model_name: difficulty-router
    litellm_params:
      model: auto_router/complexity_router
      complexity_router_config:
        classifier_type: semroute
        difficulty_model: default
        tiers: { SIMPLE: gpt-4o-mini, COMPLEX: o1-preview }
router_settings:
  num_retries: 0
  fallbacks: [{ o1-preview: [backup-model] }, { smart-router: [gpt-4o] }]
general_settings:
  master_key: ${MASTER}
`,
  );
  server = await serve({ config, port: 0, signals: false, watch: false, logger: false });
}, 60_000);

afterAll(async () => {
  await server?.close();
  await Promise.all([up?.close(), backup?.close()]);
  await dir?.cleanup();
});

const client = () => new OpenAI({ apiKey: MASTER, baseURL: `${server.url}/v1`, maxRetries: 0 });
const ask = (model: string, content: string) =>
  client()
    .chat.completions.create({ model, messages: [{ role: 'user', content }] })
    .withResponse();

describe("LiteLLM's complexity_router, as documented", () => {
  it('sends "What is 2+2?" to SIMPLE and a distributed-systems design to COMPLEX, saying so in headers', async () => {
    const simple = await ask('smart-router', 'What is 2+2?');
    expect(simple.data.model).toBe('gpt-4o-mini');
    expect(simple.response.headers.get('x-semroute-tier')).toBe('SIMPLE');
    expect(simple.response.headers.get('x-litellm-complexity-router-tier')).toBe('SIMPLE');
    expect(simple.response.headers.get('x-litellm-complexity-router-cause')).toBe('heuristic_scorer');
    expect(simple.response.headers.get('x-litellm-complexity-router-score')).toBe('-0.15');
    const complex = await ask(
      'smart-router',
      'Design a distributed microservice architecture with Kubernetes orchestration',
    );
    expect(complex.data.model).toBe('claude-sonnet');
    expect(complex.response.headers.get('x-semroute-tier')).toBe('COMPLEX');
  });

  it("reports each answer's cost and what the tier saved against the most severe one", async () => {
    const { response, data } = await ask('smart-router', 'What is 2+2?');
    const cost = Number(response.headers.get('x-semroute-cost-usd'));
    const saved = Number(response.headers.get('x-semroute-saved-usd'));
    const usage = data.usage!;
    expect(cost).toBeCloseTo(usage.prompt_tokens * 0.00000015 + usage.completion_tokens * 0.0000006, 10);
    // The baseline is the REASONING tier's model, o1-preview.
    expect(saved).toBeCloseTo(usage.prompt_tokens * 0.000015 + usage.completion_tokens * 0.00006 - cost, 10);
    const metrics = await (
      await fetch(`${server.url}/metrics`, { headers: { authorization: `Bearer ${MASTER}` } })
    ).text();
    expect(metrics).toMatch(
      /semroute_spend_usd_total\{router="smart-router",tier="SIMPLE",model="gpt-4o-mini",key_alias="master"\} \d/,
    );
    expect(metrics).toMatch(
      /semroute_saved_usd_total\{router="smart-router",tier="SIMPLE",model="gpt-4o-mini"\} \d/,
    );
  });

  it("sends a tier's own litellm_params with it (REASONING's reasoning_effort)", async () => {
    const { data } = await ask(
      'smart-router',
      'Think step by step and reason through this problem carefully and show your work: why does the tide rise?',
    );
    expect(data.model).toBe('o1-preview');
    expect(up.requests.at(-1)!.body).toMatchObject({ reasoning_effort: 'high', model: 'o1-preview' });
  });

  it("falls back along the chosen tier's own list first (LiteLLM #38832), then the router's", async () => {
    up.script([{ status: 500 }]);
    const tier = await ask('smart-router', 'Think step by step and reason through this and show your work.');
    expect(tier.data.model).toBe('backup-model');
    expect(tier.response.headers.get('x-semroute-fallbacks')).toBe('o1-preview');
    // SIMPLE's group has no list of its own: the router's (smart-router → gpt-4o) applies.
    up.script([{ status: 500 }]);
    const router = await ask('smart-router', 'What is 2+2?');
    expect(router.data.model).toBe('gpt-4o');
    expect(router.response.headers.get('x-semroute-fallbacks')).toBe('gpt-4o-mini');
  });
});

describe('semroute difficulty classifier and prompt-aware auto', () => {
  it('classifier_type: semroute sends a short question to SIMPLE and a long refactor to the strong tier', async () => {
    const easy = await ask('difficulty-router', 'What is 2+2?');
    expect(easy.data.model).toBe('gpt-4o-mini');
    const easyDifficulty = Number(easy.response.headers.get('x-semroute-difficulty'));
    const hard = await ask('difficulty-router', HARD);
    expect(hard.data.model).toBe('o1-preview');
    const hardDifficulty = Number(hard.response.headers.get('x-semroute-difficulty'));
    expect(easyDifficulty).toBeLessThan(0.7);
    expect(hardDifficulty).toBeGreaterThanOrEqual(0.7);
  });

  it('auto picks the cheapest candidate for "hi" and the best for a hard prompt, from the same pool', async () => {
    const pool = ['gpt-4o-mini', 'o1-preview'];
    const cheap = await client()
      .chat.completions.create({
        model: 'auto',
        messages: [{ role: 'user', content: 'hi' }],
        models: pool,
      } as never)
      .withResponse();
    expect(cheap.response.headers.get('x-semroute-model')).toBe('gpt-4o-mini');
    const strong = await client()
      .chat.completions.create({
        model: 'auto',
        messages: [{ role: 'user', content: HARD }],
        models: pool,
      } as never)
      .withResponse();
    expect(strong.response.headers.get('x-semroute-model')).toBe('o1-preview');
    expect(Number(strong.response.headers.get('x-semroute-difficulty'))).toBeGreaterThan(
      Number(cheap.response.headers.get('x-semroute-difficulty')),
    );
  });
});

describe('POST /v1/route for cost-quality routers', () => {
  it("explains the tier, difficulty and each candidate's predicted quality and price, calling nothing", async () => {
    const before = up.attempts;
    const res = await fetch(`${server.url}/v1/route`, {
      method: 'POST',
      headers: { authorization: `Bearer ${MASTER}`, 'content-type': 'application/json' },
      // Another prompt than the test above: that one's session is pinned (auto keeps a session on its model).
      body: JSON.stringify({
        model: 'auto',
        models: ['gpt-4o-mini', 'o1-preview'],
        prompt: `${HARD} Add unit tests too.`,
      }),
    });
    const body = (await res.json()) as {
      model: string;
      cost_quality: {
        kind: string;
        difficulty: number;
        threshold: number;
        chosen: string;
        candidates: Array<{ model: string; predicted_quality: number; input_cost_per_token: number }>;
      };
    };
    expect(res.status).toBe(200);
    expect(body.model).toBe('o1-preview');
    expect(body.cost_quality).toMatchObject({ kind: 'auto', chosen: 'o1-preview', threshold: 0.7 });
    expect(body.cost_quality.difficulty).toBeGreaterThanOrEqual(0.7);
    const strong = body.cost_quality.candidates.find((c) => c.model === 'o1-preview')!;
    const weak = body.cost_quality.candidates.find((c) => c.model === 'gpt-4o-mini')!;
    expect(strong.predicted_quality).toBeGreaterThan(weak.predicted_quality);
    expect(strong.input_cost_per_token).toBe(0.000015);
    const tiered = (await (
      await fetch(`${server.url}/v1/route`, {
        method: 'POST',
        headers: { authorization: `Bearer ${MASTER}`, 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'smart-router', prompt: 'What is 2+2?' }),
      })
    ).json()) as { cost_quality: { tier: string; cause: string; score: number; signals: string[] } };
    expect(tiered.cost_quality).toMatchObject({ tier: 'SIMPLE', cause: 'heuristic_scorer' });
    expect(tiered.cost_quality.score).toBeCloseTo(-0.15, 9);
    expect(tiered.cost_quality.signals).toContain('short (3 tokens)');
    expect(up.attempts).toBe(before);
  });
});

describe('complexity routers with tags and names', () => {
  it("routes by tags among the chosen tier's deployments, and refuses two routers under one name (LiteLLM #33655)", async () => {
    const config = path.join(dir.dir, 'tags.yaml');
    await writeFile(
      config,
      `
model_list:
  - { model_name: cheap, litellm_params: { model: openai/cheap-us, api_base: ${up.url}, api_key: k, tags: [us] }, model_info: { id: cheap-us } }
  - { model_name: cheap, litellm_params: { model: openai/cheap-eu, api_base: ${up.url}, api_key: k, tags: [eu] }, model_info: { id: cheap-eu } }
  - { model_name: strong, litellm_params: { model: openai/strong, api_base: ${up.url}, api_key: k } }
  - model_name: tiered
    litellm_params: { model: auto_router/complexity_router, complexity_router_config: { tiers: { SIMPLE: cheap, COMPLEX: strong } } }
router_settings: { enable_tag_filtering: true }
general_settings: { master_key: ${MASTER} }
`,
    );
    const tagged = await serve({ config, port: 0, signals: false, watch: false, logger: false });
    try {
      const res = await fetch(`${tagged.url}/v1/chat/completions`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${MASTER}`,
          'content-type': 'application/json',
          'x-litellm-tags': 'eu',
        },
        body: JSON.stringify({ model: 'tiered', messages: [{ role: 'user', content: 'hi there' }] }),
      });
      expect(res.status).toBe(200);
      expect(res.headers.get('x-semroute-tier')).toBe('SIMPLE');
      expect(res.headers.get('x-semroute-model-id')).toBe('cheap-eu');
    } finally {
      await tagged.close();
    }
    const twice = path.join(dir.dir, 'twice.yaml');
    await writeFile(
      twice,
      `
model_list:
  - { model_name: cheap, litellm_params: { model: openai/cheap, api_base: ${up.url}, api_key: k } }
  - { model_name: r, litellm_params: { model: auto_router/complexity_router, complexity_router_config: { tiers: { SIMPLE: cheap } } } }
  - { model_name: r, litellm_params: { model: auto_router/complexity_router, complexity_router_config: { tiers: { SIMPLE: cheap } } } }
`,
    );
    const error = await serve({ config: twice, port: 0, signals: false, watch: false, logger: false }).catch(
      (e: Error) => e,
    );
    expect((error as Error).message).toContain('a second complexity router named r');
  });
});
