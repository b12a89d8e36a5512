/**
 * Budgets and a key's own limits on a running proxy, driven with the official openai client:
 * spend from each answer's usage (streams included) at the deployment's prices, refused with
 * LiteLLM's `budget_exceeded` 429 and a Retry-After at the window's end, visible in /key/info,
 * /spend/*, the answer's headers and Prometheus; and exact across two instances sharing Redis
 * under 200 concurrent requests.
 */
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FakeUpstream, startFakeUpstream } from '../../src/fake-upstream/fake-upstream.js';
import { serve } from '../../src/server/serve.js';
import { tempDir } from '../helpers/encoder.js';
import { startRedis, type TestRedis } from '../helpers/redis.js';

const MASTER = 'sk-spend-master-0123456789';
const BUDGET_KEY = 'sk-spend-budget-0123456789';
const RPM_KEY = 'sk-spend-rpm-0123456789';
const PARALLEL_KEY = 'sk-spend-parallel-0123456789';
const FREE_KEY = 'sk-spend-free-0123456789';
// Prices: output dominates, so each answer (5 tokens from the fake) costs about 5e-5 USD.
const IN = 0.000001;
const OUT = 0.00001;

let upstream: FakeUpstream;
let dir: { dir: string; cleanup: () => Promise<void> };
type Proxy = Awaited<ReturnType<typeof serve>>;
let proxy: Proxy;

const ask = (content: string, extra: Record<string, unknown> = {}) => ({
  model: 'cheap',
  messages: [{ role: 'user' as const, content }],
  max_tokens: 5,
  ...extra,
});

function config(extra = '', keys = ''): string {
  return `
model_list:
  - model_name: cheap
    litellm_params: { model: openai/cheap, api_base: ${upstream.url}, api_key: sk-up }
    model_info: { id: cheap-1, input_cost_per_token: ${IN}, output_cost_per_token: ${OUT} }
${extra}
general_settings:
  master_key: ${MASTER}
  keys:
${keys}`;
}

const KEYS = `
    - key: ${BUDGET_KEY}
      key_alias: team-a
      max_budget: 0.0002
      budget_duration: 1d
      models: [cheap]
      metadata: { team: a }
    - key: ${RPM_KEY}
      key_alias: rpm-key
      rpm_limit: 2
    - key: ${PARALLEL_KEY}
      key_alias: parallel-key
      max_parallel_requests: 1
    - key: ${FREE_KEY}
      key_alias: free
`;

/** /key/info's answer (the spend lists are read through `unknown`). */
interface KeyInfo {
  key: string;
  info: Record<string, unknown> & { spend: number; held_spend: number; key_alias: string };
}

const client = (p: Proxy, key: string) => new OpenAI({ baseURL: `${p.url}/v1`, apiKey: key, maxRetries: 0 });
const get = async (p: Proxy, url: string, key: string) => {
  const r = await fetch(`${p.url}${url}`, { headers: { authorization: `Bearer ${key}` } });
  return { status: r.status, body: (await r.json()) as KeyInfo };
};

beforeAll(async () => {
  upstream = await startFakeUpstream();
  dir = await tempDir();
  const file = path.join(dir.dir, 'config.yaml');
  await writeFile(file, config('', KEYS));
  proxy = await serve({ config: file, port: 0, signals: false, watch: false, logger: { level: 'silent' } });
}, 60_000);

afterAll(async () => {
  await proxy?.close();
  await upstream?.close();
  await dir?.cleanup();
});

