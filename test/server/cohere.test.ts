/**
 * Cohere through the proxy: chat v2 (plain, streamed, tools, stop reasons, usage) driven with
 * the official openai client, and LiteLLM's /rerank driven with Cohere's own SDK (its v1 and v2
 * clients, pointed at the proxy) against a fake Cohere API written from Cohere's reference;
 * rerank also to Cohere on Bedrock and to a vLLM host; our keys, allow-lists and metrics hold.
 */
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { CohereClient, CohereClientV2 } from 'cohere-ai';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FakeBedrock, startFakeBedrock } from '../../src/fake-upstream/fake-bedrock.js';
import { type FakeCohere, startFakeCohere } from '../../src/fake-upstream/fake-cohere.js';
import { type FakeUpstream, startFakeUpstream } from '../../src/fake-upstream/fake-upstream.js';
import { serve } from '../../src/server/serve.js';
import { tempDir } from '../helpers/encoder.js';

const MASTER = 'sk-cohere-master-0000';
const COHERE_KEY = 'co-fake-key-123';
const LIMITED = 'sk-cohere-limited-only-rerank';
const AWS = { accessKeyId: 'AKIDFAKECOHERE0001', secretAccessKey: 'fake/Secret+Key/cohere0123456789' };
let cohere: FakeCohere;
let bedrock: FakeBedrock;
let vllm: FakeUpstream;
let server: Awaited<ReturnType<typeof serve>>;
let dir: { dir: string; cleanup: () => Promise<void> };
let client: OpenAI;

const DOCUMENTS = [
  'Carson City is the capital city of the American state of Nevada.',
  'The Commonwealth of the Northern Mariana Islands is a group of islands in the Pacific Ocean.',
  'Washington, D.C. is the capital of the United States.',
  'Capital punishment has existed in the United States since before it was a country.',
];
const QUERY = 'What is the capital of the United States?';

beforeAll(async () => {
  [cohere, bedrock, vllm, dir] = await Promise.all([
    startFakeCohere({ apiKeys: [COHERE_KEY] }),
    startFakeBedrock({ credentials: [AWS], region: 'us-east-1' }),
    startFakeUpstream(),
    tempDir(),
  ]);
  const config = path.join(dir.dir, 'config.yaml');
  // LiteLLM's documented names: cohere/…, cohere_chat/…, a rerank model, Cohere on Bedrock.
  await writeFile(
    config,
    `model_list:
  - model_name: command
    litellm_params: { model: cohere/command-r-plus, api_key: os.environ/COHERE_API_KEY }
  - model_name: command-chat
    litellm_params: { model: cohere_chat/command-a-03-2025 }
  - model_name: embed
    litellm_params: { model: cohere/embed-english-v3.0 }
  - model_name: rerank
    litellm_params: { model: cohere/rerank-english-v3.0 }
    model_info: { mode: rerank }
  - model_name: bedrock-rerank
    litellm_params:
      model: bedrock/cohere.rerank-v3-5:0
      aws_region_name: us-east-1
      aws_bedrock_runtime_endpoint: ${bedrock.url}
      aws_access_key_id: ${AWS.accessKeyId}
      aws_secret_access_key: ${AWS.secretAccessKey}
  - model_name: vllm-rerank
    litellm_params: { model: hosted_vllm/BAAI/bge-reranker-base, api_base: ${vllm.url} }
  - model_name: openai-chat
    litellm_params: { model: openai/gpt-4o-mini, api_base: ${vllm.url}, api_key: sk-x }
router_settings: { num_retries: 0 }
general_settings:
  master_key: ${MASTER}
  keys: [{ key: ${LIMITED}, models: [rerank] }]
`,
  );
  server = await serve({
    config,
    port: 0,
    signals: false,
    watch: false,
    logger: false,
    env: { COHERE_API_KEY: COHERE_KEY, COHERE_API_BASE: cohere.url, PATH: process.env.PATH },
  });
  client = new OpenAI({ apiKey: MASTER, baseURL: `${server.url}/v1`, maxRetries: 0 });
}, 60_000);

afterAll(async () => {
  await server?.close();
  await Promise.all([cohere?.close(), bedrock?.close(), vllm?.close()]);
  await dir?.cleanup();
});

const last = () => cohere.requests.at(-1)!;

