/**
 * Amazon Bedrock through the proxy, driven with the official openai client against a fake
 * Bedrock Runtime written from AWS's Converse reference: SigV4 signatures checked by the fake
 * (long-term keys, session tokens, a profile of the shared credentials file), a Bedrock API key,
 * Converse and ConverseStream (event-stream framing), tools, images, errors and exceptions
 * mid-stream mapped to our failure kinds, Titan and Cohere embeddings; and a provider semroute
 * cannot call, which starts unavailable instead of stopping the start.
 */
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FakeBedrock, startFakeBedrock } from '../../src/fake-upstream/fake-bedrock.js';
import { serve } from '../../src/server/serve.js';
import { tempDir } from '../helpers/encoder.js';

const MASTER = 'sk-bedrock-master-0000';
const KEY = { accessKeyId: 'AKIDFAKEBEDROCK01', secretAccessKey: 'fake/Secret+Key/0123456789abcdefghij' };
const TEMP = { accessKeyId: 'ASIAFAKETEMPORARY1', secretAccessKey: 'temporary/Secret+Key/0123456789' };
const PROFILE = { accessKeyId: 'AKIDFAKEPROFILE001', secretAccessKey: 'profile/Secret+Key/0123456789' };
const MODEL = 'us.anthropic.claude-3-5-sonnet-20240620-v1:0';
let fake: FakeBedrock;
let server: Awaited<ReturnType<typeof serve>>;
let dir: { dir: string; cleanup: () => Promise<void> };
let client: OpenAI;

beforeAll(async () => {
  [fake, dir] = await Promise.all([
    startFakeBedrock({
      credentials: [KEY, TEMP, PROFILE],
      apiKeys: ['bedrock-api-key-fake'],
      expiredTokens: ['expired-session-token'],
      region: 'us-east-1',
    }),
    tempDir(),
  ]);
  const credentialsFile = path.join(dir.dir, 'credentials');
  await writeFile(
    credentialsFile,
    `[default]\naws_access_key_id = AKIDNOTTHISONE\naws_secret_access_key = nope\n\n[semroute-test]\naws_access_key_id = ${PROFILE.accessKeyId}\naws_secret_access_key = ${PROFILE.secretAccessKey}\n`,
  );
  const bedrock = (name: string, model: string, auth: string) =>
    `  - model_name: ${name}
    litellm_params:
      model: bedrock/${model}
      aws_region_name: us-east-1
      aws_bedrock_runtime_endpoint: ${fake.url}
${auth
  .split('\n')
  .map((l) => `      ${l}`)
  .join('\n')}`;
  const keys = `aws_access_key_id: ${KEY.accessKeyId}\naws_secret_access_key: ${KEY.secretAccessKey}`;
  const config = path.join(dir.dir, 'config.yaml');
  await writeFile(
    config,
    `model_list:
${bedrock('claude', MODEL, keys)}
${bedrock('claude-converse-route', `converse/${MODEL}`, keys)}
${bedrock('claude-temporary', MODEL, `aws_access_key_id: ${TEMP.accessKeyId}\naws_secret_access_key: ${TEMP.secretAccessKey}\naws_session_token: good-session-token`)}
${bedrock('claude-expired', MODEL, `aws_access_key_id: ${TEMP.accessKeyId}\naws_secret_access_key: ${TEMP.secretAccessKey}\naws_session_token: expired-session-token`)}
${bedrock('claude-wrong-secret', MODEL, `aws_access_key_id: ${KEY.accessKeyId}\naws_secret_access_key: not-the-secret`)}
${bedrock('claude-profile', MODEL, 'aws_profile_name: semroute-test')}
${bedrock('claude-api-key', MODEL, 'api_key: bedrock-api-key-fake')}
${bedrock('claude-fallback', MODEL, keys)}
${bedrock('titan', 'amazon.titan-embed-text-v2:0', keys)}
${bedrock('cohere-embed', 'cohere.embed-english-v3', keys)}
  - model_name: sagemaker-only
    litellm_params: { model: sagemaker/my-endpoint }
  - model_name: sagemaker-then-bedrock
    litellm_params: { model: sagemaker/my-endpoint }
router_settings:
  num_retries: 0
  fallbacks: [{ sagemaker-then-bedrock: [claude-fallback] }]
general_settings: { master_key: ${MASTER} }
`,
  );
  server = await serve({
    config,
    port: 0,
    signals: false,
    watch: false,
    logger: false,
    env: { AWS_SHARED_CREDENTIALS_FILE: credentialsFile, PATH: process.env.PATH },
  });
  client = new OpenAI({ apiKey: MASTER, baseURL: `${server.url}/v1`, maxRetries: 0 });
}, 60_000);

