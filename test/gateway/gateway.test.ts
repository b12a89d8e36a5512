import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ErrorCode, type SemrouteError, UpstreamError } from '../../src/errors.js';
import type { GatewayConfigInput } from '../../src/config/gateway-schema.js';
import { Health } from '../../src/gateway/health.js';
import { EncoderPool } from '../../src/embeddings/pool.js';
import { Gateway } from '../../src/gateway/gateway.js';
import type { ChatOutcome, GatewayIO } from '../../src/gateway/types.js';
import { MemoryStateStore } from '../../src/gateway/state/memory.js';
import { type FakeUpstream, startFakeUpstream } from '../../src/fake-upstream/fake-upstream.js';
import { CountingEncoder, tempDir, useLite, useLitePool } from '../helpers/encoder.js';

let a: FakeUpstream;
let b: FakeUpstream;
let c: FakeUpstream;

beforeAll(async () => {
  [a, b, c] = await Promise.all([startFakeUpstream(), startFakeUpstream(), startFakeUpstream()]);
});
afterAll(async () => {
  await Promise.all([a.close(), b.close(), c.close()]);
});
afterEach(() => {
  for (const u of [a, b, c]) u.behave({ failRate: 0, latencyMs: 0 });
});

const deployment = (
  group: string,
  upstream: FakeUpstream,
  extra: Record<string, unknown> = {},
  info: Record<string, unknown> = {},
) => ({
  model_name: group,
  litellm_params: {
    model: `openai/${group}-upstream`,
    api_base: upstream.url,
    api_key: 'sk-upstream-secret',
    ...extra,
  },
  model_info: { id: `${group}@${upstream.url.split(':')[2]!.split('/')[0]}`, ...info },
});

const noSleep: GatewayIO = { sleep: async () => {} };
const ask = (model: string, text = 'hello', extra: Record<string, unknown> = {}) => ({
  model,
  messages: [{ role: 'user', content: text }],
  ...extra,
});

async function collect(outcome: ChatOutcome): Promise<string> {
  if (!outcome.stream) return outcome.response.choices[0]!.message.content ?? '';
  let text = '';
  for await (const chunk of outcome.chunks) text += chunk.choices[0]?.delta?.content ?? '';
  return text;
}

