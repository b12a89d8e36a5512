/**
 * Two `semroute serve` processes sharing one redis-server, driven with the official openai
 * client over real sockets: cooldowns, rpm limits, sessions and cached responses are shared;
 * losing Redis costs sharing, never a request.
 */
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FakeUpstream, startFakeUpstream } from '../../src/fake-upstream/fake-upstream.js';
import { serve } from '../../src/server/serve.js';
import { tempDir } from '../helpers/encoder.js';
import { type ProxyProcess, startProxyProcess } from '../helpers/proxy-process.js';
import { startRedis, type TestRedis } from '../helpers/redis.js';

const MASTER = 'sk-multi-master-0123456789';
let redis: TestRedis;
let u1: FakeUpstream;
let u2: FakeUpstream;
let dir: { dir: string; cleanup: () => Promise<void> };
let a: ProxyProcess;
let b: ProxyProcess;
let clientA: OpenAI;
let clientB: OpenAI;
const figures: Record<string, number | string> = {};

const ask = (content: string, model = 'pool') => ({
  model,
  messages: [{ role: 'user' as const, content }],
});

async function readiness(p: ProxyProcess) {
  return (await (await fetch(`${p.url}/health/readiness`)).json()) as {
    state_store: { kind: string; connected: boolean; mode: string; lastError?: string };
  };
}

beforeAll(async () => {
  redis = await startRedis();
  [u1, u2] = await Promise.all([startFakeUpstream(), startFakeUpstream()]);
  dir = await tempDir();
  const config = path.join(dir.dir, 'config.yaml');
  await writeFile(
    path.join(dir.dir, 'auto.json'),
    JSON.stringify({
      routes: [
        {
          name: 'code',
          utterances: ['how to code a program in [language]', 'fix this bug in my code'],
          metadata: { models: ['anthropic/*'] },
        },
        {
          name: 'small-talk',
          utterances: ['hello, how are you', 'tell me a joke', 'good morning'],
          metadata: { models: ['openai/*'] },
        },
      ],
    }),
  );
  await writeFile(
    config,
    `
model_list:
  - model_name: pool
    litellm_params: { model: openai/pool-1, api_base: ${u1.url}, api_key: sk-up }
    model_info: { id: pool-1 }
  - model_name: pool
    litellm_params: { model: openai/pool-2, api_base: ${u2.url}, api_key: sk-up }
    model_info: { id: pool-2 }
  - model_name: limited
    litellm_params: { model: openai/limited, api_base: ${u2.url}, api_key: sk-up, rpm: 10 }
    model_info: { id: limited }
  - model_name: anthropic/claude-haiku
    litellm_params: { model: openai/haiku, api_base: ${u2.url}, api_key: sk-up }
    model_info: { id: haiku, quality: 6, input_cost_per_token: 0.000001, output_cost_per_token: 0.000005 }
  - model_name: openai/gpt-5-mini
    litellm_params: { model: openai/mini, api_base: ${u2.url}, api_key: sk-up }
    model_info: { id: mini, quality: 7, input_cost_per_token: 0.00000025, output_cost_per_token: 0.000002 }
router_settings:
  redis_host: 127.0.0.1
  redis_port: os.environ/TEST_REDIS_PORT
  redis_key_prefix: "multi:"
  num_retries: 1
  allowed_fails: 0
  cooldown_time: 120
  cache_responses: true
  auto_router_config_path: auto.json
general_settings:
  master_key: ${MASTER}
`,
  );
  const env = { TEST_REDIS_PORT: String(redis.port), SEMROUTE_CACHE_DIR: path.join(dir.dir, 'cache') };
  // One after the other: the second loads the first's compiled routes.
  a = await startProxyProcess(config, env);
  b = await startProxyProcess(config, env);
  clientA = new OpenAI({ baseURL: `${a.url}/v1`, apiKey: MASTER, maxRetries: 0 });
  clientB = new OpenAI({ baseURL: `${b.url}/v1`, apiKey: MASTER, maxRetries: 0 });
}, 120_000);