describe('a key with max_budget', () => {
  it('spends each answer’s cost, says so in headers and /key/info, then refuses with budget_exceeded', async () => {
    const c = client(proxy, BUDGET_KEY);
    let costs = 0;
    let served = 0;
    let refusal: InstanceType<typeof OpenAI.APIError> | undefined;
    for (let i = 0; i < 20 && refusal === undefined; i++) {
      try {
        const { data, response } = await c.chat.completions.create(ask(`question ${i}`)).withResponse();
        served++;
        const cost = Number(response.headers.get('x-semroute-cost-usd'));
        // The fake's usage priced at model_info's costs.
        expect(cost).toBeCloseTo(data.usage!.prompt_tokens * IN + data.usage!.completion_tokens * OUT, 10);
        costs += cost;
        expect(Number(response.headers.get('x-semroute-key-spend-usd'))).toBeCloseTo(costs, 8);
        expect(response.headers.get('x-semroute-key-budget-usd')).toBe('0.0002');
      } catch (error) {
        refusal = error as InstanceType<typeof OpenAI.APIError>;
      }
    }
    // 0.0002 USD at ~5.1e-5 a request: four pass (the fourth starts below the budget), the fifth is refused.
    expect(served).toBe(4);
    expect(costs).toBeGreaterThanOrEqual(0.0002);
    expect(refusal?.status).toBe(429);
    const body = refusal!.error as { type: string; code: string; message: string };
    expect(body.type).toBe('budget_exceeded');
    expect(body.code).toBe('budget_exceeded');
    expect(body.message).toMatch(/Budget has been exceeded for key team-a/);
    // Retry-After: the end of the UTC day the 1d window ends at.
    const retryAfter = Number(refusal!.headers?.get('retry-after'));
    const dayEnd = (Math.floor(Date.now() / 86_400_000) + 1) * 86_400_000;
    expect(Math.abs(retryAfter - (dayEnd - Date.now()) / 1000)).toBeLessThan(5);
    expect(upstream.attempts).toBeGreaterThanOrEqual(4);

    const info = await get(proxy, '/key/info', BUDGET_KEY);
    expect(info.status).toBe(200);
    expect(info.body.key).not.toContain(BUDGET_KEY);
    expect(info.body.info).toMatchObject({
      key_alias: 'team-a',
      max_budget: 0.0002,
      budget_duration: '1d',
      budget_reset_at: new Date(dayEnd).toISOString(),
      models: ['cheap'],
      metadata: { team: 'a' },
      held_spend: 0,
    });
    expect(info.body.info.spend).toBeCloseTo(costs, 8);
  });

  it('the operator sees spend per key and per model; a virtual key may not', async () => {
    const keys = await get(proxy, '/spend/keys', MASTER);
    expect(keys.status).toBe(200);
    const teamA = (keys.body as unknown as Array<{ key_alias: string; spend: number }>).find(
      (k) => k.key_alias === 'team-a',
    );
    expect(teamA?.spend).toBeGreaterThan(0.0002);
    const models = await get(proxy, '/spend/models', MASTER);
    expect((models.body as unknown as Array<{ model: string; spend: number }>)[0]?.model).toBe('cheap');
    for (const url of ['/spend/keys', '/spend/models', '/metrics']) {
      const refused = await get(proxy, url, FREE_KEY);
      expect(refused.status, url).toBe(403);
    }
    // One key cannot read another's /key/info; the operator can.
    expect((await get(proxy, `/key/info?key=${BUDGET_KEY}`, FREE_KEY)).status).toBe(403);
    // Two keys at once is a mistake to name, not a silent fall back to the proxy's budget.
    expect((await get(proxy, `/key/info?key=${BUDGET_KEY}&key=${FREE_KEY}`, MASTER)).status).toBe(400);
    const named = await get(proxy, `/key/info?key=${BUDGET_KEY}`, MASTER);
    expect(named.body.info.key_alias).toBe('team-a');
    const metrics = await (
      await fetch(`${proxy.url}/metrics`, { headers: { authorization: `Bearer ${MASTER}` } })
    ).text();
    const line = metrics
      .split('\n')
      .find((l) => l.startsWith('semroute_spend_usd_total{') && l.includes('key_alias="team-a"'));
    expect(line).toContain('model="cheap"');
    expect(Number(line!.split(' ').at(-1))).toBeGreaterThan(0.0002);
  });

  it('counts a stream’s spend, with usage reported or estimated from its text', async () => {
    const c = client(proxy, FREE_KEY);
    const before = (await get(proxy, '/key/info', FREE_KEY)).body.info.spend as number;
    const stream = await c.chat.completions.create({
      ...ask('stream me'),
      stream: true,
      stream_options: { include_usage: true },
    });
    let usage: { prompt_tokens: number; completion_tokens: number } | undefined;
    for await (const chunk of stream) usage = chunk.usage ?? usage;
    const after = (await get(proxy, '/key/info', FREE_KEY)).body.info.spend as number;
    expect(after - before).toBeCloseTo(usage!.prompt_tokens * IN + usage!.completion_tokens * OUT, 10);
    // No usage from the upstream: the answer's text is counted at four characters a token.
    const plain = await c.chat.completions.create({ ...ask('stream without usage'), stream: true });
    let text = '';
    for await (const chunk of plain) text += chunk.choices[0]?.delta?.content ?? '';
    const last = (await get(proxy, '/key/info', FREE_KEY)).body.info.spend as number;
    expect(text.length).toBeGreaterThan(0);
    expect(last - after).toBeGreaterThanOrEqual(Math.ceil(text.length / 4) * OUT);
    // A stream the upstream breaks half-way still spent what it streamed: a broken stream is no
    // way around a budget.
    upstream.script([{ cutAfterChunks: 2 }]);
    const broken = await c.chat.completions.create({ ...ask('stream me and break'), stream: true });
    const failure = await (async () => {
      for await (const _ of broken) {
        // read until it breaks
      }
    })().catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(Error);
    const afterBroken = (await get(proxy, '/key/info', FREE_KEY)).body.info.spend;
    expect(afterBroken).toBeGreaterThan(last);
    // A key without a budget has spend but no budget, no reset and no budget header.
    const info = (await get(proxy, '/key/info', FREE_KEY)).body.info;
    expect(info).toMatchObject({ max_budget: null, budget_reset_at: null });
  });
});

