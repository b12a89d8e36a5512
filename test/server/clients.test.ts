/**
 * The popular clients, unchanged, against `semroute serve`: the openai client (Responses API,
 * models.retrieve, legacy completions), the Vercel AI SDK (its default provider call is the
 * Responses API), LangChain JS (ChatOpenAI with and without the Responses API) and the Anthropic
 * SDK (Messages inbound). Upstreams are the fake OpenAI-compatible one and the fake Anthropic API.
 */
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { createOpenAI } from '@ai-sdk/openai';
import Anthropic from '@anthropic-ai/sdk';
import { ChatOpenAI } from '@langchain/openai';
import { generateText, stepCountIs, streamText, tool } from 'ai';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { type FakeAnthropic, startFakeAnthropic } from '../../src/fake-upstream/fake-anthropic.js';
import { type FakeUpstream, startFakeUpstream } from '../../src/fake-upstream/fake-upstream.js';
import { serve } from '../../src/server/serve.js';
import { tempDir } from '../helpers/encoder.js';

const MASTER = 'sk-clients-master-0123456789';
let upstream: FakeUpstream;
let anthropic: FakeAnthropic;
let server: Awaited<ReturnType<typeof serve>>;
let dir: { dir: string; cleanup: () => Promise<void> };

beforeAll(async () => {
  upstream = await startFakeUpstream();
  anthropic = await startFakeAnthropic({ apiKeys: ['sk-ant-upstream'], strictAlternation: true });
  dir = await tempDir();
  await writeFile(
    path.join(dir.dir, 'router.json'),
    JSON.stringify({
      encoder_type: 'use-lite',
      routes: [
        {
          name: 'claude',
          utterances: [
            'how do I reverse a list in python',
            'write a function in javascript',
            'fix the bug in my code',
          ],
          score_threshold: 0.4,
        },
      ],
    }),
  );
  const config = path.join(dir.dir, 'config.yaml');
  await writeFile(
    config,
    `
model_list:
  - model_name: gpt
    litellm_params: { model: openai/gpt-4o-mini, api_base: ${upstream.url}, api_key: sk-up }
  - model_name: claude
    litellm_params: { model: anthropic/claude-3-5-haiku-latest, api_base: ${anthropic.url}, api_key: sk-ant-upstream }
  - model_name: auto_router1
    litellm_params:
      model: auto_router/coding
      auto_router_config_path: router.json
      auto_router_default_model: gpt
general_settings:
  master_key: ${MASTER}
`,
  );
  server = await serve({ config, port: 0, signals: false, watch: false, logger: false });
}, 60_000);

afterAll(async () => {
  await server?.close();
  await upstream?.close();
  await anthropic?.close();
  await dir?.cleanup();
});

const openai = () => new OpenAI({ apiKey: MASTER, baseURL: `${server.url}/v1`, maxRetries: 0 });
const lastAnthropic = () => anthropic.requests.at(-1)!;
const lastOpenAI = () => upstream.requests.at(-1)!;
const weather = {
  type: 'function' as const,
  name: 'get_weather',
  description: 'Weather in a city',
  parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
  strict: false,
};