describe('Gateway basics', () => {
  it('serves a group, streamed and not, and says which model and deployment served', async () => {
    const router = await Gateway.create({ model_list: [deployment('gpt-small', a)] }, noSleep);
    const plain = await router.chatCompletion(ask('gpt-small', 'ping'));
    expect(plain.stream).toBe(false);
    expect(plain.model).toBe('gpt-small');
    expect(plain.deploymentId).toMatch(/^gpt-small@/);
    if (!plain.stream) expect(plain.response.model).toBe('gpt-small');
    expect(await collect(plain)).toBe('echo: ping');
    expect((a.requests.at(-1)!.body as { model: string }).model).toBe('gpt-small-upstream');
    expect(a.requests.at(-1)!.headers.authorization).toBe('Bearer sk-upstream-secret');

    const streamed = await router.chatCompletion(ask('gpt-small', 'stream me', { stream: true }));
    expect(streamed.stream).toBe(true);
    if (streamed.stream) {
      const models = new Set<string>();
      let text = '';
      for await (const chunk of streamed.chunks) {
        models.add(chunk.model);
        text += chunk.choices[0]?.delta?.content ?? '';
      }
      expect(text).toBe('echo: stream me');
      expect([...models]).toEqual(['gpt-small']);
    }
    await router.close();
  });

  it('resolves aliases, lists models, and rejects unknown models with MODEL_NOT_FOUND', async () => {
    const router = await Gateway.create(
      {
        model_list: [deployment('prod-gpt', a)],
        model_group_alias: { gpt4: 'prod-gpt', secret: { model: 'prod-gpt', hidden: true } },
      },
      noSleep,
    );
    expect((await router.chatCompletion(ask('gpt4'))).model).toBe('prod-gpt');
    expect((await router.chatCompletion(ask('secret'))).model).toBe('prod-gpt');
    expect(router.listModels().map((m) => m.id)).toEqual(['prod-gpt', 'gpt4', 'auto']);
    await expect(router.chatCompletion(ask('nope'))).rejects.toMatchObject({
      code: ErrorCode.MODEL_NOT_FOUND,
    });
  });

  it('resolves os.environ/ references and names a missing one', async () => {
    process.env.SEMROUTE_TEST_KEY = 'sk-from-env';
    const router = await Gateway.create(
      { model_list: [deployment('g', a, { api_key: 'os.environ/SEMROUTE_TEST_KEY' })] },
      noSleep,
    );
    await router.chatCompletion(ask('g'));
    expect(a.requests.at(-1)!.headers.authorization).toBe('Bearer sk-from-env');
    // An unset variable reads as absent, as in LiteLLM: the deployment starts without a key.
    const keyless = await Gateway.create(
      { model_list: [deployment('g', a, { api_key: 'os.environ/SEMROUTE_MISSING_KEY' })] },
      noSleep,
    );
    await keyless.chatCompletion(ask('g'));
    expect(a.requests.at(-1)!.headers.authorization).toBe('Bearer sk-no-key');
    await keyless.close();
    // Where the value is needed to serve at all, the start fails and names the variable.
    const error = await Gateway.create({
      model_list: [{ model_name: 'g', litellm_params: { model: 'os.environ/SEMROUTE_MISSING_MODEL' } }],
    }).catch((e: unknown) => e);
    expect((error as SemrouteError).code).toBe(ErrorCode.CONFIG_INVALID);
    expect((error as SemrouteError).path).toBe('model_list[0].litellm_params.model');
    expect((error as SemrouteError).message).toContain('SEMROUTE_MISSING_MODEL');
  });

  it('rejects an unknown routing strategy and accepts a custom one', async () => {
    await expect(
      Gateway.create({ model_list: [deployment('g', a)], routing_strategy: 'fastest-please' }),
    ).rejects.toMatchObject({
      code: ErrorCode.CONFIG_INVALID,
    });
    const router = await Gateway.create(
      { model_list: [deployment('g', a), deployment('g', b)], routing_strategy: 'always-last' },
      {
        ...noSleep,
        strategies: {
          'always-last': () => ({
            name: 'always-last',
            needs: {},
            pick: ({ candidates }) => candidates.at(-1),
          }),
        },
      },
    );
    expect((await router.chatCompletion(ask('g'))).deploymentId).toMatch(/^g@/);
    expect((await router.chatCompletion(ask('g'))).deploymentId).toBe(router.deployments('g').at(-1)!.id);
  });
});

