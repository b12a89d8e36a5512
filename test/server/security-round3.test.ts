/**
 * Security review, round 3 (issue 33): what one low-privilege key can do to everyone else. Each
 * attack is sent to a running `semroute serve` as the attacker sent it, once with the state in
 * memory and once in a real redis-server (cooldowns are shared state: they must hold in both).
 * No timing is asserted: each test checks the mechanism that stops the attack (a 400 before any
 * work, a deployment left uncharged, an answer that arrives at all).
 */
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { errors as undiciErrors } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toUpstreamError } from '../../src/gateway/upstream/errors.js';
import { ErrorCode, SemrouteError } from '../../src/errors.js';
import { type FakeUpstream, startFakeUpstream } from '../../src/fake-upstream/fake-upstream.js';
import { serve } from '../../src/server/serve.js';
import { tempDir } from '../helpers/encoder.js';
import { startRedis, type TestRedis } from '../helpers/redis.js';

const MASTER = 'sk-round3-master-0123456789';
const TENANT = 'sk-round3-tenant-key-000001';

let upstream: FakeUpstream;
let redis: TestRedis;
let dir: { dir: string; cleanup: () => Promise<void> };

beforeAll(async () => {
  [upstream, redis, dir] = await Promise.all([startFakeUpstream(), startRedis(), tempDir()]);
}, 60_000);

afterAll(async () => {
  await Promise.all([upstream?.close(), redis?.close()]);
  await dir?.cleanup();
});