afterAll(async () => {
  console.log(`multi-instance figures: ${JSON.stringify(figures)}`);
  await Promise.all([a?.stop(), b?.stop()]);
  await Promise.all([u1?.close(), u2?.close(), redis?.close()]);
  await dir?.cleanup();
});

describe('two proxies, one redis-server', () => {
  it('both report the shared store ready', async () => {
    for (const p of [a, b]) {
      expect((await readiness(p)).state_store).toMatchObject({
        kind: 'redis',
        connected: true,
        mode: 'shared',
      });
    }
  });

  it('a deployment cooled through one instance is skipped by the other', async () => {
    u1.behave({ failRate: 1 });
    let viaA = 0;
    // simple-shuffle picks pool-1 at random; its first 500 cools it (allowed_fails 0), the retry lands on pool-2.
    while (u1.attempts === 0 && viaA < 40) {
      const answer = await clientA.chat.completions.create(ask(`warm ${viaA}`));
      expect(answer.model).toBe('pool');
      viaA++;
    }
    expect(u1.attempts).toBe(1);
    const health = (await (
      await fetch(`${b.url}/health`, { headers: { authorization: `Bearer ${MASTER}` } })
    ).json()) as {
      deployments: Array<{ id: string; healthy: boolean }>;
    };
    expect(health.deployments.find((d) => d.id === 'pool-1')?.healthy).toBe(false);
    let hits = 0;
    for (let i = 0; i < 30; i++) {
      const { response } = await clientB.chat.completions.create(ask(`after ${i}`)).withResponse();
      if (response.headers.get('x-semroute-model-id') === 'pool-2') hits++;
    }
    // Without shared cooldowns about half of these would have gone to pool-1.
    expect(hits).toBe(30);
    expect(u1.attempts).toBe(1);
    figures.cooldown_requests_via_a = viaA;
    figures.cooldown_skips_via_b = hits;
    u1.behave({ failRate: 0 });
  });

  it('an rpm limit holds across two instances under concurrency', async () => {
    // Two more instances on the same Redis, in this process, whose clock stands still inside one
    // minute: the limit is tested, not the minute boundary.
    const frozen = Math.floor(Date.now() / 60_000) * 60_000 + 1_000;
    process.env.TEST_REDIS_PORT = String(redis.port);
    const serveFrozen = () =>
      serve({
        config: path.join(dir.dir, 'config.yaml'),
        port: 0,
        signals: false,
        watch: false,
        clock: () => frozen,
        logger: { level: 'silent' },
      });
    const [c, d] = await Promise.all([serveFrozen(), serveFrozen()]);
    try {
      const clients = [c, d].map(
        (p) => new OpenAI({ baseURL: `${p.url}/v1`, apiKey: MASTER, maxRetries: 0 }),
      );
      const before = u2.attempts;
      const results = await Promise.allSettled(
        Array.from({ length: 16 }, (_, i) =>
          clients[i % 2]!.chat.completions.create(ask(`limited ${i}`, 'limited')),
        ),
      );
      const served = results.filter((r) => r.status === 'fulfilled').length;
      const rejected = results.flatMap((r) =>
        r.status === 'rejected' ? [r.reason as InstanceType<typeof OpenAI.APIError>] : [],
      );
      expect(served).toBe(10);
      expect(u2.attempts - before).toBe(10);
      expect(rejected).toHaveLength(6);
      for (const error of rejected) {
        expect(error.status).toBe(429);
        expect(error.message).toMatch(/rpm\/tpm limit/);
      }
      figures.rpm_limit = 10;
      figures.rpm_served = served;
      figures.rpm_rejected = rejected.length;
    } finally {
      await Promise.all([c.close(), d.close()]);
    }
  });

  it('a session stays on its model across both instances', async () => {
    const first = await clientA.chat.completions.create(ask('how do I code a linked list in C', 'auto'), {
      headers: { 'x-session-id': 'session-1' },
    });
    expect(first.model).toBe('anthropic/claude-haiku');
    // Small talk would go to openai/* — but the session was pinned through the other instance.
    const pinned = await clientB.chat.completions.create(ask('hello there, how are you?', 'auto'), {
      headers: { 'x-session-id': 'session-1' },
    });
    expect(pinned.model).toBe('anthropic/claude-haiku');
    const fresh = await clientB.chat.completions.create(ask('hello there, how are you?', 'auto'), {
      headers: { 'x-session-id': 'session-2' },
    });
    expect(fresh.model).toBe('openai/gpt-5-mini');
  });

  it('a response cached by one instance is served by the other', async () => {
    const first = await clientA.chat.completions.create(ask('what is the capital of France?'));
    const before = u2.attempts;
    const { data, response } = await clientB.chat.completions
      .create(ask('what is the capital of France?'))
      .withResponse();
    expect(response.headers.get('x-semroute-cache')).toBe('hit');
    expect(data.id).toBe(first.id);
    expect(u2.attempts).toBe(before);
  });

  it('keeps serving when redis-server stops, says so once, and shares again when it returns', async () => {
    const unavailable = (p: ProxyProcess) =>
      p.logs().filter((l) => String(l.msg).startsWith('shared state store unavailable')).length;
    const back = (p: ProxyProcess) =>
      p.logs().filter((l) => String(l.msg).startsWith('shared state store is back')).length;
    let ok = 0;
    let failed = 0;
    const load = (async () => {
      for (let i = 0; i < 60; i++) {
        try {
          await (i % 2 === 0 ? clientA : clientB).chat.completions.create(ask(`during outage ${i}`));
          ok++;
        } catch {
          failed++;
        }
      }
    })();
    // Stop Redis once the load is running.
    await expect.poll(() => ok, { timeout: 45_000 }).toBeGreaterThan(0);
    await redis.stop();
    await load;
    expect(failed).toBe(0);
    expect(ok).toBe(60);
    for (const p of [a, b]) {
      const { state_store } = await readiness(p);
      expect(state_store).toMatchObject({ kind: 'redis', connected: false, mode: 'local' });
      expect(unavailable(p)).toBe(1);
    }
    figures.outage_requests = ok + failed;
    figures.outage_failed = failed;

    await redis.start();
    // Each instance notices on its next use of the store.
    for (const [p, client] of [
      [a, clientA],
      [b, clientB],
    ] as const) {
      let i = 0;
      await expect
        .poll(
          async () => {
            await client.chat.completions.create(ask(`reconnect ${i++}`));
            return (await readiness(p)).state_store.connected;
          },
          { timeout: 45_000, interval: 100 },
        )
        .toBe(true);
      expect(back(p)).toBe(1);
      expect(unavailable(p)).toBe(1);
    }
    // Shared again: a cache entry written through A is a hit through B.
    const first = await clientA.chat.completions.create(ask('after the outage'));
    const again = await clientB.chat.completions.create(ask('after the outage'));
    expect(again.id).toBe(first.id);
    const keys = await redis.client.keys('multi:*');
    expect(keys.length).toBeGreaterThan(0);
  }, 60_000);

  it('counts requests per instance', async () => {
    const count = async (p: ProxyProcess) => {
      const text = await (
        await fetch(`${p.url}/metrics`, { headers: { authorization: `Bearer ${MASTER}` } })
      ).text();
      return text
        .split('\n')
        .filter((l) => l.startsWith('semroute_requests_total'))
        .reduce((sum, l) => sum + Number(l.split(' ').pop()), 0);
    };
    figures.requests_a = await count(a);
    figures.requests_b = await count(b);
    expect(figures.requests_a).toBeGreaterThan(30);
    expect(figures.requests_b).toBeGreaterThan(30);
  });
});
