/**
 * LiteLLM-style config.yaml files (our own, modelled on LiteLLM's documented examples: the auto
 * routing page, wildcard routing, tag routing, provider pages) through `semroute serve`, against
 * fake upstreams that speak each provider's documented wire format, driven by the official
 * openai client. Each case checks what reached the upstream: path, headers and body.
 */
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Writable } from 'node:stream';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FakeAnthropic, startFakeAnthropic } from '../../src/fake-upstream/fake-anthropic.js';
import { type FakeUpstream, startFakeUpstream } from '../../src/fake-upstream/fake-upstream.js';
import { serve } from '../../src/server/serve.js';
import { tempDir } from '../helpers/encoder.js';

const OPENAI_KEY = 'sk-openai-from-env';
const ANTHROPIC_KEY = 'sk-ant-from-env';
const GROQ_KEY = 'gsk-from-env';
const MASTER = 'sk-litellm-configs-master';

let openaiUpstream: FakeUpstream;
let anthropic: FakeAnthropic;
let dir: { dir: string; cleanup: () => Promise<void> };
const servers: Array<Awaited<ReturnType<typeof serve>>> = [];

/** Starts `semroute serve` on a config, with provider variables pointing at the fakes. */
async function start(name: string, yaml: string, lines: Array<Record<string, unknown>> = []) {
  const file = path.join(dir.dir, name);
  await writeFile(file, yaml);
  const sink = new Writable({
    write(chunk, _enc, done) {
      for (const line of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(line));
      done();
    },
  });
  const server = await serve({
    config: file,
    port: 0,
    signals: false,
    watch: false,
    logger: { level: 'info', stream: sink },
    env: {
      OPENAI_API_KEY: OPENAI_KEY,
      OPENAI_API_BASE: openaiUpstream.url,
      ANTHROPIC_API_KEY: ANTHROPIC_KEY,
      ANTHROPIC_API_BASE: anthropic.url,
      GROQ_API_KEY: GROQ_KEY,
      GROQ_API_BASE: openaiUpstream.url,
      MISTRAL_API_KEY: GROQ_KEY,
      MISTRAL_API_BASE: openaiUpstream.url,
      HF_TOKEN: GROQ_KEY,
      HUGGINGFACE_API_BASE: openaiUpstream.url,
    },
  });
  servers.push(server);
  return {
    server,
    client: new OpenAI({ apiKey: MASTER, baseURL: `${server.url}/v1`, maxRetries: 0 }),
    lines,
  };
}

beforeAll(async () => {
  openaiUpstream = await startFakeUpstream({ apiKeys: [OPENAI_KEY, GROQ_KEY, 'sk-tagged'] });
  anthropic = await startFakeAnthropic({ apiKeys: [ANTHROPIC_KEY], strictAlternation: true });
  dir = await tempDir();
  await writeFile(
    path.join(dir.dir, 'router.json'),
    await readFile(path.resolve('routes/litellm-example.json'), 'utf8'),
  );
}, 60_000);

afterAll(async () => {
  await Promise.all(servers.map((s) => s.close()));
  await openaiUpstream?.close();
  await anthropic?.close();
  await dir?.cleanup();
});

const lastAnthropic = () => anthropic.requests.at(-1)!;
const lastOpenAI = () => openaiUpstream.requests.at(-1)!;

