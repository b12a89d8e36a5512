/**
 * Google Vertex AI through the proxy, driven with the official openai client against a fake
 * Vertex and OAuth token endpoint written from Google's documentation: a service account's
 * RS256 JWT exchanged for a token (kept and reused), a user's refresh token, a token revoked
 * early refreshed once, Gemini over Vertex's OpenAI-compatible endpoint and Anthropic's models
 * over rawPredict / streamRawPredict, and credentials mistakes named at start.
 */
import { generateKeyPairSync } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadProxyConfig } from '../../src/config/proxy-config.js';
import { isSemrouteError } from '../../src/errors.js';
import { type FakeVertex, startFakeVertex } from '../../src/fake-upstream/fake-vertex.js';
import { serve } from '../../src/server/serve.js';
import { tempDir } from '../helpers/encoder.js';

const MASTER = 'sk-vertex-master-0000';
const EMAIL = 'semroute-test@test-project.iam.gserviceaccount.com';
const USER = {
  clientId: 'fake-client.apps.googleusercontent.com',
  clientSecret: 'fake-secret',
  refreshToken: '1//fake-refresh',
};
let fake: FakeVertex;
let server: Awaited<ReturnType<typeof serve>>;
let dir: { dir: string; cleanup: () => Promise<void> };
let client: OpenAI;
let config: string;

const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const { privateKey: strangerKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const pem = (key: typeof privateKey) => key.export({ type: 'pkcs8', format: 'pem' }).toString();

beforeAll(async () => {
  [fake, dir] = await Promise.all([
    startFakeVertex({
      serviceAccount: { clientEmail: EMAIL, publicKey },
      authorizedUser: USER,
      project: 'test-project',
      locations: ['us-central1', 'us-east5'],
    }),
    tempDir(),
  ]);
  const key = (secret: string) =>
    JSON.stringify({
      type: 'service_account',
      project_id: 'test-project',
      private_key_id: 'abc123',
      private_key: secret,
      client_email: EMAIL,
      token_uri: fake.tokenUri,
    });
  const keyFile = path.join(dir.dir, 'service-account.json');
  await writeFile(keyFile, key(pem(privateKey)));
  await writeFile(path.join(dir.dir, 'stranger.json'), key(pem(strangerKey)));
  await writeFile(
    path.join(dir.dir, 'adc.json'),
    JSON.stringify({
      type: 'authorized_user',
      client_id: USER.clientId,
      client_secret: USER.clientSecret,
      refresh_token: USER.refreshToken,
      token_uri: fake.tokenUri,
      quota_project_id: 'test-project',
    }),
  );
  config = path.join(dir.dir, 'config.yaml');
  // LiteLLM's documented Vertex params: vertex_project, vertex_location, vertex_credentials
  // (a path, or the JSON through os.environ/), else GOOGLE_APPLICATION_CREDENTIALS.
  await writeFile(
    config,
    `model_list:
  - model_name: gemini
    litellm_params:
      model: vertex_ai/gemini-2.0-flash
      vertex_project: test-project
      vertex_location: us-central1
      vertex_credentials: ${keyFile}
      api_base: ${fake.url}
  - model_name: claude
    litellm_params:
      model: vertex_ai/claude-3-5-sonnet-v2@20241022
      vertex_location: us-east5
      vertex_credentials: os.environ/VERTEX_SA_JSON
      api_base: ${fake.url}
  - model_name: gemini-user
    litellm_params: { model: vertex_ai/gemini-2.0-flash, api_base: ${fake.url} }
  - model_name: gemini-stranger
    litellm_params:
      model: vertex_ai/gemini-2.0-flash
      vertex_project: test-project
      vertex_credentials: ${path.join(dir.dir, 'stranger.json')}
      api_base: ${fake.url}
router_settings: { num_retries: 0 }
general_settings: { master_key: ${MASTER} }
`,
  );
  server = await serve({
    config,
    port: 0,
    signals: false,
    watch: false,
    logger: false,
    env: {
      VERTEX_SA_JSON: key(pem(privateKey)),
      GOOGLE_APPLICATION_CREDENTIALS: path.join(dir.dir, 'adc.json'),
      PATH: process.env.PATH,
    },
  });
  client = new OpenAI({ apiKey: MASTER, baseURL: `${server.url}/v1`, maxRetries: 0 });
}, 60_000);

afterAll(async () => {
  await server?.close();
  await fake?.close();
  await dir?.cleanup();
});

const user = (content: string) => [{ role: 'user' as const, content }];
const last = () => fake.requests.at(-1)!;

describe('Gemini on Vertex AI', () => {
  it('answers through the OpenAI-compatible endpoint of the project and location, with a fetched token', async () => {
    const answer = await client.chat.completions.create({ model: 'gemini', messages: user('hello vertex') });
    expect(answer.choices[0]?.message.content).toBe('echo: hello vertex');
    expect(last().url).toBe(
      '/v1/projects/test-project/locations/us-central1/endpoints/openapi/chat/completions',
    );
    expect(last().body.model).toBe('google/gemini-2.0-flash');
    expect(String(last().headers.authorization)).toMatch(/^Bearer ya29\.fake-/);
  });

  it('keeps the token: more calls fetch none; streamed as OpenAI chunks', async () => {
    const before = fake.issued;
    await client.chat.completions.create({ model: 'gemini', messages: user('again') });
    const stream = await client.chat.completions.create({
      model: 'gemini',
      messages: user('stream me now'),
      stream: true,
    });
    let text = '';
    for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? '';
    expect(text).toBe('echo: stream me now');
    expect(fake.issued).toBe(before);
  });

  it('refreshes a token revoked early once, plain and streamed, and the call succeeds', async () => {
    for (const stream of [false, true]) {
      fake.revokeAll();
      const before = fake.issued;
      const calls = fake.requests.length;
      if (stream) {
        const s = await client.chat.completions.create({
          model: 'gemini',
          messages: user('after revoke'),
          stream: true,
        });
        let text = '';
        for await (const chunk of s) text += chunk.choices[0]?.delta.content ?? '';
        expect(text).toBe('echo: after revoke');
      } else {
        const answer = await client.chat.completions.create({
          model: 'gemini',
          messages: user('after revoke'),
        });
        expect(answer.choices[0]?.message.content).toBe('echo: after revoke');
      }
      expect(fake.issued).toBe(before + 1);
      // The refused call and the one that worked.
      expect(fake.requests.length - calls).toBe(2);
    }
  });

  it('uses GOOGLE_APPLICATION_CREDENTIALS (a user refresh token) and its quota project', async () => {
    const answer = await client.chat.completions.create({
      model: 'gemini-user',
      messages: user('as a user'),
    });
    expect(answer.choices[0]?.message.content).toBe('echo: as a user');
    expect(last().url).toContain('/projects/test-project/locations/us-central1/');
  });

  it('a token Google refuses is classified for the client (the service account is the log’s), and a 429 is a rate limit', async () => {
    const refused = await client.chat.completions
      .create({ model: 'gemini-stranger', messages: user('x') })
      .catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(OpenAI.APIError);
    expect((refused as Error).message).toContain("refused the proxy's credentials");
    expect((refused as Error).message).not.toContain(EMAIL);

    fake.script([{ status: 429 }]);
    const limited = await client.chat.completions
      .create({ model: 'gemini', messages: user('x') })
      .catch((e: unknown) => e);
    expect(limited).toBeInstanceOf(OpenAI.RateLimitError);
    expect((limited as Error).message).toContain('Resource exhausted');
  });
});

describe("Anthropic's models on Vertex AI", () => {
  it('answers through rawPredict: the Messages body without model, with anthropic_version', async () => {
    const answer = await client.chat.completions.create({
      model: 'claude',
      messages: [
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content: 'hello claude on vertex' },
      ],
      max_tokens: 64,
    });
    expect(answer.choices[0]?.message.content).toBe('echo: hello claude on vertex');
    expect(answer.choices[0]?.finish_reason).toBe('stop');
    expect(last().url).toBe(
      `/v1/projects/test-project/locations/us-east5/publishers/anthropic/models/${encodeURIComponent('claude-3-5-sonnet-v2@20241022')}:rawPredict`,
    );
    expect(last().body).toMatchObject({
      anthropic_version: 'vertex-2023-10-16',
      max_tokens: 64,
      system: [{ type: 'text', text: 'Be brief.' }],
    });
    expect(last().body).not.toHaveProperty('model');
  });

  it('streams through streamRawPredict as OpenAI chunks, usage included', async () => {
    const stream = await client.chat.completions.create({
      model: 'claude',
      messages: user('stream from claude'),
      stream: true,
      stream_options: { include_usage: true },
    });
    let text = '';
    let usage: OpenAI.CompletionUsage | null | undefined;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta.content ?? '';
      usage = chunk.usage ?? usage;
    }
    expect(text).toBe('echo: stream from claude');
    expect(usage?.prompt_tokens).toBe(9);
    expect(last().url).toMatch(/:streamRawPredict$/);
  });
});