describe("a key's own limits", () => {
  it('rpm_limit: a 429 rate_limit_exceeded with Retry-After at the next minute, before any call', async () => {
    const c = client(proxy, RPM_KEY);
    const before = upstream.attempts;
    const results = await Promise.allSettled(
      Array.from({ length: 5 }, (_, i) => c.chat.completions.create(ask(`rpm ${i}`))),
    );
    const refused = results.flatMap((r) =>
      r.status === 'rejected' ? [r.reason as InstanceType<typeof OpenAI.APIError>] : [],
    );
    // A minute boundary inside the burst would let one or two more through; never fewer than two.
    const served = results.length - refused.length;
    expect(served).toBeGreaterThanOrEqual(2);
    expect(served).toBeLessThanOrEqual(4);
    expect(upstream.attempts - before).toBe(served);
    for (const error of refused) {
      expect(error.status).toBe(429);
      expect((error.error as { code: string }).code).toBe('rate_limit_exceeded');
      expect(error.message).toMatch(/rpm-key reached its rpm_limit 2/);
      const wait = Number(error.headers?.get('retry-after'));
      expect(wait).toBeGreaterThanOrEqual(1);
      expect(wait).toBeLessThanOrEqual(60);
    }
  });

  it('max_parallel_requests: one at a time; the slot frees when the answer is done', async () => {
    upstream.behave({ latencyMs: 300 });
    try {
      const c = client(proxy, PARALLEL_KEY);
      const results = await Promise.allSettled(
        Array.from({ length: 3 }, (_, i) => c.chat.completions.create(ask(`parallel ${i}`))),
      );
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
      for (const r of results)
        if (r.status === 'rejected') expect((r.reason as Error).message).toMatch(/max_parallel_requests 1/);
      // Done: the next one passes.
      await expect(c.chat.completions.create(ask('after'))).resolves.toBeDefined();
    } finally {
      upstream.behave({ latencyMs: 0 });
    }
  });
});