describe("the seed's auto-router example (LiteLLM's auto routing page)", () => {
  let client: OpenAI;
  const lines: Array<Record<string, unknown>> = [];
  beforeAll(async () => {
    ({ client } = await start(
      'auto.yaml',
      `
model_list:
  - model_name: custom-text-embedding-model
    litellm_params:
      model: text-embedding-3-large
      api_key: os.environ/OPENAI_API_KEY
  - model_name: litellm-gpt-4.1
    litellm_params: { model: gpt-4.1 }
    model_info: { id: openai-id }
  - model_name: litellm-claude-35
    litellm_params:
      model: claude-3-5-sonnet-latest
      api_base: ${anthropic.url}
    model_info: { id: claude-id }
  - model_name: gpt-4o-mini
    litellm_params:
      model: gpt-4o-mini
      tpm: 80_000
      api_key:
  - model_name: auto_router1
    litellm_params:
      model: auto_router/auto_router_1
      auto_router_config_path: router.json
      auto_router_default_model: gpt-4o-mini
      auto_router_embedding_model: custom-text-embedding-model
litellm_settings:
  drop_params: yes
  success_callback: ["langfuse"]
  telemetry: False
general_settings:
  master_key: ${MASTER}
  alerting: ["slack"]
  alert_to_webhook_url:
    llm_exceptions: os.environ/SEMROUTE_TEST_UNSET_SLACK_URL
`,
      lines,
    ));
  }, 60_000);

  it('answers a coding question from Claude through auto_router1, natively over the Messages API', async () => {
    const answer = await client.chat.completions.create({
      model: 'auto_router1',
      messages: [
        { role: 'system', content: 'You are terse.' },
        { role: 'user', content: 'how to code a program in python' },
      ],
    });
    expect(answer.choices[0]!.message.content).toBe('echo: how to code a program in python');
    expect(answer.model).toBe('litellm-claude-35');
    const sent = lastAnthropic();
    expect(sent.url).toBe('/v1/messages');
    expect(sent.headers['x-api-key']).toBe(ANTHROPIC_KEY);
    expect(sent.headers['anthropic-version']).toBe('2023-06-01');
    expect(sent.headers.authorization).toBeUndefined();
    expect(sent.body).toMatchObject({
      model: 'claude-3-5-sonnet-latest',
      max_tokens: 4096,
      system: [{ type: 'text', text: 'You are terse.' }],
      messages: [{ role: 'user', content: [{ type: 'text', text: 'how to code a program in python' }] }],
    });
  });

  it('streams the same answer as OpenAI chunks, usage included when asked', async () => {
    const stream = await client.chat.completions.create({
      model: 'auto_router1',
      stream: true,
      stream_options: { include_usage: true },
      messages: [{ role: 'user', content: 'how to code a program in python' }],
    });
    let text = '';
    let finish: string | null = null;
    let usage: OpenAI.CompletionUsage | undefined | null;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta.content ?? '';
      finish = chunk.choices[0]?.finish_reason ?? finish;
      usage = chunk.usage ?? usage;
    }
    expect(text).toBe('echo: how to code a program in python');
    expect(finish).toBe('stop');
    expect(usage?.completion_tokens).toBe(5);
    expect(lastAnthropic().body.stream).toBe(true);
  });

  it('sends other prompts to their route or the default, over OpenAI with OPENAI_API_KEY', async () => {
    const praise = await client.chat.completions.create({
      model: 'auto_router1',
      messages: [{ role: 'user', content: 'litellm is great' }],
    });
    expect(praise.model).toBe('litellm-gpt-4.1');
    expect(lastOpenAI().body).toMatchObject({ model: 'gpt-4.1' });
    expect(lastOpenAI().headers.authorization).toBe(`Bearer ${OPENAI_KEY}`);
    const other = await client.chat.completions.create({
      model: 'auto_router1',
      messages: [{ role: 'user', content: 'what is the weather on mars' }],
    });
    expect(other.model).toBe('gpt-4o-mini');
    // `api_key:` left empty is unset: OPENAI_API_KEY applies, as in LiteLLM.
    expect(lastOpenAI().headers.authorization).toBe(`Bearer ${OPENAI_KEY}`);
  });

  it('warns once about what it ignores (grouped, exact) and about unset variables (all of them)', () => {
    const warnings = lines.filter((l) => l.level === 40).map((l) => String(l.msg));
    const ignored = warnings.filter((w) => w.startsWith('ignored'));
    expect(ignored).toEqual([
      'ignored (semroute does not support them): general_settings: alerting, alert_to_webhook_url',
    ]);
    // A callback semroute does not have is named on its own line, with what semroute has instead.
    expect(warnings.filter((w) => w.includes('callbacks semroute does not have'))).toEqual([
      'litellm_settings callbacks semroute does not have, ignored: success_callback: langfuse (semroute exports OpenTelemetry traces with "otel", and Prometheus at /metrics)',
    ]);
    const unset = warnings.filter((w) => w.startsWith('environment variables not set'));
    expect(unset).toHaveLength(1);
    expect(unset[0]).toContain(
      'SEMROUTE_TEST_UNSET_SLACK_URL (general_settings.alert_to_webhook_url.llm_exceptions)',
    );
  });
});

