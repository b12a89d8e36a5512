/**
 * The proxy under load, three processes: the fake upstream, the proxy, and this load
 * generator (undici, open loop at fixed rates). The same load goes straight at the upstream
 * and through the proxy, for plain, streamed, `auto_router` and OpenRouter-style `auto` requests:
 * added latency at a light rate, and the highest rate at which p99 stays under 10 ms.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Pool } from 'undici';
import { type BenchContext, row } from './lib/context.js';
import { type ResultRow, summarize } from './lib/report.js';

const TSX = path.resolve('node_modules/.bin/tsx');
const ENTRY = path.resolve('bench/lib/cli-entry.ts');

function start(args: string[], ready: RegExp): Promise<ChildProcess> {
  return new Promise((resolve, reject) => {
    const child = spawn(TSX, [ENTRY, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    const onData = (d: Buffer) => {
      out += d.toString();
      if (ready.test(out)) resolve(child);
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.on('exit', (code) => reject(new Error(`process exited (${code}): ${out.slice(-500)}`)));
    setTimeout(() => reject(new Error(`not ready in 60 s: ${out.slice(-500)}`)), 60_000).unref();
  });
}

interface Scenario {
  name: string;
  path: string;
  body: (i: number) => string;
}

/** Open-loop load: requests start on schedule whether or not earlier ones finished. */
async function load(
  pool: Pool,
  scenario: Scenario,
  rate: number,
  seconds: number,
): Promise<{ latencies: number[]; errors: number }> {
  const total = Math.round(rate * seconds);
  const interval = 1000 / rate;
  const latencies: number[] = [];
  let errors = 0;
  const started = performance.now();
  const pending: Promise<void>[] = [];
  for (let i = 0; i < total; i++) {
    const due = started + i * interval;
    const wait = due - performance.now();
    if (wait > 1) await new Promise((r) => setTimeout(r, wait));
    pending.push(
      (async () => {
        const t = performance.now();
        try {
          const res = await pool.request({
            method: 'POST',
            path: scenario.path,
            headers: { 'content-type': 'application/json' },
            body: scenario.body(i),
          });
          await res.body.text();
          if (res.statusCode !== 200) errors++;
          latencies.push(performance.now() - t);
        } catch {
          errors++;
        }
      })(),
    );
  }
  await Promise.all(pending);
  return { latencies, errors };
}