afterAll(async () => {
  await server?.close();
  await fake?.close();
  await dir?.cleanup();
});

const user = (content: string) => [{ role: 'user' as const, content }];

describe('Bedrock Converse, signed with SigV4', () => {
  it('answers a chat, the model id percent-encoded in the path and the OpenAI fields as Converse ones', async () => {
    const answer = await client.chat.completions.create({
      model: 'claude',
      messages: [
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content: 'hello bedrock' },
      ],
      max_tokens: 50,
      temperature: 0.2,
      top_p: 0.9,
      stop: ['END'],
    });
    expect(answer.choices[0]?.message.content).toBe('echo: hello bedrock');
    expect(answer.choices[0]?.finish_reason).toBe('stop');
    expect(answer.usage?.prompt_tokens).toBeGreaterThan(0);
    const sent = fake.requests.at(-1)!;
    expect(sent.path).toBe(`/model/${encodeURIComponent(MODEL)}/converse`);
    expect(sent.body).toEqual({
      messages: [{ role: 'user', content: [{ text: 'hello bedrock' }] }],
      system: [{ text: 'Be brief.' }],
      inferenceConfig: { maxTokens: 50, temperature: 0.2, topP: 0.9, stopSequences: ['END'] },
    });
    expect(String(sent.headers.authorization)).toMatch(
      new RegExp(`^AWS4-HMAC-SHA256 Credential=${KEY.accessKeyId}/\\d{8}/us-east-1/bedrock/aws4_request`),
    );
  });

  it("reads LiteLLM's converse/ route prefix, session tokens, a credentials-file profile and a Bedrock API key", async () => {
    for (const model of ['claude-converse-route', 'claude-temporary', 'claude-profile', 'claude-api-key']) {
      const answer = await client.chat.completions.create({ model, messages: user(`hi ${model}`) });
      expect(answer.choices[0]?.message.content, model).toBe(`echo: hi ${model}`);
    }
    const temporary = fake.requests.find(
      (r) => r.body.messages && JSON.stringify(r.body).includes('claude-temporary'),
    );
    expect(temporary?.headers['x-amz-security-token']).toBe('good-session-token');
    const keyed = fake.requests.at(-1)!;
    expect(keyed.headers.authorization).toBe('Bearer bedrock-api-key-fake');
  });

  it('streams through ConverseStream, usage included on request', async () => {
    const stream = await client.chat.completions.create({
      model: 'claude',
      messages: user('stream these words please'),
      stream: true,
      stream_options: { include_usage: true },
    });
    let text = '';
    let finish: string | null | undefined;
    let usage: OpenAI.CompletionUsage | undefined | null;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta.content ?? '';
      finish = chunk.choices[0]?.finish_reason ?? finish;
      if (chunk.usage) usage = chunk.usage;
    }
    expect(text).toBe('echo: stream these words please');
    expect(finish).toBe('stop');
    expect(usage?.completion_tokens).toBeGreaterThan(0);
    expect(fake.requests.at(-1)!.path).toBe(`/model/${encodeURIComponent(MODEL)}/converse-stream`);
  });

  it('calls tools, plain and streamed, and sends tool results back as toolResult blocks', async () => {
    const tools = [
      {
        type: 'function' as const,
        function: {
          name: 'get_weather',
          description: 'Weather in a city',
          parameters: { type: 'object', properties: { city: { type: 'string' } } },
        },
      },
    ];
    fake.script([{ toolUse: { name: 'get_weather', input: { city: 'Paris' } } }]);
    const called = await client.chat.completions.create({
      model: 'claude',
      messages: user('weather?'),
      tools,
    });
    const call = called.choices[0]?.message.tool_calls?.[0];
    expect(called.choices[0]?.finish_reason).toBe('tool_calls');
    expect(call?.type === 'function' && call.function).toEqual({
      name: 'get_weather',
      arguments: '{"city":"Paris"}',
    });
    expect(fake.requests.at(-1)!.body.toolConfig).toEqual({
      tools: [
        {
          toolSpec: {
            name: 'get_weather',
            description: 'Weather in a city',
            inputSchema: { json: { type: 'object', properties: { city: { type: 'string' } } } },
          },
        },
      ],
    });
    fake.script([{ toolUse: { name: 'get_weather', input: { city: 'Oslo' } } }]);
    const stream = await client.chat.completions.create({
      model: 'claude',
      messages: user('weather?'),
      tools,
      stream: true,
    });
    let args = '';
    let name = '';
    for await (const chunk of stream) {
      const t = chunk.choices[0]?.delta.tool_calls?.[0];
      name ||= t?.function?.name ?? '';
      args += t?.function?.arguments ?? '';
    }
    expect([name, JSON.parse(args)]).toEqual(['get_weather', { city: 'Oslo' }]);
    const answered = await client.chat.completions.create({
      model: 'claude',
      tools,
      messages: [
        { role: 'user', content: 'weather?' },
        {
          role: 'assistant',
          content: null,
          tool_calls: [
            {
              id: 'call_1',
              type: 'function',
              function: { name: 'get_weather', arguments: '{"city":"Paris"}' },
            },
          ],
        },
        { role: 'tool', tool_call_id: 'call_1', content: 'sunny' },
      ],
    });
    expect(answered.choices[0]?.message.content).toBeDefined();
    const messages = fake.requests.at(-1)!.body.messages as Array<{ role: string; content: unknown[] }>;
    expect(messages[1]).toEqual({
      role: 'assistant',
      content: [{ toolUse: { toolUseId: 'call_1', name: 'get_weather', input: { city: 'Paris' } } }],
    });
    expect(messages[2]).toEqual({
      role: 'user',
      content: [{ toolResult: { toolUseId: 'call_1', content: [{ text: 'sunny' }] } }],
    });
  });

  it('sends images as bytes, and refuses an image link naming the field', async () => {
    const png = Buffer.from('89504e470d0a1a0a', 'hex').toString('base64');
    await client.chat.completions.create({
      model: 'claude',
      messages: [
        {
          role: 'user',
          content: [
            { type: 'text', text: 'what is this' },
            { type: 'image_url', image_url: { url: `data:image/png;base64,${png}` } },
          ],
        },
      ],
    });
    const content = (fake.requests.at(-1)!.body.messages as Array<{ content: unknown[] }>)[0]!.content;
    expect(content[1]).toEqual({ image: { format: 'png', source: { bytes: png } } });
    const link = await client.chat.completions
      .create({
        model: 'claude',
        messages: [
          { role: 'user', content: [{ type: 'image_url', image_url: { url: 'https://example.com/a.png' } }] },
        ],
      })
      .catch((e: unknown) => e as InstanceType<typeof OpenAI.APIError>);
    expect(link).toBeInstanceOf(OpenAI.BadRequestError);
  });

  it('names Bedrock, not Anthropic, when a request has what Converse cannot take', async () => {
    const bad = await client.chat.completions
      .create({ model: 'claude', messages: [{ role: 'user', content: 'hi' }], frequency_penalty: 0.5 })
      .catch((e: unknown) => e as InstanceType<typeof OpenAI.APIError>);
    expect(bad).toBeInstanceOf(OpenAI.BadRequestError);
    expect((bad as InstanceType<typeof OpenAI.APIError>).message).toMatch(
      /frequency_penalty: Bedrock Converse has no such parameter/,
    );
  });
});