describe('providers, request defaults, drop_params and retries (one config)', () => {
  let client: OpenAI;
  const lines: Array<Record<string, unknown>> = [];
  beforeAll(async () => {
    ({ client } = await start(
      'providers.yaml',
      `
model_list:
  - model_name: fast
    litellm_params: { model: groq/llama-3.1-8b-instant }
  - model_name: hf-router
    litellm_params: { model: huggingface/together/deepseek-ai/DeepSeek-R1 }
  - model_name: hf-endpoint
    litellm_params: { model: huggingface/tgi, api_base: ${openaiUpstream.url}, api_key: ${GROQ_KEY} }
  - model_name: tuned
    litellm_params:
      model: openai/gpt-4o
      api_base: ${openaiUpstream.url}
      api_key: ${OPENAI_KEY}
      temperature: 0.1
      max_tokens: 77
      seed: 7
      extra_headers: { x-team: blue }
      extra_body: { safe_mode: true }
      region_name: eu
      additional_drop_params: [logit_bias]
  - model_name: claude
    litellm_params: { model: anthropic/claude-3-5-haiku-latest, max_tokens: 300 }
  - model_name: claude-lenient
    litellm_params: { model: anthropic/claude-3-5-haiku-latest, drop_params: true }
  - model_name: embed
    litellm_params: { model: mistral/mistral-embed }
    model_info: { mode: embedding }
  - model_name: batch-thing
    litellm_params: { model: openai/gpt-4o-mini, api_key: ${OPENAI_KEY} }
    model_info: { mode: batch }
router_settings:
  num_retries: 1
general_settings:
  master_key: ${MASTER}
`,
      lines,
    ));
  }, 60_000);

  it('reaches an OpenAI-compatible host by its prefix, with its default key variable', async () => {
    await client.chat.completions.create({ model: 'fast', messages: [{ role: 'user', content: 'hi' }] });
    expect(lastOpenAI().url).toBe('/v1/chat/completions');
    expect(lastOpenAI().headers.authorization).toBe(`Bearer ${GROQ_KEY}`);
    expect(lastOpenAI().body).toMatchObject({ model: 'llama-3.1-8b-instant' });
  });

  it('reaches Hugging Face: its router as `org/model:provider`, a dedicated endpoint as named', async () => {
    // LiteLLM's documented `huggingface/<provider>/<org>/<model>`; HF's router wants `<org>/<model>:<provider>`.
    await client.chat.completions.create({ model: 'hf-router', messages: [{ role: 'user', content: 'hi' }] });
    expect(lastOpenAI().url).toBe('/v1/chat/completions');
    expect(lastOpenAI().headers.authorization).toBe(`Bearer ${GROQ_KEY}`);
    expect(lastOpenAI().body).toMatchObject({ model: 'deepseek-ai/DeepSeek-R1:together' });
    await client.chat.completions.create({
      model: 'hf-endpoint',
      messages: [{ role: 'user', content: 'hi' }],
    });
    expect(lastOpenAI().body).toMatchObject({ model: 'tgi' });
  });

  it('sends litellm_params defaults under the request’s own values, never LiteLLM-only keys', async () => {
    await client.chat.completions.create({
      model: 'tuned',
      max_tokens: 5,
      logit_bias: { '50256': -100 },
      messages: [{ role: 'user', content: 'hi' }],
    });
    const sent = lastOpenAI();
    expect(sent.body).toMatchObject({
      model: 'gpt-4o',
      temperature: 0.1,
      max_tokens: 5,
      seed: 7,
      safe_mode: true,
    });
    expect(sent.body).not.toHaveProperty('region_name');
    expect(sent.body).not.toHaveProperty('logit_bias');
    expect(sent.headers['x-team']).toBe('blue');
    const ignored = lines.map((l) => String(l.msg)).filter((m) => m.startsWith('ignored'));
    expect(ignored).toEqual([
      'ignored (semroute does not support them): model_list[3]: litellm_params.region_name',
    ]);
  });

  it('refuses a parameter Anthropic lacks unless drop_params drops it', async () => {
    const error = await client.chat.completions
      .create({ model: 'claude', frequency_penalty: 0.5, messages: [{ role: 'user', content: 'hi' }] })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OpenAI.BadRequestError);
    expect((error as Error).message).toContain('frequency_penalty');
    expect((error as Error).message).toContain('drop_params');
    await client.chat.completions.create({
      model: 'claude-lenient',
      frequency_penalty: 0.5,
      messages: [{ role: 'user', content: 'hi' }],
    });
    expect(lastAnthropic().body).not.toHaveProperty('frequency_penalty');
    expect(lastAnthropic().body.max_tokens).toBe(4096);
  });

  it('uses the deployment’s max_tokens default for Anthropic', async () => {
    await client.chat.completions.create({ model: 'claude', messages: [{ role: 'user', content: 'hi' }] });
    expect(lastAnthropic().body.max_tokens).toBe(300);
  });

  it('carries a multi-turn tool conversation both ways, streamed, with the official client', async () => {
    anthropic.script([{ toolUse: { name: 'get_weather', input: { city: 'Paris' } } }]);
    const tools: OpenAI.ChatCompletionTool[] = [
      {
        type: 'function',
        function: {
          name: 'get_weather',
          parameters: { type: 'object', properties: { city: { type: 'string' } } },
        },
      },
    ];
    const first = await client.chat.completions
      .stream({ model: 'claude', tools, messages: [{ role: 'user', content: 'weather in Paris?' }] })
      .finalChatCompletion();
    const call = first.choices[0]!.message.tool_calls![0]!;
    expect(first.choices[0]!.finish_reason).toBe('tool_calls');
    expect(call.type === 'function' && JSON.parse(call.function.arguments)).toEqual({ city: 'Paris' });
    const second = await client.chat.completions.create({
      model: 'claude',
      tools,
      messages: [
        { role: 'user', content: 'weather in Paris?' },
        first.choices[0]!.message as OpenAI.ChatCompletionMessageParam,
        { role: 'tool', tool_call_id: call.id, content: '15C and sunny' },
        { role: 'user', content: 'thanks, and tomorrow?' },
      ],
    });
    expect(second.choices[0]!.message.content).toBe('echo: thanks, and tomorrow?');
    const sent = lastAnthropic().body.messages as Array<{ role: string; content: Array<{ type: string }> }>;
    expect(sent.map((m) => m.role)).toEqual(['user', 'assistant', 'user']);
    expect(sent[2]!.content.map((b) => b.type)).toEqual(['tool_result', 'text']);
  });

  it('retries an overloaded Anthropic (529, and an overloaded_error event before the first chunk)', async () => {
    const before = anthropic.requests.length;
    anthropic.script([{ status: 529 }]);
    const answer = await client.chat.completions.create({
      model: 'claude',
      messages: [{ role: 'user', content: 'a' }],
    });
    expect(answer.choices[0]!.message.content).toBe('echo: a');
    expect(anthropic.requests.length - before).toBe(2);
    anthropic.script([{ errorEvent: 'overloaded_error', errorAfterEvents: 0 }]);
    const stream = await client.chat.completions.create({
      model: 'claude',
      stream: true,
      messages: [{ role: 'user', content: 'b' }],
    });
    let text = '';
    for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? '';
    expect(text).toBe('echo: b');
  });

  it('embeds through a provider that has embeddings, and says which has none', async () => {
    const out = await client.embeddings.create({ model: 'embed', input: ['a b', 'c'] });
    expect(out.data).toHaveLength(2);
    expect(lastOpenAI()).toMatchObject({ url: '/v1/embeddings', body: { model: 'mistral-embed' } });
    expect(lastOpenAI().headers.authorization).toBe(`Bearer ${GROQ_KEY}`);
    const error = await client.embeddings.create({ model: 'claude', input: 'x' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OpenAI.BadRequestError);
    expect((error as Error).message).toContain('anthropic has no embeddings API');
  });

  it('lists a batch-mode deployment and keeps it out of auto', async () => {
    const models = await client.models.list();
    expect(models.data.map((m) => m.id)).toContain('batch-thing');
    const error = await client.chat.completions
      .create({
        model: 'auto',
        models: ['batch-thing', 'embed'],
        messages: [{ role: 'user', content: 'x' }],
      } as never)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OpenAI.BadRequestError);
    expect((error as Error).message).toContain('No model matches the auto-router pool');
  });
});