describe('the openai client: Responses API', () => {
  it('answers responses.create, with the Response object the SDK reads and semroute headers', async () => {
    const { data, response } = await openai()
      .responses.create({ model: 'gpt', input: 'hello' })
      .withResponse();
    expect(data.object).toBe('response');
    expect(data.status).toBe('completed');
    expect(data.output_text).toBe('echo: hello');
    expect(data.usage?.output_tokens).toBe(5);
    expect(response.headers.get('x-semroute-model')).toBe('gpt');
    expect(lastOpenAI()).toMatchObject({
      url: '/v1/chat/completions',
      body: { messages: [{ role: 'user', content: 'hello' }] },
    });
  });

  it('routes through a semantic router like chat', async () => {
    const { data, response } = await openai()
      .responses.create({
        model: 'auto_router1',
        instructions: 'Be terse.',
        input: 'how do I sort a list in python',
      })
      .withResponse();
    expect(response.headers.get('x-semroute-route')).toBe('claude');
    expect(data.output_text).toBe('echo: how do I sort a list in python');
    expect(lastAnthropic().body.system).toEqual([{ type: 'text', text: 'Be terse.' }]);
  });

  it('streams the documented event sequence, numbered, that responses.stream() accumulates', async () => {
    const events: Array<{ type: string; sequence_number: number }> = [];
    const stream = await openai().responses.create({ model: 'gpt', input: 'stream me', stream: true });
    for await (const event of stream) events.push(event);
    expect(events.map((e) => e.type)).toEqual([
      'response.created',
      'response.in_progress',
      'response.output_item.added',
      'response.content_part.added',
      ...events
        .filter((e) => e.type === 'response.output_text.delta')
        .map(() => 'response.output_text.delta'),
      'response.output_text.done',
      'response.content_part.done',
      'response.output_item.done',
      'response.completed',
    ]);
    expect(events.map((e) => e.sequence_number)).toEqual(events.map((_, i) => i));
    const final = await openai().responses.stream({ model: 'gpt', input: 'accumulate me' }).finalResponse();
    expect(final.output_text).toBe('echo: accumulate me');
    expect(final.usage?.total_tokens).toBeGreaterThan(0);
  });

  it('carries a function tool round trip, and a conversation by previous_response_id', async () => {
    anthropic.script([{ toolUse: { name: 'get_weather', input: { city: 'Paris' } } }]);
    const first = await openai().responses.create({
      model: 'claude',
      input: 'weather in Paris?',
      tools: [weather],
    });
    const call = first.output.find((i) => i.type === 'function_call');
    expect(call).toMatchObject({ type: 'function_call', name: 'get_weather', arguments: '{"city":"Paris"}' });
    if (call?.type !== 'function_call') throw new Error('no call');
    const second = await openai().responses.create({
      model: 'claude',
      previous_response_id: first.id,
      tools: [weather],
      input: [{ type: 'function_call_output', call_id: call.call_id, output: '21C and sunny' }],
    });
    expect(second.status).toBe('completed');
    const sent = lastAnthropic().body.messages as Array<{
      role: string;
      content: Array<Record<string, unknown>>;
    }>;
    expect(sent.map((m) => m.role)).toEqual(['user', 'assistant', 'user']);
    expect(sent[1]!.content[0]).toMatchObject({
      type: 'tool_use',
      name: 'get_weather',
      input: { city: 'Paris' },
    });
    expect(sent[2]!.content[0]).toMatchObject({ type: 'tool_result', content: '21C and sunny' });
  });

  it('reads an item_reference back, and refuses an unknown one or a hosted tool, naming it', async () => {
    const first = await openai().responses.create({ model: 'gpt', input: 'remember me' });
    await openai().responses.create({
      model: 'gpt',
      input: [
        { role: 'user', content: 'remember me' },
        { type: 'item_reference', id: first.output[0]!.id! },
        { role: 'user', content: 'again' },
      ],
    });
    expect((lastOpenAI().body as { messages: unknown[] }).messages).toEqual([
      { role: 'user', content: 'remember me' },
      { role: 'assistant', content: 'echo: remember me' },
      { role: 'user', content: 'again' },
    ]);
    const unknown = await openai()
      .responses.create({ model: 'gpt', input: [{ type: 'item_reference', id: 'msg_nope' }] })
      .catch((e: unknown) => e);
    expect(unknown).toBeInstanceOf(OpenAI.BadRequestError);
    expect((unknown as Error).message).toContain("Item with id 'msg_nope' not found");
    const hosted = await openai()
      .responses.create({ model: 'gpt', input: 'x', tools: [{ type: 'web_search_preview' }] })
      .catch((e: unknown) => e);
    expect((hosted as Error).message).toContain('tools[0].type: "web_search_preview" tools run at OpenAI');
  });
});