describe('Bedrock failures, as our failure kinds', () => {
  it('a ThrottlingException is a 429, before a stream as well as for a plain call', async () => {
    fake.script([
      { status: 429, errorType: 'ThrottlingException', message: 'Too many requests, please wait' },
    ]);
    const plain = await client.chat.completions
      .create({ model: 'claude', messages: user('x') })
      .catch((e: unknown) => e);
    expect(plain).toBeInstanceOf(OpenAI.RateLimitError);
    expect((plain as Error).message).toContain('Too many requests');
    fake.script([{ streamException: 'throttlingException', exceptionAfterEvents: 0 }]);
    const streamed = await client.chat.completions
      .create({ model: 'claude', messages: user('x'), stream: true })
      .then(async (s) => {
        for await (const _ of s) {
          // read to the end
        }
      })
      .catch((e: unknown) => e);
    expect(streamed).toBeInstanceOf(OpenAI.RateLimitError);
  });

  it('a wrong secret or an expired session token is refused by Bedrock: a 502, classified (the exception is for the log)', async () => {
    // InvalidSignatureException and ExpiredToken, from the fake's two models.
    for (const model of ['claude-wrong-secret', 'claude-expired']) {
      const error = await client.chat.completions
        .create({ model, messages: user('x') })
        .catch((e: unknown) => e);
      expect((error as InstanceType<typeof OpenAI.APIError>).status, model).toBe(502);
      // The client (a tenant) is told the proxy's credentials were refused, not Bedrock's words
      // about the operator's secret: those go to the log.
      expect((error as Error).message).toContain("refused the proxy's credentials (HTTP 403)");
      expect((error as Error).message).not.toMatch(/signature|expired|AKIA/i);
    }
  });
});