export async function proxySuite(ctx: BenchContext): Promise<ResultRow[]> {
  const rows: ResultRow[] = [];
  const upstreamPort = 18_000 + (process.pid % 1000);
  const proxyPort = upstreamPort + 1;
  const config = path.join(tmpdir(), `semroute-bench-proxy-${process.pid}.yaml`);
  await writeFile(
    config,
    `model_list:
  - model_name: general
    litellm_params: { model: openai/m, api_base: http://127.0.0.1:${upstreamPort}/v1, api_key: sk-bench }
${['coding', 'math', 'translation', 'summarization', 'support', 'chitchat']
  .map(
    (g) =>
      `  - model_name: ${g}\n    litellm_params: { model: openai/m, api_base: http://127.0.0.1:${upstreamPort}/v1, api_key: sk-bench }`,
  )
  .join('\n')}
  - model_name: auto_router1
    litellm_params: { model: auto_router/a, auto_router_config_path: ${path.resolve('routes/assistant.json')}, auto_router_default_model: general }
router_settings:
  num_retries: 0
  # OpenRouter-style \`auto\`: the same routes narrow the pool, then cost/quality ranks it.
  auto_router_config_path: ${path.resolve('routes/assistant.json')}
`,
  );
  const upstream = await start(
    ['fake-upstream', '--port', String(upstreamPort)],
    /fake OpenAI-compatible upstream/,
  );
  const proxy = await start(
    ['serve', '--config', config, '--port', String(proxyPort), '--no-watch'],
    /semroute proxy listening/,
  );
  const prompts = [
    'how do I reverse a list in python',
    'what is 12 times 9',
    'translate hello into German',
    'hi there',
    'summarize this article',
  ];
  const chat = (model: string, stream: boolean) => (i: number) =>
    JSON.stringify({
      model,
      stream,
      messages: [{ role: 'user', content: `${prompts[i % prompts.length]} ${i}` }],
    });
  const targets = [
    {
      name: 'direct',
      url: `http://127.0.0.1:${upstreamPort}`,
      model: (m: string) => (m === 'auto_router1' || m === 'auto' ? 'general' : m),
    },
    { name: 'proxy', url: `http://127.0.0.1:${proxyPort}`, model: (m: string) => m },
  ];
  const kinds = [
    { name: 'plain', model: 'general', stream: false },
    { name: 'streamed', model: 'general', stream: true },
    { name: 'auto_router', model: 'auto_router1', stream: false },
    { name: 'auto', model: 'auto', stream: false },
  ];
  const seconds = ctx.quick ? 1 : 3;
  const rates = ctx.quick ? [200, 1000] : [200, 500, 1000, 2000, 3000, 4000];
  try {
    // Correctness before timing: the proxy routes and answers as the upstream would.
    const check = await fetch(`http://127.0.0.1:${proxyPort}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        model: 'auto_router1',
        messages: [{ role: 'user', content: 'how do I reverse a list in python' }],
      }),
    });
    const answer = (await check.json()) as {
      model?: string;
      choices?: Array<{ message: { content: string } }>;
    };
    if (
      answer.model !== 'coding' ||
      answer.choices?.[0]?.message.content !== 'echo: how do I reverse a list in python'
    ) {
      throw new Error(`proxy sanity check failed: ${JSON.stringify(answer).slice(0, 200)}`);
    }
    for (const kind of kinds) {
      const results: Record<
        string,
        Array<{ rate: number; p50: number; p99: number; errors: number; n: number }>
      > = {};
      for (const target of targets) {
        const pool = new Pool(target.url, { connections: 64, pipelining: 1 });
        const scenario = {
          name: kind.name,
          path: '/v1/chat/completions',
          body: chat(target.model(kind.model), kind.stream),
        };
        // Warm-up (JIT, connections, first GCs) long enough that the first step measures steady state.
        await load(pool, scenario, 500, ctx.quick ? 1 : 3);
        results[target.name] = [];
        for (const rate of rates) {
          const { latencies, errors } = await load(pool, scenario, rate, seconds);
          const s = summarize(latencies);
          results[target.name]!.push({ rate, p50: s.p50, p99: s.p99, errors, n: s.n });
          if (s.p99 > 50) break; // saturated: higher rates only queue
        }
        await pool.close();
      }
      const light = (t: string) => results[t]![0]!;
      const stats = (t: string) => ({ n: light(t).n, p50: light(t).p50, p99: light(t).p99, mean: null });
      // The highest rate before the first step that misses: a lucky step above a missed one does not count.
      const best = (t: string) => {
        let rate = 0;
        for (const r of results[t]!) {
          if (r.p99 > 10 || r.errors > 0) break;
          rate = r.rate;
        }
        return rate;
      };
      const steps = results.proxy!.map(
        (r) => `${r.rate}:${r.p99.toFixed(1)}${r.errors ? `!${r.errors}` : ''}`,
      );
      rows.push(
        row('proxy', `${kind.name}: direct to upstream @${rates[0]} rps`, 'ms', stats('direct'), {
          maxRateP99Under10ms: best('direct'),
        }),
        row('proxy', `${kind.name}: through the proxy @${rates[0]} rps`, 'ms', stats('proxy'), {
          addedP50Ms: light('proxy').p50 - light('direct').p50,
          addedP99Ms: light('proxy').p99 - light('direct').p99,
          maxRateP99Under10ms: best('proxy'),
          steps: steps.join(' '),
        }),
      );
      ctx.log(
        `  ${kind.name}: added p50 ${(light('proxy').p50 - light('direct').p50).toFixed(2)} ms, max rate with p99 ≤ 10 ms: proxy ${best('proxy')}, direct ${best('direct')}`,
      );
    }
  } finally {
    proxy.kill('SIGTERM');
    upstream.kill('SIGTERM');
  }
  return rows;
}