describe('Cohere chat v2', () => {
  it('answers a chat, the OpenAI fields sent as Chat v2 names them', async () => {
    const answer = await client.chat.completions.create({
      model: 'command',
      messages: [
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content: 'hello cohere' },
      ],
      max_tokens: 50,
      top_p: 0.5,
      stop: 'END',
      seed: 3,
    });
    expect(answer.choices[0]?.message.content).toBe('echo: hello cohere');
    expect(answer.choices[0]?.finish_reason).toBe('stop');
    // usage.tokens (what the model read: the fake adds 7 template tokens), not billed_units (6).
    expect(answer.usage?.prompt_tokens).toBe(13);
    expect(answer.usage?.completion_tokens).toBeGreaterThan(0);
    expect(last().url).toBe('/v2/chat');
    expect(last().headers.authorization).toBe(`Bearer ${COHERE_KEY}`);
    expect(last().body).toEqual({
      model: 'command-r-plus',
      messages: [
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content: 'hello cohere' },
      ],
      max_tokens: 50,
      p: 0.5,
      stop_sequences: ['END'],
      seed: 3,
      stream: false,
    });
  });

  it('maps Cohere’s stop reasons: MAX_TOKENS is length, STOP_SEQUENCE is stop', async () => {
    const cut = await client.chat.completions.create({
      model: 'command-chat',
      messages: [{ role: 'user', content: 'one two three four five six' }],
      max_tokens: 3,
    });
    expect(cut.choices[0]?.finish_reason).toBe('length');
    expect(cut.choices[0]?.message.content).toBe('echo: one two');
    expect(last().body.model).toBe('command-a-03-2025');
    const stopped = await client.chat.completions.create({
      model: 'command',
      messages: [{ role: 'user', content: 'say STOP here' }],
      stop: ['STOP'],
    });
    expect(stopped.choices[0]?.finish_reason).toBe('stop');
    expect(stopped.choices[0]?.message.content).toBe('echo: say ');
  });

  it('streams text as OpenAI chunks, usage last when asked', async () => {
    const stream = await client.chat.completions.create({
      model: 'command',
      messages: [{ role: 'user', content: 'stream these words please' }],
      stream: true,
      stream_options: { include_usage: true },
    });
    let text = '';
    let finish: string | null | undefined;
    let usage: OpenAI.CompletionUsage | undefined | null;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta.content ?? '';
      finish = chunk.choices[0]?.finish_reason ?? finish;
      usage = chunk.usage ?? usage;
    }
    expect(text).toBe('echo: stream these words please');
    expect(finish).toBe('stop');
    expect(usage?.completion_tokens).toBeGreaterThan(0);
    expect(last().body.stream).toBe(true);
  });

  it('carries a tool conversation both ways, plain and streamed', async () => {
    const tools: OpenAI.ChatCompletionTool[] = [
      {
        type: 'function',
        function: {
          name: 'get_weather',
          description: 'Weather of a city',
          parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
        },
      },
    ];
    cohere.script([{ toolCall: { name: 'get_weather', arguments: { city: 'Toronto' } } }]);
    const asked = await client.chat.completions.create({
      model: 'command',
      messages: [{ role: 'user', content: 'weather in Toronto?' }],
      tools,
    });
    const call = asked.choices[0]?.message.tool_calls?.[0];
    expect(asked.choices[0]?.finish_reason).toBe('tool_calls');
    expect(call?.type === 'function' && call.function).toEqual({
      name: 'get_weather',
      arguments: '{"city":"Toronto"}',
    });
    expect(last().body.tools).toEqual(tools);

    const answered = await client.chat.completions.create({
      model: 'command',
      messages: [
        { role: 'user', content: 'weather in Toronto?' },
        { role: 'assistant', content: null, tool_calls: asked.choices[0]!.message.tool_calls! },
        { role: 'tool', tool_call_id: call!.id, content: '{"temperature": 4}' },
      ],
      tools,
    });
    expect(answered.choices[0]?.message.content).toBe('echo: {"temperature": 4}');
    expect((last().body.messages as unknown[])[1]).toEqual({
      role: 'assistant',
      tool_calls: [
        {
          id: call!.id,
          type: 'function',
          function: { name: 'get_weather', arguments: '{"city":"Toronto"}' },
        },
      ],
    });

    // tool_choice: required is Cohere's REQUIRED; streamed, the arguments arrive in pieces.
    const stream = await client.chat.completions.create({
      model: 'command',
      messages: [{ role: 'user', content: 'weather?' }],
      tools,
      tool_choice: 'required',
      stream: true,
    });
    let args = '';
    let name: string | undefined;
    let finish: string | null | undefined;
    for await (const chunk of stream) {
      for (const c of chunk.choices[0]?.delta.tool_calls ?? []) {
        expect(c.index).toBe(0);
        name ??= c.function?.name;
        args += c.function?.arguments ?? '';
      }
      finish = chunk.choices[0]?.finish_reason ?? finish;
    }
    expect(last().body.tool_choice).toBe('REQUIRED');
    expect(name).toBe('get_weather');
    expect(args).toBe('{}');
    expect(finish).toBe('tool_calls');
  });

  it('refuses what Cohere cannot take, naming it; maps its errors to our kinds', async () => {
    const refused = await client.chat.completions
      .create({ model: 'command', messages: [{ role: 'user', content: 'x' }], logit_bias: { 1: 2 } })
      .catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(OpenAI.BadRequestError);
    expect((refused as Error).message).toContain('logit_bias');

    cohere.script([{ status: 429 }]);
    const limited = await client.chat.completions
      .create({ model: 'command-chat', messages: [{ role: 'user', content: 'x' }] })
      .catch((e: unknown) => e);
    expect(limited).toBeInstanceOf(OpenAI.RateLimitError);
    expect((limited as Error).message).toContain('Trial key');

    cohere.script([{ streamError: 'internal error while generating' }]);
    const broken = await client.chat.completions.create({
      model: 'command',
      messages: [{ role: 'user', content: 'x' }],
      stream: true,
    });
    const read = async () => {
      for await (const _ of broken) {
        // read to the end
      }
    };
    await expect(read()).rejects.toThrow(/internal error while generating/);
  });

  it('embeds through /v2/embed with an input_type', async () => {
    const answer = await client.embeddings.create({ model: 'embed', input: ['alpha', 'beta'] });
    expect(answer.data).toHaveLength(2);
    expect(answer.data[0]?.embedding).toHaveLength(1024);
    expect(last().url).toBe('/v2/embed');
    expect(last().body).toMatchObject({
      model: 'embed-english-v3.0',
      texts: ['alpha', 'beta'],
      input_type: 'search_document',
      embedding_types: ['float'],
    });
  });
});