describe('Bedrock embeddings', () => {
  it('embeds with Titan (one call a text) and Cohere (one call a list)', async () => {
    for (const model of ['titan', 'cohere-embed']) {
      const answer = await client.embeddings.create({ model, input: ['first text', 'second text'] });
      expect(
        answer.data.map((d) => d.embedding.length),
        model,
      ).toEqual([1024, 1024]);
      expect(answer.data[0]!.embedding).not.toEqual(answer.data[1]!.embedding);
    }
    expect(fake.requests.at(-1)!.body).toEqual({
      texts: ['first text', 'second text'],
      input_type: 'search_document',
    });
  });
});

describe('a provider semroute cannot call', () => {
  it('starts unavailable: a request only it could serve is a 400 naming it, a fallback serves the other', async () => {
    const only = await client.chat.completions
      .create({ model: 'sagemaker-only', messages: user('x') })
      .catch((e: unknown) => e);
    expect(only).toBeInstanceOf(OpenAI.BadRequestError);
    expect((only as Error).message).toContain('semroute cannot call sagemaker');
    const fallen = await client.chat.completions
      .create({ model: 'sagemaker-then-bedrock', messages: user('fall back') })
      .withResponse();
    expect(fallen.data.choices[0]?.message.content).toBe('echo: fall back');
    expect(fallen.response.headers.get('x-semroute-model')).toBe('claude-fallback');
  });

  it('is shown in /health: why, to the master key; counts only to anyone else', async () => {
    const health = async (key?: string) =>
      (await (
        await fetch(`${server.url}/health`, key ? { headers: { authorization: `Bearer ${key}` } } : {})
      ).json()) as {
        unhealthy_count: number;
        deployments?: Array<{ model: string; healthy: boolean; unavailable?: string }>;
      };
    const operator = (await health(MASTER)).deployments?.find((d) => d.model === 'sagemaker-only');
    expect(operator?.healthy).toBe(false);
    expect(operator?.unavailable).toContain('semroute cannot call sagemaker');
    const anyone = await health();
    expect(anyone.deployments).toBeUndefined();
    expect(anyone.unhealthy_count).toBeGreaterThanOrEqual(2);
    expect(JSON.stringify(anyone)).not.toContain('sagemaker');
  });
});