describe('wildcard routing', () => {
  let client: OpenAI;
  beforeAll(async () => {
    ({ client } = await start(
      'wildcards.yaml',
      `
model_list:
  - model_name: "anthropic/*"
    litellm_params: { model: "anthropic/*", api_base: ${anthropic.url}, api_key: os.environ/ANTHROPIC_API_KEY }
  - model_name: "openai/*"
    litellm_params: { model: "openai/*", api_base: ${openaiUpstream.url} }
  - model_name: "*"
    litellm_params: { model: "*" }
  - model_name: gpt-4o
    litellm_params: { model: openai/exact-gpt-4o, api_base: ${openaiUpstream.url} }
general_settings:
  master_key: ${MASTER}
`,
    ));
  }, 60_000);

  const ask = (model: string) =>
    client.chat.completions.create({ model, messages: [{ role: 'user', content: 'hi' }] });

  it('sends a provider wildcard’s match to that provider with the requested name', async () => {
    const answer = await ask('anthropic/claude-3-haiku-20240307');
    expect(answer.model).toBe('anthropic/claude-3-haiku-20240307');
    expect(lastAnthropic().body.model).toBe('claude-3-haiku-20240307');
    await ask('openai/gpt-4.1-nano');
    expect(lastOpenAI().body).toMatchObject({ model: 'gpt-4.1-nano' });
  });

  it('reads a catch-all’s provider from the name asked for; exact names win', async () => {
    await ask('claude-3-haiku-20240307');
    expect(lastAnthropic().body.model).toBe('claude-3-haiku-20240307');
    expect(lastAnthropic().headers['x-api-key']).toBe(ANTHROPIC_KEY);
    await ask('gpt-4.1-mini');
    expect(lastOpenAI().body).toMatchObject({ model: 'gpt-4.1-mini' });
    await ask('gpt-4o');
    expect(lastOpenAI().body).toMatchObject({ model: 'exact-gpt-4o' });
  });

  it('refuses a name whose provider semroute cannot call, naming it', async () => {
    const error = await ask('sagemaker/my-endpoint').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OpenAI.BadRequestError);
    expect((error as Error).message).toContain('semroute cannot call sagemaker');
  });

  it('says in /v1/models what each wildcard accepts', async () => {
    const listed = (await client.models.list()).data as Array<OpenAI.Model & { semroute?: unknown }>;
    expect(listed.find((m) => m.id === 'anthropic/*')?.semroute).toEqual({
      kind: 'wildcard',
      accepts: 'anthropic/<any model>',
    });
  });
});