describe('/v1/rerank, as LiteLLM serves it', () => {
  const v1 = (token: string) => new CohereClient({ token, environment: server.url });
  const v2 = (token: string) => new CohereClientV2({ token, environment: server.url });
  const expected = [2, 0, 3, 1];

  it('ranks with Cohere’s v1 client (documents returned) and its v2 client, unchanged', async () => {
    const one = await v1(MASTER).rerank({
      model: 'rerank',
      query: QUERY,
      documents: DOCUMENTS.map((text) => ({ text })),
      topN: 3,
      returnDocuments: true,
    });
    expect(one.results.map((r) => r.index)).toEqual(expected.slice(0, 3));
    expect(one.results[0]?.document?.text).toBe(DOCUMENTS[2]);
    expect(one.results[0]!.relevanceScore).toBeGreaterThan(one.results[1]!.relevanceScore);
    expect(last().url).toBe('/v2/rerank');
    expect(last().body).toEqual({
      model: 'rerank-english-v3.0',
      query: QUERY,
      documents: DOCUMENTS,
      top_n: 3,
    });

    const two = await v2(MASTER).rerank({ model: 'rerank', query: QUERY, documents: DOCUMENTS });
    expect(two.results.map((r) => r.index)).toEqual(expected);
  });

  it('ranks through Cohere on Bedrock (InvokeModel, signed) and a vLLM host', async () => {
    for (const model of ['bedrock-rerank', 'vllm-rerank']) {
      const res = await fetch(`${server.url}/v1/rerank`, {
        method: 'POST',
        headers: { authorization: `Bearer ${MASTER}`, 'content-type': 'application/json' },
        body: JSON.stringify({ model, query: QUERY, documents: DOCUMENTS, top_n: 2 }),
      });
      expect(res.status, model).toBe(200);
      const body = (await res.json()) as { results: Array<{ index: number }> };
      expect(
        body.results.map((r) => r.index),
        model,
      ).toEqual(expected.slice(0, 2));
      expect(res.headers.get('x-semroute-model')).toBe(model);
    }
    const signed = bedrock.requests.at(-1)!;
    expect(signed.path).toBe(`/model/${encodeURIComponent('cohere.rerank-v3-5:0')}/invoke`);
    expect(signed.body).toMatchObject({ query: QUERY, documents: DOCUMENTS, top_n: 2, api_version: 2 });
    expect(vllm.requests.at(-1)?.url).toBe('/v1/rerank');
  });

  it('holds our keys and allow-lists, refuses a model without a rerank endpoint, and counts it', async () => {
    const limited = await v2(LIMITED).rerank({ model: 'rerank', query: QUERY, documents: DOCUMENTS });
    expect(limited.results).toHaveLength(4);
    await expect(
      v2(LIMITED).rerank({ model: 'bedrock-rerank', query: QUERY, documents: DOCUMENTS }),
    ).rejects.toThrow();
    await expect(
      v2('sk-not-a-key').rerank({ model: 'rerank', query: QUERY, documents: DOCUMENTS }),
    ).rejects.toThrow();

    const noRerank = await fetch(`${server.url}/v1/rerank`, {
      method: 'POST',
      headers: { authorization: `Bearer ${MASTER}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'openai-chat', query: QUERY, documents: DOCUMENTS }),
    });
    expect(noRerank.status).toBe(400);
    expect(((await noRerank.json()) as { error: { message: string } }).error.message).toContain(
      'rerank endpoint',
    );

    const bad = await fetch(`${server.url}/v1/rerank`, {
      method: 'POST',
      headers: { authorization: `Bearer ${MASTER}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'rerank', query: QUERY, documents: [] }),
    });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: { message: string } }).error.message).toContain('documents');

    const metrics = await (
      await fetch(`${server.url}/metrics`, { headers: { authorization: `Bearer ${MASTER}` } })
    ).text();
    expect(metrics).toMatch(/semroute_requests_total\{[^}]*endpoint="rerank"[^}]*\} [1-9]/);
  });
});