describe('budgets shared in Redis', () => {
  let redis: TestRedis;
  let a: Proxy;
  let b: Proxy;

  beforeAll(async () => {
    redis = await startRedis();
    const file = path.join(dir.dir, 'shared.yaml');
    await writeFile(
      file,
      config(
        `router_settings:
  redis_host: 127.0.0.1
  redis_port: ${redis.port}
  redis_key_prefix: "spend:"
litellm_settings:
  max_budget: 0.02
  budget_duration: 30d
`,
        `    - key: ${BUDGET_KEY}
      key_alias: shared
      max_budget: 0.003
`,
      ),
    );
    const start = () =>
      serve({ config: file, port: 0, signals: false, watch: false, logger: { level: 'silent' } });
    [a, b] = await Promise.all([start(), start()]);
  }, 60_000);

  afterAll(async () => {
    await Promise.all([a?.close(), b?.close()]);
    await redis?.close();
  });

  it('two instances, 200 concurrent requests, a small budget: overshoot at most one request', async () => {
    upstream.behave({ latencyMs: 20 });
    try {
      const clients = [client(a, BUDGET_KEY), client(b, BUDGET_KEY)];
      const results = await Promise.allSettled(
        Array.from({ length: 200 }, (_, i) =>
          clients[i % 2]!.chat.completions.create(ask(`concurrent ${i}`)).withResponse(),
        ),
      );
      const costs = results.flatMap((r) =>
        r.status === 'fulfilled' ? [Number(r.value.response.headers.get('x-semroute-cost-usd'))] : [],
      );
      const refused = results.flatMap((r) =>
        r.status === 'rejected' ? [r.reason as InstanceType<typeof OpenAI.APIError>] : [],
      );
      expect(refused.length).toBeGreaterThan(0);
      for (const e of refused) expect((e.error as { type: string }).type).toBe('budget_exceeded');
      const spent = costs.reduce((s, c) => s + c, 0);
      const most = Math.max(...costs);
      console.log(
        `budget 0.003 USD, 200 concurrent over 2 instances: ${costs.length} served, ${refused.length} refused, spent ${spent.toFixed(6)}, one request ${most.toFixed(6)}`,
      );
      // Spent reaches the budget, and passes it by less than one request's cost.
      expect(spent).toBeLessThan(0.003 + most);
      // Both instances served: the budget was shared, not each instance's own.
      const servedBy = results.map((r, i) => (r.status === 'fulfilled' ? i % 2 : -1));
      expect(new Set(servedBy.filter((x) => x >= 0)).size).toBe(2);
      // Every refused request's hold went back, and settled spend is what the answers cost.
      const info = await get(a, '/key/info', BUDGET_KEY);
      expect(info.body.info.held_spend).toBe(0);
      expect(info.body.info.spend).toBeCloseTo(spent, 8);
      // Keep requests until the budget is spent (the concurrent ones may have stopped on holds).
      const c = clients[0]!;
      for (let i = 0; i < 100; i++) {
        try {
          await c.chat.completions.create(ask(`more ${i}`));
        } catch (error) {
          expect((error as InstanceType<typeof OpenAI.APIError>).status).toBe(429);
          break;
        }
      }
      const final = (await get(b, '/key/info', BUDGET_KEY)).body.info.spend as number;
      expect(final).toBeGreaterThanOrEqual(0.003);
      expect(final).toBeLessThan(0.003 + most);
      // The proxy-wide budget counted the same spend.
      const whole = await get(a, '/key/info', MASTER);
      expect(whole.body.info).toMatchObject({ max_budget: 0.02, budget_duration: '30d' });
      expect(whole.body.info.spend).toBeCloseTo(final, 8);
    } finally {
      upstream.behave({ latencyMs: 0 });
    }
  });

  it('the whole proxy’s max_budget refuses the master key too', async () => {
    // Spend the proxy's budget in one settle, as another instance's answers would.
    const window = Math.floor(Date.now() / 86_400_000 / 30) * 30 * 86_400_000;
    await redis.client.hincrbyfloat(`spend:s:proxy:${window}`, 's', 1);
    const error = await client(a, MASTER)
      .chat.completions.create(ask('over'))
      .catch((e: InstanceType<typeof OpenAI.APIError>) => e);
    expect((error as InstanceType<typeof OpenAI.APIError>).status).toBe(429);
    expect((error as InstanceType<typeof OpenAI.APIError>).message).toMatch(/for the proxy/);
  });
});