describe('the openai client: models and legacy completions', () => {
  it('retrieves a model, and answers 404 model_not_found for one it does not serve', async () => {
    expect(await openai().models.retrieve('auto_router1')).toMatchObject({
      id: 'auto_router1',
      object: 'model',
    });
    const error = await openai()
      .models.retrieve('nope')
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OpenAI.NotFoundError);
    expect((error as InstanceType<typeof OpenAI.APIError>).code).toBe('model_not_found');
  });

  it('passes completions through to an OpenAI-compatible upstream, plain and streamed', async () => {
    const plain = await openai().completions.create({ model: 'gpt', prompt: 'Say this', max_tokens: 7 });
    expect(plain.choices[0]!.text).toBe(' echo: Say this');
    expect(plain.model).toBe('gpt');
    expect(lastOpenAI()).toMatchObject({
      url: '/v1/completions',
      body: { model: 'gpt-4o-mini', prompt: 'Say this', max_tokens: 7 },
    });
    let text = '';
    const stream = await openai().completions.create({ model: 'gpt', prompt: 'Stream this', stream: true });
    for await (const chunk of stream) text += chunk.choices[0]?.text ?? '';
    expect(text).toBe(' echo: Stream this');
    const error = await openai()
      .completions.create({ model: 'claude', prompt: 'x' })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OpenAI.BadRequestError);
    expect((error as Error).message).toContain('anthropic has no legacy completions endpoint');
  });
});

describe('the Vercel AI SDK (its default call is the Responses API)', () => {
  const provider = () => createOpenAI({ apiKey: MASTER, baseURL: `${server.url}/v1` });

  it('generateText and streamText', async () => {
    const plain = await generateText({ model: provider()('gpt'), system: 'Be brief', prompt: 'hi there' });
    expect(plain.text).toBe('echo: hi there');
    expect(plain.usage.outputTokens).toBe(5);
    const streamed = streamText({ model: provider()('gpt'), prompt: 'stream there' });
    let text = '';
    for await (const delta of streamed.textStream) text += delta;
    expect(text).toBe('echo: stream there');
  });

  it('runs a tool loop through an Anthropic upstream', async () => {
    anthropic.script([{ toolUse: { name: 'weather', input: { city: 'Paris' } } }]);
    const result = await generateText({
      model: provider()('claude'),
      prompt: 'weather in Paris?',
      tools: {
        weather: tool({
          description: 'Get weather',
          inputSchema: z.object({ city: z.string() }),
          execute: async ({ city }) => ({ city, temp: 21 }),
        }),
      },
      stopWhen: stepCountIs(2),
    });
    expect(result.steps[0]!.toolCalls[0]).toMatchObject({ toolName: 'weather', input: { city: 'Paris' } });
    expect(result.text).toBe('echo: weather in Paris?');
  });
});

describe('LangChain JS ChatOpenAI', () => {
  for (const useResponsesApi of [false, true]) {
    it(`invokes, streams and binds tools (useResponsesApi: ${useResponsesApi})`, async () => {
      const chat = (model: string) =>
        new ChatOpenAI({
          model,
          apiKey: MASTER,
          configuration: { baseURL: `${server.url}/v1` },
          useResponsesApi,
          maxRetries: 0,
        });
      const answer = await chat('gpt').invoke('hello langchain');
      expect(answer.text).toBe('echo: hello langchain');
      let streamed = '';
      for await (const chunk of await chat('gpt').stream('stream langchain')) streamed += chunk.text;
      expect(streamed).toBe('echo: stream langchain');
      anthropic.script([{ toolUse: { name: 'get_weather', input: { city: 'Oslo' } } }]);
      const withTools = chat('claude').bindTools([
        { type: 'function', function: { name: 'get_weather', parameters: weather.parameters } },
      ]);
      const called = await withTools.invoke('weather in Oslo?');
      expect(called.tool_calls?.[0]).toMatchObject({ name: 'get_weather', args: { city: 'Oslo' } });
    });
  }
});