describe('reliability', () => {
  it('two deployments, one failing half its calls: 1,000 requests all succeed and the failing one is cooled', async () => {
    a.behave({ failRate: 0.5, seed: 7 });
    const cooled: string[] = [];
    const router = await Gateway.create(
      {
        model_list: [deployment('g', a), deployment('g', b)],
        num_retries: 3,
        allowed_fails: 1,
        cooldown_time: 60,
      },
      { ...noSleep, events: { cooldown: (e) => cooled.push(e.deployment.id) } },
    );
    const before = { a: a.attempts, b: b.attempts };
    const served = new Map<string, number>();
    for (let i = 0; i < 1000; i++) {
      const out = await router.chatCompletion(ask('g', `q${i}`));
      served.set(out.deploymentId, (served.get(out.deploymentId) ?? 0) + 1);
    }
    const [idA, idB] = router.deployments('g').map((d) => d.id) as [string, string];
    expect([...served.values()].reduce((x, y) => x + y, 0)).toBe(1000);
    expect(cooled).toContain(idA);
    expect(cooled).not.toContain(idB);
    // Once cooled (60 s here), the failing deployment gets nothing more.
    expect(served.get(idB)!).toBeGreaterThan(990);
    expect(a.attempts - before.a).toBeLessThan(10);
    expect(b.attempts - before.b).toBe(served.get(idB)!);
  });

  it('retries a 429 after its retry-after-ms, on the same group', async () => {
    const delays: number[] = [];
    const router = await Gateway.create(
      { model_list: [deployment('g', a)], num_retries: 2, disable_cooldowns: true },
      { ...noSleep, events: { retry: (_ctx, _g, _d, _e, ms) => delays.push(ms) } },
    );
    a.script([{ status: 429, headers: { 'retry-after-ms': '1234' } }]);
    const out = await router.chatCompletion(ask('g'));
    expect(out.attempts).toBe(2);
    expect(delays).toEqual([1234]);
  });

  it('follows retry_policy per error kind and never retries a bad request', async () => {
    const router = await Gateway.create(
      {
        model_list: [deployment('g', a)],
        num_retries: 5,
        retry_policy: { InternalServerError: { max_retries: 1 } },
        disable_cooldowns: true,
      },
      noSleep,
    );
    const start = a.attempts;
    a.script([{ status: 500 }, { status: 500 }]);
    const error = await router.chatCompletion(ask('g')).catch((e: unknown) => e);
    expect((error as UpstreamError).kind).toBe('InternalServerError');
    expect(a.attempts - start).toBe(2);
    const start2 = a.attempts;
    a.script([{ status: 400 }]);
    const bad = await router.chatCompletion(ask('g')).catch((e: unknown) => e);
    expect((bad as UpstreamError).kind).toBe('BadRequestError');
    expect((bad as UpstreamError).status).toBe(400);
    expect(a.attempts - start2).toBe(1);
  });

  it('falls back to the next group, cools the failed one, and says which model served', async () => {
    a.behave({ failRate: 1 });
    const router = await Gateway.create(
      {
        model_list: [deployment('primary', a), deployment('backup', b)],
        num_retries: 1,
        allowed_fails: 0,
        fallbacks: [{ primary: ['backup'] }],
      },
      noSleep,
    );
    const out = await router.chatCompletion(ask('primary', 'save me'));
    expect(out.model).toBe('backup');
    expect(out.fallbacksTried).toEqual(['primary']);
    expect(await collect(out)).toBe('echo: save me');
    // The primary is now cooling: the next request goes straight to the backup.
    const before = a.attempts;
    expect((await router.chatCompletion(ask('primary'))).model).toBe('backup');
    expect(a.attempts).toBe(before);
  });

  it('cools deployments that fail as fallbacks too (LiteLLM #31876)', async () => {
    a.behave({ failRate: 1 });
    b.behave({ failRate: 1 });
    const cooled: string[] = [];
    const router = await Gateway.create(
      {
        model_list: [deployment('one', a), deployment('two', b), deployment('three', c)],
        num_retries: 0,
        allowed_fails: 0,
        default_fallbacks: ['two', 'three'],
      },
      { ...noSleep, events: { cooldown: (e) => cooled.push(e.deployment.group) } },
    );
    const out = await router.chatCompletion(ask('one'));
    expect(out.model).toBe('three');
    expect(cooled).toEqual(['one', 'two']);
  });

  it('moves on context-length errors to context_window_fallbacks, also before the call when max_input_tokens is known', async () => {
    const router = await Gateway.create(
      {
        model_list: [deployment('small', a, {}, { max_input_tokens: 50 }), deployment('large', b)],
        context_window_fallbacks: [{ small: ['large'] }],
        fallbacks: [{ small: ['nowhere'] }],
      },
      noSleep,
    );
    const before = a.attempts;
    const long = await router.chatCompletion(ask('small', 'x'.repeat(1000)));
    expect(long.model).toBe('large');
    expect(a.attempts).toBe(before);
    a.script([{ contextLength: true }]);
    const short = await router.chatCompletion(ask('small', 'short but upstream says too long'));
    expect(short.model).toBe('large');
    expect(short.attempts).toBe(2);
  });

  it('moves on content-policy errors to content_policy_fallbacks, and retries a connection reset', async () => {
    const router = await Gateway.create(
      {
        model_list: [deployment('strict', a), deployment('lenient', b)],
        content_policy_fallbacks: [{ strict: ['lenient'] }],
        disable_cooldowns: true,
      },
      noSleep,
    );
    a.script([
      {
        status: 400,
        body: {
          error: {
            message: 'Flagged by our content policy',
            type: 'invalid_request_error',
            code: 'content_policy_violation',
          },
        },
      },
    ]);
    const out = await router.chatCompletion(ask('strict', 'edgy'));
    expect(out.model).toBe('lenient');
    expect(out.fallbacksTried).toEqual(['strict']);
    a.script([{ reset: true }]);
    const reset = await router.chatCompletion(ask('strict', 'after a reset'));
    expect(reset.model).toBe('strict');
    expect(reset.attempts).toBe(2);
  });

  it('when every deployment cools, says when the first returns; or waits for it when configured', async () => {
    let now = 1_000_000;
    const store = new MemoryStateStore(() => now);
    a.behave({ failRate: 1 });
    const config: GatewayConfigInput = {
      model_list: [deployment('g', a)],
      num_retries: 0,
      allowed_fails: 0,
      cooldown_time: 30,
    };
    const router = await Gateway.create(config, { store, clock: () => now, sleep: async () => {} });
    await expect(router.chatCompletion(ask('g'))).rejects.toBeInstanceOf(UpstreamError);
    const error = await router.chatCompletion(ask('g')).catch((e: unknown) => e);
    expect((error as SemrouteError).code).toBe(ErrorCode.NO_DEPLOYMENT_AVAILABLE);
    expect((error as SemrouteError).message).toContain('returns in 30.0 s');

    a.behave({ failRate: 0 });
    const waiting = await Gateway.create(
      { ...config, wait_for_cooldown_seconds: 60 },
      {
        store,
        clock: () => now,
        sleep: async (ms) => {
          now += ms;
        },
      },
    );
    const out = await waiting.chatCompletion(ask('g'));
    expect(out.model).toBe('g');
    expect(now).toBe(1_030_000);
  });

  it('re-cooling while cooling pushes the deadline later (LiteLLM #40130)', async () => {
    let now = 0;
    const store = new MemoryStateStore(() => now);
    const router = await Gateway.create({
      model_list: [deployment('g', a)],
      cooldown_time: 10,
      allowed_fails: 0,
    });
    const health = new Health(router.config, store, () => now);
    const d = router.deployments('g')[0]!;
    expect(await health.failed(d, 'RateLimitError', 429)).toBe(10_000);
    now = 6_000;
    expect(await health.failed(d, 'InternalServerError', 500)).toBe(16_000);
    now = 12_000;
    expect((await health.available([d])).healthy).toEqual([]);
    // A bad request is the caller's fault: it never cools a deployment.
    expect(await health.failed(d, 'BadRequestError', 400)).toBeUndefined();
  });

  it('times out a slow deployment per its timeout, retries elsewhere', async () => {
    a.behave({ latencyMs: 2000 });
    const router = await Gateway.create(
      {
        model_list: [deployment('g', a, { timeout: 0.2 }), deployment('g', b, { order: 2 })],
        num_retries: 1,
      },
      noSleep,
    );
    const out = await router.chatCompletion(ask('g'));
    // The slow one would have answered after 2 s had its timeout not cut it off first.
    expect(out.deploymentId).toBe(router.deployments('g')[1]!.id);
    expect(out.attempts).toBe(2);
  });

  it('honours a per-request timeout (seconds, as LiteLLM) and does not send it upstream', async () => {
    a.behave({ latencyMs: 1000 });
    const router = await Gateway.create({ model_list: [deployment('g', a)], num_retries: 0 }, noSleep);
    const error = await router.chatCompletion(ask('g', 'slow', { timeout: 0.1 })).catch((e: unknown) => e);
    // Without the deadline the upstream would have answered (after 1 s): a timeout proves it
    // fired, and it is the request's (its limit was shorter than the deployment's), not a's.
    expect((error as UpstreamError).kind).toBe('RequestTimeout');
    a.behave({ latencyMs: 0 });
    await router.chatCompletion(ask('g', 'fast', { timeout: 5 }));
    expect(a.requests.at(-1)!.body).not.toHaveProperty('timeout');
    // auto's own fields stay with semroute too.
    const auto = await Gateway.create({ model_list: [deployment('g', a)] }, noSleep);
    await auto.chatCompletion(
      ask('auto', 'pool', { session_id: 'x', plugins: [{ id: 'auto-router' }], models: ['g'] }),
    );
    for (const key of ['session_id', 'plugins', 'models'])
      expect(a.requests.at(-1)!.body).not.toHaveProperty(key);
  });

  it('an abort from the caller cancels the upstream call', async () => {
    a.behave({ latencyMs: 1000 });
    const router = await Gateway.create({ model_list: [deployment('g', a)] }, noSleep);
    const controller = new AbortController();
    const start = a.attempts;
    const pending = router.chatCompletion(ask('g'), { signal: controller.signal }).catch((e: unknown) => e);
    // Abort once the call has reached the upstream.
    await expect.poll(() => a.attempts, { timeout: 45_000 }).toBeGreaterThan(start);
    controller.abort();
    expect(((await pending) as SemrouteError).code).toBe(ErrorCode.ABORTED);
  });

  it('a stream cut mid-way fails to the reader and releases its in-flight slot', async () => {
    const store = new MemoryStateStore();
    const router = await Gateway.create(
      { model_list: [deployment('g', a)], routing_strategy: 'least-busy' },
      { ...noSleep, store },
    );
    a.script([{ cutAfterChunks: 2 }]);
    const out = await router.chatCompletion(ask('g', 'a long answer please', { stream: true }));
    const error = await collect(out).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Error);
    expect(store.inFlightSize).toBe(0);
  });

  it('never lets concurrent requests overshoot an rpm limit; the next deployment takes the rest', async () => {
    a.behave({ latencyMs: 30 });
    const router = await Gateway.create(
      {
        model_list: [deployment('limited', a, { rpm: 5 }), deployment('limited', b, { rpm: 3 })],
        num_retries: 0,
      },
      noSleep,
    );
    const [beforeA, beforeB] = [a.attempts, b.attempts];
    const results = await Promise.allSettled(
      Array.from({ length: 12 }, (_, i) => router.chatCompletion(ask('limited', `q${i}`))),
    );
    const served = results.filter((r) => r.status === 'fulfilled');
    const refused = results.filter((r) => r.status === 'rejected').map((r) => r.reason as UpstreamError);
    expect(served).toHaveLength(8);
    expect(a.attempts - beforeA).toBe(5);
    expect(b.attempts - beforeB).toBe(3);
    expect(refused).toHaveLength(4);
    for (const error of refused) {
      expect(error).toBeInstanceOf(UpstreamError);
      expect(error.status).toBe(429);
      expect(Number(error.headers?.['retry-after'])).toBeGreaterThan(0);
    }
  });

  it('caches identical requests when cache_responses is on', async () => {
    const hits: string[] = [];
    const router = await Gateway.create(
      { model_list: [deployment('g', a)], cache_responses: true },
      { ...noSleep, events: { cacheHit: (_ctx, m) => hits.push(m) } },
    );
    const first = await router.chatCompletion(ask('g', 'same question'));
    const before = a.attempts;
    const second = await router.chatCompletion(ask('g', 'same question'));
    expect(second.cached).toBe(true);
    expect(a.attempts).toBe(before);
    expect(await collect(second)).toBe(await collect(first));
    expect(hits).toEqual(['g']);
    await router.chatCompletion(ask('g', 'other question'));
    expect(a.attempts).toBe(before + 1);
  });
});

