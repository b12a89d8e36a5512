/**
 * What a client and the log learn when upstreams fail: the upstream's own status and message,
 * naming the group and deployment, keys scrubbed; a 429 "cooling down" only for a group that was
 * cooling before the request came; one log line per deployment and kind, however many failures.
 */
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Writable } from 'node:stream';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FakeUpstream, startFakeUpstream } from '../../src/fake-upstream/fake-upstream.js';
import { serve } from '../../src/server/serve.js';
import { tempDir } from '../helpers/encoder.js';

const MASTER = 'sk-errors-master-0123456789';
const WRONG_KEY = 'sk-wrong-upstream-key-777';
let upstream: FakeUpstream;
let server: Awaited<ReturnType<typeof serve>>;
let dir: { dir: string; cleanup: () => Promise<void> };
const lines: Array<Record<string, unknown>> = [];

beforeAll(async () => {
  upstream = await startFakeUpstream({ apiKeys: ['sk-right'], models: ['gpt-4o', 'flaky-model'] });
  const root = upstream.url.replace(/\/v1$/, '');
  dir = await tempDir();
  const config = path.join(dir.dir, 'config.yaml');
  await writeFile(
    config,
    `
model_list:
  - model_name: no-v1
    litellm_params: { model: openai/gpt-4o, api_base: ${root}, api_key: sk-right }
  - model_name: wrong-key
    litellm_params: { model: openai/gpt-4o, api_base: ${upstream.url}, api_key: ${WRONG_KEY} }
  - model_name: typo
    litellm_params: { model: openai/gpt-4o-typo, api_base: ${upstream.url}, api_key: sk-right }
  - model_name: cools
    litellm_params: { model: openai/gpt-4o-typo, api_base: ${upstream.url}, api_key: sk-right }
  - model_name: storm
    litellm_params: { model: openai/flaky-model, api_base: ${upstream.url}, api_key: sk-right, cooldown_time: 0 }
router_settings:
  num_retries: 1
  allowed_fails: 0
  cooldown_time: 60
  model_group_cooldown: { storm: { allowed_fails: 100000 } }
general_settings:
  master_key: ${MASTER}
`,
  );
  const sink = new Writable({
    write(chunk, _enc, done) {
      for (const line of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(line));
      done();
    },
  });
  server = await serve({
    config,
    port: 0,
    signals: false,
    watch: false,
    logger: { level: 'info', stream: sink },
  });
}, 60_000);

afterAll(async () => {
  await server?.close();
  await upstream?.close();
  await dir?.cleanup();
});

const client = () => new OpenAI({ apiKey: MASTER, baseURL: `${server.url}/v1`, maxRetries: 0 });
/** The error a request ends with (a request that succeeds fails the test). */
const ask = async (model: string): Promise<InstanceType<typeof OpenAI.APIError>> => {
  try {
    await client().chat.completions.create({ model, messages: [{ role: 'user', content: 'hello' }] });
  } catch (error) {
    return error as InstanceType<typeof OpenAI.APIError>;
  }
  throw new Error(`${model} answered`);
};
const failures = (group: string) =>
  lines.filter((l) => l.msg === 'upstream call failed' && l.group === group);