describe('the Anthropic SDK against /v1/messages', () => {
  const client = () => new Anthropic({ apiKey: MASTER, baseURL: server.url, maxRetries: 0 });

  it('answers messages.create from any group, with the Message the SDK reads', async () => {
    const message = await client().messages.create({
      model: 'gpt',
      max_tokens: 50,
      system: 'Be brief',
      messages: [{ role: 'user', content: 'hello anthropic' }],
    });
    expect(message.content[0]).toMatchObject({ type: 'text', text: 'echo: hello anthropic' });
    expect(message.stop_reason).toBe('end_turn');
    expect(lastOpenAI().body).toMatchObject({
      max_tokens: 50,
      messages: [
        { role: 'system', content: 'Be brief' },
        { role: 'user', content: 'hello anthropic' },
      ],
    });
  });

  it('streams the Messages event sequence that messages.stream() accumulates', async () => {
    const final = await client()
      .messages.stream({
        model: 'gpt',
        max_tokens: 50,
        messages: [{ role: 'user', content: 'stream anthropic' }],
      })
      .finalMessage();
    expect(final.content[0]).toMatchObject({ type: 'text', text: 'echo: stream anthropic' });
    expect(final.usage.output_tokens).toBe(5);
  });

  it('carries tools both ways through an Anthropic upstream, streamed', async () => {
    anthropic.script([{ toolUse: { name: 'get_weather', input: { city: 'Rome' } } }]);
    const tools = [
      {
        name: 'get_weather',
        input_schema: { type: 'object' as const, properties: { city: { type: 'string' } } },
      },
    ];
    const final = await client()
      .messages.stream({
        model: 'claude',
        max_tokens: 100,
        tools,
        messages: [{ role: 'user', content: 'weather in Rome?' }],
      })
      .finalMessage();
    expect(final.stop_reason).toBe('tool_use');
    const use = final.content.find((b) => b.type === 'tool_use');
    expect(use).toMatchObject({ name: 'get_weather', input: { city: 'Rome' } });
    if (use?.type !== 'tool_use') throw new Error('no tool use');
    const next = await client().messages.create({
      model: 'claude',
      max_tokens: 100,
      tools,
      messages: [
        { role: 'user', content: 'weather in Rome?' },
        { role: 'assistant', content: final.content },
        { role: 'user', content: [{ type: 'tool_result', tool_use_id: use.id, content: '25C' }] },
      ],
    });
    expect(next.content[0]).toMatchObject({ type: 'text' });
    const sent = lastAnthropic().body.messages as Array<{ content: Array<{ type: string }> }>;
    expect(sent[2]!.content[0]).toMatchObject({ type: 'tool_result', tool_use_id: use.id, content: '25C' });
  });

  it('refuses a bad key and a missing max_tokens in its own error shape, and counts tokens', async () => {
    const denied = await new Anthropic({ apiKey: 'sk-wrong', baseURL: server.url, maxRetries: 0 }).messages
      .create({ model: 'gpt', max_tokens: 5, messages: [{ role: 'user', content: 'x' }] })
      .catch((e: unknown) => e);
    expect(denied).toBeInstanceOf(Anthropic.AuthenticationError);
    const res = await fetch(`${server.url}/v1/messages`, {
      method: 'POST',
      headers: { 'x-api-key': MASTER, 'content-type': 'application/json', 'anthropic-version': '2023-06-01' },
      body: JSON.stringify({ model: 'gpt', messages: [{ role: 'user', content: 'x' }] }),
    });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({
      type: 'error',
      error: { type: 'invalid_request_error', message: expect.stringContaining('max_tokens') },
    });
    const count = await client().messages.countTokens({
      model: 'gpt',
      messages: [{ role: 'user', content: 'count these words please' }],
    });
    expect(count.input_tokens).toBeGreaterThan(0);
  });
});