describe('semantic and auto routing', () => {
  it('an auto_router entry sends each request to the group its route names, or the default', async () => {
    const router = await Gateway.create(
      {
        model_list: [
          deployment('coder', a),
          deployment('chatty', b),
          deployment('general', c),
          {
            model_name: 'auto_router1',
            litellm_params: {
              model: 'auto_router/auto_router_1',
              auto_router_config: {
                routes: [
                  {
                    name: 'coder',
                    utterances: ['how to code a program in [language]', 'fix this bug in my code'],
                  },
                  { name: 'chatty', utterances: ['hello, how are you', 'tell me a joke'] },
                ],
              },
              auto_router_default_model: 'general',
            },
          },
        ],
      },
      { ...noSleep, encoders: await useLitePool() },
    );
    const coding = await router.chatCompletion(ask('auto_router1', 'how do I code a web server in Go'));
    expect(coding.model).toBe('coder');
    expect(coding.route?.name).toBe('coder');
    expect((await router.chatCompletion(ask('auto_router1', 'hello there, how are you?'))).model).toBe(
      'chatty',
    );
    const none = await router.chatCompletion(
      ask('auto_router1', 'quarterly tax filing deadlines for corporations'),
    );
    expect(none.model).toBe('general');
    expect(none.route?.name).toBeNull();
    // Tool calls and images in the conversation do not break routing (LiteLLM #14633, #23247).
    const messy = await router.chatCompletion({
      model: 'auto_router1',
      messages: [
        {
          role: 'user',
          content: [
            { type: 'image_url', image_url: { url: 'data:image/png;base64,AA' } },
            { type: 'text', text: 'fix this bug in my code' },
          ],
        },
        {
          role: 'assistant',
          content: null,
          tool_calls: [{ id: 't', type: 'function', function: { name: 'f', arguments: '{}' } }],
        },
        { role: 'tool', tool_call_id: 't', content: 'result' },
      ],
    });
    expect(messy.model).toBe('coder');
    const onlyTools = await router.chatCompletion({
      model: 'auto_router1',
      messages: [{ role: 'assistant', content: null, tool_calls: [] }],
    });
    expect(onlyTools.model).toBe('general');
  });

  it('validates a request before routing it: a bad timeout costs no embedding and leaves no decision', async () => {
    const counting = new CountingEncoder(await useLite());
    const decisions: string[] = [];
    const router = await Gateway.create(
      {
        model_list: [
          deployment('coder', a),
          {
            model_name: 'auto_router1',
            litellm_params: {
              model: 'auto_router/auto_router_1',
              auto_router_config: { routes: [{ name: 'coder', utterances: ['fix this bug in my code'] }] },
              auto_router_default_model: 'coder',
            },
          },
        ],
      },
      {
        ...noSleep,
        encoders: new EncoderPool().provide({ type: 'use-lite' }, counting),
        events: { route: (_ctx, model, result) => decisions.push(`${model}:${result.name}`) },
      },
    );
    const before = counting.texts;
    await expect(
      router.chatCompletion(ask('auto_router1', 'fix my code please', { timeout: 'soon' })),
    ).rejects.toMatchObject({ code: ErrorCode.INPUT_INVALID, path: 'timeout' });
    expect(counting.texts).toBe(before);
    expect(decisions).toEqual([]);
    await router.chatCompletion(ask('auto_router1', 'fix my code please', { timeout: 5 }));
    expect(counting.texts).toBe(before + 1);
    expect(decisions).toEqual(['auto_router1:coder']);
    await router.close();
  });

  it('compiles one router for entries naming the same router.json, and closes it once', async () => {
    const { dir, cleanup } = await tempDir();
    try {
      const file = path.join(dir, 'router.json');
      await writeFile(
        file,
        JSON.stringify({
          routes: [{ name: 'coder', utterances: ['fix this bug in my code', 'refactor my class'] }],
        }),
      );
      const auto = (name: string) => ({
        model_name: name,
        litellm_params: {
          model: `auto_router/${name}`,
          auto_router_config_path: file,
          auto_router_default_model: 'coder',
        },
      });
      const inline = {
        model_name: 'inline',
        litellm_params: {
          model: 'auto_router/inline',
          auto_router_config: { routes: [{ name: 'coder', utterances: ['fix this bug in my code'] }] },
          auto_router_default_model: 'coder',
        },
      };
      const router = await Gateway.create(
        { model_list: [deployment('coder', a), auto('first'), auto('second'), inline] },
        { ...noSleep, encoders: await useLitePool() },
      );
      expect(router.semanticRouter('first')).toBeDefined();
      expect(router.semanticRouter('second')).toBe(router.semanticRouter('first'));
      expect(router.semanticRouter('inline')).not.toBe(router.semanticRouter('first'));
      expect((await router.chatCompletion(ask('second', 'please fix this bug in my code'))).model).toBe(
        'coder',
      );
      await router.close();
    } finally {
      await cleanup();
    }
  });

  const autoModels = () => [
    deployment(
      'anthropic/claude-opus',
      a,
      {},
      { quality: 10, input_cost_per_token: 15e-6, output_cost_per_token: 75e-6 },
    ),
    deployment(
      'anthropic/claude-haiku',
      b,
      {},
      { quality: 6, input_cost_per_token: 1e-6, output_cost_per_token: 5e-6 },
    ),
    deployment(
      'openai/gpt-5-mini',
      c,
      {},
      { quality: 7, input_cost_per_token: 0.25e-6, output_cost_per_token: 2e-6 },
    ),
  ];

  it('auto picks by cost_quality_tradeoff within allowed_models wildcards or models', async () => {
    const router = await Gateway.create({ model_list: autoModels() }, noSleep);
    const plugin = (tradeoff: number, allowed?: string[]) => ({
      plugins: [
        {
          id: 'auto-router',
          cost_quality_tradeoff: tradeoff,
          ...(allowed ? { allowed_models: allowed } : {}),
        },
      ],
    });
    // Each request is a new conversation (distinct first message), so no session pin applies.
    expect((await router.chatCompletion(ask('auto', 'q1', plugin(0)))).model).toBe('anthropic/claude-opus');
    expect((await router.chatCompletion(ask('openrouter/auto', 'q2', plugin(10)))).model).toBe(
      'openai/gpt-5-mini',
    );
    expect((await router.chatCompletion(ask('auto', 'q3', plugin(10, ['anthropic/*'])))).model).toBe(
      'anthropic/claude-haiku',
    );
    expect((await router.chatCompletion(ask('auto', 'q4', plugin(0, ['*/claude-h*'])))).model).toBe(
      'anthropic/claude-haiku',
    );
    expect(
      (
        await router.chatCompletion(
          ask('auto', 'q5', { models: ['openai/gpt-5-mini', 'anthropic/claude-haiku'], ...plugin(0) }),
        )
      ).model,
    ).toBe('openai/gpt-5-mini');
    // The default tradeoff is 7: cheap-leaning, quality still counts.
    expect((await router.chatCompletion(ask('auto', 'q6'))).model).toBe('openai/gpt-5-mini');
    await expect(router.chatCompletion(ask('auto', 'q', plugin(5, ['google/*'])))).rejects.toMatchObject({
      code: ErrorCode.POOL_EMPTY,
    });
  });

  it('auto pins a session to its model for the sticky TTL, refreshed on success, not moved by errors', async () => {
    let now = 0;
    const store = new MemoryStateStore(() => now);
    const router = await Gateway.create(
      { model_list: autoModels(), num_retries: 0, disable_cooldowns: true },
      { ...noSleep, store, clock: () => now },
    );
    const first = await router.chatCompletion(
      ask('auto', 'hello', { session_id: 's1', plugins: [{ id: 'auto-router', cost_quality_tradeoff: 0 }] }),
    );
    expect(first.model).toBe('anthropic/claude-opus');
    // Same session, a tradeoff that alone would pick another model: the pin wins.
    const pinned = await router.chatCompletion(
      ask('auto', 'next turn', {
        session_id: 's1',
        plugins: [{ id: 'auto-router', cost_quality_tradeoff: 10 }],
      }),
    );
    expect(pinned.model).toBe('anthropic/claude-opus');
    expect(pinned.deploymentId).toBe(first.deploymentId);
    // x-session-id works the same; an implicit fingerprint (first system + user message) too.
    const viaHeader = await router.chatCompletion(
      ask('auto', 'x', { plugins: [{ id: 'auto-router', cost_quality_tradeoff: 10 }] }),
      { sessionId: 'h1' },
    );
    expect(viaHeader.model).toBe('openai/gpt-5-mini');
    expect(
      (
        await router.chatCompletion(
          ask('auto', 'y', { plugins: [{ id: 'auto-router', cost_quality_tradeoff: 0 }] }),
          { sessionId: 'h1' },
        )
      ).model,
    ).toBe('openai/gpt-5-mini');
    // An error does not move the pin; the auto pool is the fallback.
    a.script([{ status: 500 }]);
    const failedOver = await router.chatCompletion(ask('auto', 'again', { session_id: 's1' }));
    expect(failedOver.model).not.toBe('anthropic/claude-opus');
    now += 60_000;
    expect((await router.chatCompletion(ask('auto', 'later', { session_id: 's1' }))).model).toBe(
      'anthropic/claude-opus',
    );
    // After 5 minutes without a request the pin is gone.
    now += 301_000;
    expect(
      (
        await router.chatCompletion(
          ask('auto', 'much later', {
            session_id: 's1',
            plugins: [{ id: 'auto-router', cost_quality_tradeoff: 10 }],
          }),
        )
      ).model,
    ).toBe('openai/gpt-5-mini');
  });

  it('auto narrows its pool to the semantic route, then ranks by tradeoff', async () => {
    const { tempDir } = await import('../helpers/encoder.js');
    const { writeFile } = await import('node:fs/promises');
    const tmp = await tempDir();
    try {
      await writeFile(
        `${tmp.dir}/auto.json`,
        JSON.stringify({
          routes: [
            {
              name: 'code',
              utterances: ['how to code a program in [language]', 'fix this bug in my code'],
              metadata: { models: ['anthropic/*'] },
            },
            {
              name: 'small-talk',
              utterances: ['hello, how are you', 'tell me a joke'],
              metadata: { models: ['openai/*'] },
            },
          ],
        }),
      );
      const router = await Gateway.create(
        { model_list: autoModels(), auto_router_config_path: 'auto.json', cost_quality_tradeoff: 10 },
        { ...noSleep, baseDir: tmp.dir, encoders: await useLitePool() },
      );
      const code = await router.chatCompletion(ask('auto', 'how do I code a linked list in C'));
      expect(code.route?.name).toBe('code');
      // Cheapest within anthropic/*, not the cheapest overall.
      expect(code.model).toBe('anthropic/claude-haiku');
      const talk = await router.chatCompletion(ask('auto', 'hello there, how are you?'));
      expect(talk.model).toBe('openai/gpt-5-mini');
    } finally {
      await tmp.cleanup();
    }
  });

  it('virtual-key allow-lists hold through auto, aliases and fallbacks', async () => {
    a.behave({ failRate: 1 });
    const router = await Gateway.create(
      {
        model_list: autoModels(),
        num_retries: 0,
        model_group_alias: { best: 'anthropic/claude-opus' },
        default_fallbacks: ['openai/gpt-5-mini'],
      },
      noSleep,
    );
    const allowed = ['anthropic/claude-opus', 'anthropic/claude-haiku'];
    await expect(
      router.chatCompletion(ask('openai/gpt-5-mini'), { allowedModels: allowed }),
    ).rejects.toMatchObject({ code: ErrorCode.MODEL_NOT_ALLOWED });
    // `auto` is a name the list must hold; its pool is then the listed groups only.
    await expect(router.chatCompletion(ask('auto', 'q'), { allowedModels: allowed })).rejects.toMatchObject({
      code: ErrorCode.MODEL_NOT_ALLOWED,
    });
    const viaAuto = await router.chatCompletion(
      ask('auto', 'q', { plugins: [{ id: 'auto-router', cost_quality_tradeoff: 10 }] }),
      { allowedModels: [...allowed, 'auto'] },
    );
    expect(allowed).toContain(viaAuto.model);
    // The alias resolves to an allowed group that fails; its fallback is not allowed, so the error surfaces.
    await expect(router.chatCompletion(ask('best'), { allowedModels: allowed })).rejects.toBeInstanceOf(
      UpstreamError,
    );
    a.behave({ failRate: 0 });
    // A key allowed the alias itself may use it, though its group is not on the list (it is what /v1/models shows).
    expect((await router.chatCompletion(ask('best'), { allowedModels: ['best'] })).model).toBe(
      'anthropic/claude-opus',
    );
    await expect(
      router.chatCompletion(ask('anthropic/claude-opus'), { allowedModels: ['best'] }),
    ).rejects.toMatchObject({
      code: ErrorCode.MODEL_NOT_ALLOWED,
    });
  });
});