async function proxy(store: 'memory' | 'redis', prefix: string) {
  const config = path.join(dir.dir, `${prefix}.yaml`);
  await writeFile(
    config,
    `
model_list:
  - model_name: shared
    litellm_params: { model: openai/gpt-4o, api_base: ${upstream.url}, api_key: sk-up, timeout: 30 }
    model_info: { id: ${prefix}-shared-1 }
  - model_name: other
    litellm_params: { model: openai/gpt-4o-mini, api_base: ${upstream.url}, api_key: sk-up }
    model_info: { id: ${prefix}-other-1 }
router_settings:
  num_retries: 2
  allowed_fails: 0
  fallbacks: [{ shared: [other] }]
${store === 'redis' ? `  redis_host: 127.0.0.1\n  redis_port: ${redis.port}\n  redis_key_prefix: "${prefix}:"` : ''}
general_settings:
  master_key: ${MASTER}
  keys: [{ key: ${TENANT}, models: [shared, other, auto] }]
`,
  );
  const server = await serve({ config, port: 0, signals: false, watch: false, logger: false });
  const post = async (body: unknown, key = TENANT) => {
    const res = await fetch(`${server.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    return {
      status: res.status,
      headers: res.headers,
      json: (await res.json()) as { error?: { message: string; param?: string | null; code?: string } },
    };
  };
  /** Deployments cooling, as the master key's /health lists them. */
  const cooling = async () => {
    const health = (await (
      await fetch(`${server.url}/health`, { headers: { authorization: `Bearer ${MASTER}` } })
    ).json()) as { unhealthy_count?: number };
    return health.unhealthy_count ?? 0;
  };
  return { server, post, cooling };
}

const ask = (extra: Record<string, unknown> = {}) => ({
  model: 'shared',
  messages: [{ role: 'user', content: 'hello' }],
  ...extra,
});

describe.each(['memory', 'redis'] as const)('one tenant cannot harm the others (state in %s)', (store) => {
  let p: Awaited<ReturnType<typeof proxy>>;
  beforeAll(async () => {
    p = await proxy(store, `r3-${store}`);
  }, 60_000);
  afterAll(async () => {
    await p?.server.close();
  });

  it("1. auto's patterns cannot freeze the event loop: star runs match in linear time, long lists are refused", async () => {
    // A backtracking RegExp took 11.7 s at 17 stars and 3.6× per extra star: at 40 this answer
    // would never come.
    for (const body of [
      { model: 'auto', models: [`${'*'.repeat(40)}Z`], messages: [{ role: 'user', content: 'hi' }] },
      {
        model: 'auto',
        plugins: [{ id: 'auto-router', allowed_models: [`${'*a'.repeat(40)}Z`] }],
        messages: [{ role: 'user', content: 'hi' }],
      },
    ]) {
      const res = await p.post(body);
      expect(res.status).toBe(400);
      expect(res.json.error?.code).toBe(ErrorCode.POOL_EMPTY);
    }
    const many = await p.post({ model: 'auto', models: Array(65).fill('*'), messages: ask().messages });
    expect(many.status).toBe(400);
    expect(many.json.error?.param).toBe('models');
    const long = await p.post({
      model: 'auto',
      plugins: [{ id: 'auto-router', allowed_models: ['x'.repeat(257)] }],
      messages: ask().messages,
    });
    expect(long.status).toBe(400);
    expect(long.json.error?.param).toBe('plugins[0].allowed_models[0]');
    // Patterns still work as OpenRouter documents them.
    const pooled = await p.post({ model: 'auto', models: ['oth*'], messages: ask().messages });
    expect(pooled.status).toBe(200);
    expect(pooled.headers.get('x-semroute-model')).toBe('other');
  });

  it("2. a client's own tiny timeout is its own failure: not retried, no deployment cooled for anyone", async () => {
    upstream.behave({ latencyMs: 1_000 });
    try {
      const before = upstream.attempts;
      for (let i = 0; i < 3; i++) {
        const res = await p.post(ask({ timeout: 0.1 }));
        expect(res.status).toBe(504);
        expect(res.json.error?.code).toBe('RequestTimeout');
        // Its 100 ms run out during the call (or, on a very loaded machine, before one is made).
        expect(res.json.error?.message).toMatch(/the request's own time limit|the request's time budget/);
      }
      // At most one call per request: no retry, no fallback to `other`.
      expect(upstream.attempts - before).toBeLessThanOrEqual(3);
      expect(upstream.attempts - before).toBeGreaterThan(0);
      expect(await p.cooling()).toBe(0);
    } finally {
      upstream.behave({ latencyMs: 0 });
    }
    // Everyone else is served by `shared` itself, at the first try.
    const normal = await p.post(ask(), MASTER);
    expect(normal.status).toBe(200);
    expect(normal.headers.get('x-semroute-model')).toBe('shared');
    expect(normal.headers.get('x-semroute-attempts')).toBe('1');
  });

  it('3. extra_headers no HTTP request may carry are a 400 naming the header, never a deployment failure', async () => {
    const before = upstream.attempts;
    for (const [headers, param] of [
      [{ 'x-trace': 'a\r\nInjected: 1' }, 'extra_headers.x-trace'],
      [{ 'x-nul': 'a\u0000b' }, 'extra_headers.x-nul'],
      [{ 'bad name': 'v' }, 'extra_headers.bad name'],
      [{ Authorization: 'Bearer stolen' }, 'extra_headers.Authorization'],
      [{ 'x-number': 5 }, 'extra_headers.x-number'],
    ] as const) {
      const res = await p.post(ask({ extra_headers: headers }));
      expect(res.status, JSON.stringify(headers)).toBe(400);
      expect(res.json.error?.param).toBe(param);
    }
    expect(upstream.attempts).toBe(before);
    expect(await p.cooling()).toBe(0);
    // A fine header still goes through.
    const ok = await p.post(ask({ extra_headers: { 'x-trace': 'abc-123' } }));
    expect(ok.status).toBe(200);
    expect(upstream.requests.at(-1)!.headers['x-trace']).toBe('abc-123');
  });
});

describe('a request undici refuses locally', () => {
  it("is the request's INPUT_INVALID, never an APIConnectionError charged to the deployment", () => {
    const deployment = { id: 'd1', group: 'g' } as Parameters<typeof toUpstreamError>[1];
    const error = toUpstreamError(
      new undiciErrors.InvalidArgumentError('invalid x-a header'),
      deployment,
      undefined,
    );
    expect(error).toBeInstanceOf(SemrouteError);
    expect(error.code).toBe(ErrorCode.INPUT_INVALID);
    expect(error.constructor.name).not.toBe('UpstreamError');
  });
});