describe('upstream errors reach the client and the log', () => {
  it('a base URL without /v1: the upstream 404 stays a 404, says which upstream and suggests /v1', async () => {
    const error = await ask('no-v1');
    expect(error).toBeInstanceOf(OpenAI.NotFoundError);
    expect(error.message).toContain('upstream no-v1');
    expect(error.message).toContain('answered HTTP 404');
    expect(error.message).toMatch(/hint: api_base .* has no \/v1/);
    expect(failures('no-v1')).toHaveLength(1);
    expect(failures('no-v1')[0]).toMatchObject({ status: 404, kind: 'NotFoundError' });
  });

  it('a wrong key: 502 (the client key was fine), never retried by the SDK, the key scrubbed everywhere', async () => {
    const error = await ask('wrong-key');
    expect(error.status).toBe(502);
    expect(error.headers?.get('x-should-retry')).toBe('false');
    // The client is told what happened, classified; the upstream's words (about the operator's
    // key) stay in the log, redacted.
    expect(error.message).toContain("the upstream refused the proxy's credentials (HTTP 401)");
    expect(error.message).not.toContain('Incorrect API key');
    expect(error.message).not.toContain(WRONG_KEY);
    const logged = failures('wrong-key');
    expect(logged).toHaveLength(1);
    expect(JSON.stringify(logged)).toContain('Incorrect API key provided: [redacted]');
    expect(JSON.stringify(logged)).not.toContain(WRONG_KEY);
    // The deployment now cools; the SDK, told not to retry, gives up at once instead of waiting.
    const before = upstream.attempts;
    let sent = 0;
    const again = (await new OpenAI({
      apiKey: MASTER,
      baseURL: `${server.url}/v1`,
      maxRetries: 2,
      fetch: (url, init) => {
        sent++;
        return fetch(url, init);
      },
    }).chat.completions
      .create({ model: 'wrong-key', messages: [{ role: 'user', content: 'again' }] })
      .catch((e: unknown) => e)) as InstanceType<typeof OpenAI.APIError>;
    expect(again.status).toBe(429);
    expect(again.message).toContain('the last failure: AuthenticationError (HTTP 401)');
    expect(again.message).not.toContain(WRONG_KEY);
    // One request from the SDK: x-should-retry: false kept it from retrying a 429 twice more.
    expect(sent).toBe(1);
    expect(upstream.attempts).toBe(before);
  });

  it('an unknown model: the upstream says so, with the group and deployment', async () => {
    const error = await ask('typo');
    expect(error).toBeInstanceOf(OpenAI.NotFoundError);
    expect(error.message).toContain('The model `gpt-4o-typo` does not exist');
    expect(error.message).toMatch(/upstream typo \(deployment [0-9a-f]+\)/);
  });

  it('a group cooled by this very request answers its failure; one already cooling answers 429 naming that failure', async () => {
    const first = await ask('cools');
    expect(first.status).toBe(404);
    const second = await ask('cools');
    expect(second).toBeInstanceOf(OpenAI.RateLimitError);
    expect(second.message).toContain('cooling down');
    expect(second.message).toContain('the last failure: NotFoundError (HTTP 404)');
    expect(Number(second.headers?.get('retry-after'))).toBeGreaterThan(0);
    const cooling = lines.filter((l) => l.msg === 'deployment cooling down' && l.group === 'cools');
    expect(cooling).toHaveLength(1);
  });

  it('a storm of 1,000 failures writes a bounded number of log lines', async () => {
    upstream.behave({ failRate: 1, failStatus: 500 });
    try {
      const before = upstream.attempts;
      const c = client();
      let next = 0;
      await Promise.all(
        Array.from({ length: 50 }, async () => {
          while (next < 500) {
            next++;
            await c.chat.completions
              .create({ model: 'storm', messages: [{ role: 'user', content: 'x' }] })
              .catch(() => undefined);
          }
        }),
      );
      expect(upstream.attempts - before).toBeGreaterThanOrEqual(1000);
      // One line at the first failure; the rest wait for the window's summary.
      expect(failures('storm')).toHaveLength(1);
      expect(lines.filter((l) => l.msg === 'request failed')).toHaveLength(0);
    } finally {
      upstream.behave({ failRate: 0 });
    }
  });
});

describe('set_verbose', () => {
  it('turns on one debug line per request (never the prompt), as --log-level debug does', async () => {
    const config = path.join(dir.dir, 'verbose.yaml');
    await writeFile(
      config,
      `model_list:
  - model_name: g
    litellm_params: { model: openai/gpt-4o, api_base: ${upstream.url}, api_key: sk-right }
litellm_settings:
  set_verbose: true
`,
    );
    const seen: Array<Record<string, unknown>> = [];
    const sink = new Writable({
      write(chunk, _enc, done) {
        for (const line of chunk.toString().split('\n').filter(Boolean)) seen.push(JSON.parse(line));
        done();
      },
    });
    const verbose = await serve({ config, port: 0, signals: false, watch: false, logger: { stream: sink } });
    try {
      const c = new OpenAI({ apiKey: 'any', baseURL: `${verbose.url}/v1`, maxRetries: 0 });
      await c.chat.completions.create({
        model: 'g',
        messages: [{ role: 'user', content: 'a very private prompt' }],
      });
      const line = seen.find((l) => l.msg === 'request');
      expect(line).toMatchObject({ level: 20, endpoint: 'chat', model: 'g', status: 200, attempts: 1 });
      expect(JSON.stringify(seen)).not.toContain('a very private prompt');
    } finally {
      await verbose.close();
    }
  });
});
