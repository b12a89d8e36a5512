/**
 * The gateway in process: what each routing strategy does with 10,000 requests over three
 * deployments of different latency and failure rate, and the time the gateway adds per request
 * compared with calling the same fake upstream directly with the same HTTP client.
 */
import { parseGatewayConfig } from '../src/config/gateway-schema.js';
import { toDeployment } from '../src/gateway/deployment.js';
import { Gateway } from '../src/gateway/gateway.js';
import { STRATEGIES } from '../src/gateway/strategies/index.js';
import { createClient } from '../src/gateway/upstream/wire.js';
import { callChat } from '../src/gateway/upstream/exchange.js';
import { type FakeUpstream, startFakeUpstream } from '../src/fake-upstream/fake-upstream.js';
import { type BenchContext, row } from './lib/context.js';
import { type ResultRow, summarize } from './lib/report.js';

const PROFILES = [
  { name: 'fast', latencyMs: 2, failRate: 0, cost: 3e-6, quality: 8 },
  { name: 'slow', latencyMs: 15, failRate: 0, cost: 1e-6, quality: 6 },
  { name: 'flaky', latencyMs: 5, failRate: 0.2, cost: 2e-6, quality: 7 },
];

async function pool<T>(n: number, concurrency: number, task: (i: number) => Promise<T>): Promise<T[]> {
  const out = new Array<T>(n);
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < n) {
        const i = next++;
        out[i] = await task(i);
      }
    }),
  );
  return out;
}

export async function gatewaySuite(ctx: BenchContext): Promise<ResultRow[]> {
  const rows: ResultRow[] = [];
  const upstreams: FakeUpstream[] = await Promise.all(
    PROFILES.map((p, i) => startFakeUpstream({ latencyMs: p.latencyMs, failRate: p.failRate, seed: i + 1 })),
  );
  try {
    const modelList = PROFILES.map((p, i) => ({
      model_name: 'g',
      litellm_params: { model: `m-${p.name}`, api_base: upstreams[i]!.url, api_key: 'sk-bench', rpm: 4000 },
      model_info: {
        id: p.name,
        input_cost_per_token: p.cost,
        output_cost_per_token: p.cost,
        quality: p.quality,
      },
    }));
    const total = ctx.quick ? 1_000 : 10_000;
    const body = { model: 'g', messages: [{ role: 'user', content: 'hello' }] };
    for (const strategy of Object.keys(STRATEGIES).filter((s) => s !== 'usage-based-routing-v2')) {
      let retries = 0;
      let cooldowns = 0;
      const router = await Gateway.create(
        {
          model_list: modelList,
          routing_strategy: strategy,
          num_retries: 3,
          allowed_fails: 3,
          cooldown_time: 1,
          routing_strategy_args: { ttl: 10 },
        },
        { sleep: async () => {}, events: { retry: () => retries++, cooldown: () => cooldowns++ } },
      );
      // Correctness before timing: an answer that is the upstream's echo, from a group member.
      const probe = await router.chatCompletion({ ...body });
      if (
        probe.stream ||
        probe.response.choices[0]?.message.content !== 'echo: hello' ||
        probe.model !== 'g'
      ) {
        throw new Error(`gateway sanity check failed for ${strategy}`);
      }
      const served = new Map<string, number>();
      let failed = 0;
      const started = performance.now();
      const latencies = await pool(total, 32, async () => {
        const t = performance.now();
        try {
          const out = await router.chatCompletion({ ...body });
          served.set(out.deploymentId, (served.get(out.deploymentId) ?? 0) + 1);
        } catch {
          failed++;
        }
        return performance.now() - t;
      });
      const seconds = (performance.now() - started) / 1000;
      rows.push(
        row('gateway', `${strategy}, ${total} requests`, 'ms', summarize(latencies), {
          ...Object.fromEntries(PROFILES.map((p) => [p.name, served.get(p.name) ?? 0])),
          failed,
          retries,
          cooldowns,
          requestsPerSecond: Math.round(total / seconds),
        }),
      );
      ctx.log(
        `  ${strategy}: ${PROFILES.map((p) => `${p.name} ${served.get(p.name) ?? 0}`).join(', ')}, failed ${failed}, retries ${retries}, cooldowns ${cooldowns}`,
      );
      await router.close();
    }

    // Added time per request: the same calls straight through the gateway's own HTTP client.
    upstreams[0]!.behave({ latencyMs: 0 });
    const parsed = parseGatewayConfig({ model_list: [modelList[0]!] });
    const direct = createClient(parsed.resolved.targets[0]!);
    const target = toDeployment(parsed.model_list[0]!, parsed.resolved.targets[0]);
    const router = await Gateway.create({ model_list: [modelList[0]!] });
    const n = ctx.quick ? 500 : 3000;
    const call = () =>
      callChat(
        direct,
        target,
        { model: target.model, messages: body.messages as unknown[] },
        { timeoutMs: 600_000 },
      );
    const viaRouter = () => router.chatCompletion({ ...body });
    for (let i = 0; i < 200; i++) await Promise.all([call(), viaRouter()]);
    const a: number[] = [];
    const b: number[] = [];
    for (let i = 0; i < n; i++) {
      let t = performance.now();
      await call();
      a.push(performance.now() - t);
      t = performance.now();
      await viaRouter();
      b.push(performance.now() - t);
    }
    const da = summarize(a);
    const db = summarize(b);
    rows.push(row('gateway', 'direct HTTP call → fake upstream', 'ms', da));
    rows.push(
      row('gateway', 'Gateway.chatCompletion → fake upstream', 'ms', db, {
        addedP50Ms: db.p50 - da.p50,
        addedP99Ms: db.p99 - da.p99,
      }),
    );
    await router.close();
  } finally {
    await Promise.all(upstreams.map((u) => u.close()));
  }
  return rows;
}