describe('Vertex AI configuration mistakes', () => {
  const load = async (params: string, env: NodeJS.ProcessEnv = {}) => {
    const file = path.join(dir.dir, `bad-${Math.random().toString(36).slice(2)}.yaml`);
    await writeFile(
      file,
      `model_list:\n  - model_name: g\n    litellm_params: { model: vertex_ai/gemini-2.0-flash, ${params} }\n`,
    );
    return loadProxyConfig(file, { PATH: process.env.PATH, ...env }).then(
      () => undefined,
      (error: unknown) => error,
    );
  };

  it('names an unreadable key file, a key that is not one, and a missing project, with their paths', async () => {
    const missing = await load(`vertex_project: p, vertex_credentials: ${path.join(dir.dir, 'nope.json')}`);
    expect(isSemrouteError(missing) && missing.path).toBe('model_list[0].litellm_params.vertex_credentials');
    expect((missing as Error).message).toContain('cannot be read');

    await writeFile(path.join(dir.dir, 'not-a-key.json'), '{"type": "external_account"}');
    const wrong = await load(
      `vertex_project: p, vertex_credentials: ${path.join(dir.dir, 'not-a-key.json')}`,
    );
    expect((wrong as Error).message).toContain('"external_account" is not one semroute reads');

    const noProject = await load('vertex_location: us-central1');
    expect(isSemrouteError(noProject) && noProject.path).toBe('model_list[0].litellm_params.vertex_project');
    expect((noProject as Error).message).toContain('VERTEXAI_PROJECT');
  });
});