describe('tag routing', () => {
  let client: OpenAI;
  let url: string;
  beforeAll(async () => {
    const started = await start(
      'tags.yaml',
      `
model_list:
  - model_name: chat
    litellm_params: { model: openai/free-model, api_base: ${openaiUpstream.url}, api_key: sk-tagged, tags: [free, default] }
  - model_name: chat
    litellm_params: { model: openai/paid-model, api_base: ${openaiUpstream.url}, api_key: sk-tagged, tags: [paid] }
  - model_name: strict
    litellm_params: { model: openai/a-model, api_base: ${openaiUpstream.url}, api_key: sk-tagged, tags: [a] }
router_settings:
  enable_tag_filtering: true
general_settings:
  master_key: ${MASTER}
`,
    );
    client = started.client;
    url = started.server.url;
  }, 60_000);

  const modelSent = () => (lastOpenAI().body as { model: string }).model;

  it('routes by the body’s tags, metadata.tags and the x-litellm-tags header; untagged to default', async () => {
    await client.chat.completions.create({
      model: 'chat',
      messages: [{ role: 'user', content: 'x' }],
      tags: ['paid'],
    } as never);
    expect(modelSent()).toBe('paid-model');
    expect(lastOpenAI().body).not.toHaveProperty('tags');
    await client.chat.completions.create({
      model: 'chat',
      messages: [{ role: 'user', content: 'x' }],
      metadata: { tags: ['paid'] },
    } as never);
    expect(modelSent()).toBe('paid-model');
    expect(lastOpenAI().body).not.toHaveProperty('metadata');
    await client.chat.completions.create(
      { model: 'chat', messages: [{ role: 'user', content: 'x' }] },
      { headers: { 'x-litellm-tags': 'paid, other' } },
    );
    expect(modelSent()).toBe('paid-model');
    for (let i = 0; i < 5; i++) {
      await client.chat.completions.create({ model: 'chat', messages: [{ role: 'user', content: 'x' }] });
      expect(modelSent()).toBe('free-model');
    }
    // An unknown tag goes to the default deployments.
    await client.chat.completions.create({
      model: 'chat',
      messages: [{ role: 'user', content: 'x' }],
      tags: ['vip'],
    } as never);
    expect(modelSent()).toBe('free-model');
  });

  it('refuses a tag no deployment carries when none is tagged default (403)', async () => {
    const res = await fetch(`${url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${MASTER}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'strict', messages: [{ role: 'user', content: 'x' }], tags: ['b'] }),
    });
    expect(res.status).toBe(403);
    expect(((await res.json()) as { error: { message: string } }).error.message).toContain(
      'Not allowed to access model due to tags configuration',
    );
  });
});

describe("LiteLLM's adaptive router", () => {
  let client: OpenAI;
  beforeAll(async () => {
    ({ client } = await start(
      'adaptive.yaml',
      `
model_list:
  - model_name: cheap-first
    litellm_params:
      model: auto_router/adaptive_router
      adaptive_router_config: { available_models: [fast, smart], weights: { quality: 0.7, cost: 0.3 } }
  - model_name: best-first
    litellm_params:
      model: auto_router/adaptive_router
      adaptive_router_config: { available_models: [fast, smart], weights: { quality: 0.95, cost: 0.05 } }
  - model_name: fast
    litellm_params: { model: openai/gpt-4o-mini, api_base: ${openaiUpstream.url}, api_key: ${OPENAI_KEY}, input_cost_per_token: 0.00000015 }
    model_info: { adaptive_router_preferences: { quality_tier: 2, strengths: [] } }
  - model_name: smart
    litellm_params: { model: openai/gpt-4o, api_base: ${openaiUpstream.url}, api_key: ${OPENAI_KEY}, input_cost_per_token: 0.000005 }
    model_info: { adaptive_router_preferences: { quality_tier: 3, strengths: [code_generation] } }
general_settings:
  master_key: ${MASTER}
`,
    ));
  }, 60_000);

  it('ranks its pool by its weights and each model’s quality_tier and cost', async () => {
    const cheap = await client.chat.completions.create({
      model: 'cheap-first',
      messages: [{ role: 'user', content: 'a' }],
    });
    expect(cheap.model).toBe('fast');
    const best = await client.chat.completions.create({
      model: 'best-first',
      messages: [{ role: 'user', content: 'b' }],
    });
    expect(best.model).toBe('smart');
  });
});
