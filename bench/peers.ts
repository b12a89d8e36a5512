/**
 * semroute beside other Node LLM gateways, in one run on one machine, in front of the same fake
 * upstream: `@portkey-ai/gateway` (a devDependency, started locally and offline) and the bare
 * node:http + undici proxy (the floor). Three loads: plain chat completions, streamed ones, and
 * plain ones against an upstream that fails 20% of calls with a 500, each gateway retrying up to
 * 3 times. Trials are interleaved (every target runs trial 1 of a rate, then trial 2, …), so a
 * slow spell of the shared machine lands on all of them alike.
 *
 * Reported per target and load: added p50/p99 over the upstream alone at a light rate, the
 * highest rate whose median trial keeps p99 ≤ 10 ms with nothing lost, requests lost, and CPU
 * per request from /proc at a rate every target sustains.
 */
import type { ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { type BenchContext, row } from './lib/context.js';
import type { LoadSpec, StepResult } from './lib/loadgen.js';
import { cpuPerRequest, load, start, startProcess } from './lib/processes.js';
import type { ResultRow } from './lib/report.js';

const PORTKEY = path.resolve('node_modules/@portkey-ai/gateway/build/start-server.js');
const RATES = [200, 500, 1000, 2000, 3000];
const TRIALS = 3;
/** Light enough for Portkey (about 2.5 ms of CPU per request on this machine) to sustain. */
const CPU_RATE = 200;
const RETRIES = 3;

interface Target {
  name: string;
  label: string;
  port: number;
  pid: number;
  /** Extra request headers for `kind` (Portkey takes its upstream and retry policy in headers). */
  headers?: (kind: Kind) => Record<string, string>;
  /** The model name to ask for under `kind`. */
  model: (kind: Kind) => string;
  kinds: ReadonlySet<Kind['name']>;
}

interface Kind {
  name: 'plain' | 'streamed' | 'failing upstream, retried';
  stream: boolean;
  flaky: boolean;
}

const KINDS: readonly Kind[] = [
  { name: 'plain', stream: false, flaky: false },
  { name: 'streamed', stream: true, flaky: false },
  { name: 'failing upstream, retried', stream: false, flaky: true },
];

/** A latency for the steps line; a trial whose every request failed has none. */
const fixed = (ms: number | null) => (typeof ms === 'number' && Number.isFinite(ms) ? ms.toFixed(1) : 'none');

function median(results: StepResult[]): StepResult {
  const sorted = [...results].sort((a, b) => a.p99 - b.p99);
  const mid = sorted[Math.floor((sorted.length - 1) / 2)]!;
  return {
    ...mid,
    sent: results.reduce((n, r) => n + r.sent, 0),
    errors: results.reduce((n, r) => n + r.errors, 0),
    trialsP99: results.map((r) => r.p99),
  };
}

export async function peersSuite(ctx: BenchContext): Promise<ResultRow[]> {
  const rows: ResultRow[] = [];
  const upstreamPort = 19_000 + (process.pid % 500);
  const flakyPort = upstreamPort + 1;
  const semroutePort = upstreamPort + 2;
  const barePort = upstreamPort + 3;
  const portkeyPort = upstreamPort + 4;
  const config = path.join(tmpdir(), `semroute-bench-peers-${process.pid}.yaml`);
  // Cooldowns off: the other gateways have none, and one deployment cooling would answer 429s
  // that say nothing about the cost of a retry.
  await writeFile(
    config,
    `model_list:
  - model_name: general
    litellm_params: { model: openai/m, api_base: http://127.0.0.1:${upstreamPort}/v1, api_key: sk-bench }
  - model_name: flaky
    litellm_params: { model: openai/m, api_base: http://127.0.0.1:${flakyPort}/v1, api_key: sk-bench }
router_settings:
  num_retries: ${RETRIES}
  disable_cooldowns: true
`,
  );
  const children: ChildProcess[] = [];
  try {
    const [upstream, flaky] = await Promise.all([
      start(['fake-upstream', '--quiet', '--port', String(upstreamPort)], /fake OpenAI-compatible upstream/),
      start(
        ['fake-upstream', '--quiet', '--port', String(flakyPort), '--fail-rate', '0.2'],
        /fake OpenAI-compatible upstream/,
      ),
    ]);
    children.push(upstream, flaky);
    const semroute = await start(
      ['serve', '--config', config, '--port', String(semroutePort), '--no-watch', '--workers', '1'],
      /semroute proxy listening/,
    );
    children.push(semroute);
    const bare = await start(
      [String(barePort), String(upstreamPort)],
      /bare proxy listening/,
      path.resolve('bench/lib/bare-proxy.ts'),
    );
    children.push(bare);
    const targets: Target[] = [
      {
        name: 'direct',
        label: 'the upstream alone',
        port: upstreamPort,
        pid: upstream.pid!,
        model: () => 'general',
        kinds: new Set(['plain', 'streamed']),
      },
      {
        name: 'semroute',
        label: 'semroute',
        port: semroutePort,
        pid: semroute.pid!,
        model: (k) => (k.flaky ? 'flaky' : 'general'),
        kinds: new Set(KINDS.map((k) => k.name)),
      },
      {
        name: 'bare',
        label: 'bare node:http + undici proxy (the floor)',
        port: barePort,
        pid: bare.pid!,
        model: () => 'general',
        kinds: new Set(['plain']),
      },
    ];
    if (existsSync(PORTKEY)) {
      const portkey = await startProcess(
        process.execPath,
        [PORTKEY, `--port=${portkeyPort}`, '--headless'],
        /Ready for connections/,
      );
      children.push(portkey);
      targets.push({
        name: 'portkey',
        label: '@portkey-ai/gateway 1.15.2',
        port: portkeyPort,
        pid: portkey.pid!,
        model: () => 'm',
        headers: (k) => ({
          'x-portkey-provider': 'openai',
          'x-portkey-custom-host': `http://127.0.0.1:${k.flaky ? flakyPort : upstreamPort}/v1`,
          authorization: 'Bearer sk-bench',
          ...(k.flaky
            ? { 'x-portkey-config': JSON.stringify({ retry: { attempts: RETRIES, on_status_codes: [500] } }) }
            : {}),
        }),
        kinds: new Set(KINDS.map((k) => k.name)),
      });
    } else {
      ctx.log('  @portkey-ai/gateway is not installed (npm install): measuring semroute and the floor only');
    }

    for (const kind of KINDS) {
      const members = targets.filter((t) => t.kinds.has(kind.name));
      const spec = (t: Target, rate: number): LoadSpec => ({
        host: '127.0.0.1',
        port: t.port,
        path: '/v1/chat/completions',
        headers: t.headers?.(kind),
        bodies: Array.from({ length: 1000 }, (_, i) =>
          JSON.stringify({
            model: t.model(kind),
            stream: kind.stream,
            messages: [{ role: 'user', content: `summarize this article ${i}` }],
          }),
        ),
        rates: [rate],
        seconds: 2,
        warmupRate: CPU_RATE,
        warmupSeconds: 0.5,
        connections: 64,
        stopAboveMs: Number.POSITIVE_INFINITY,
        repeats: 1,
      });
      // Warm every target (JIT, connection pools) before the first timed trial.
      for (const t of members) await load({ ...spec(t, CPU_RATE), seconds: 2, warmupSeconds: 0 });
      const steps = new Map<string, StepResult[]>(members.map((t) => [t.name, []]));
      const stopped = new Set<string>();
      for (const rate of RATES) {
        const trials = new Map<string, StepResult[]>(members.map((t) => [t.name, []]));
        for (let trial = 0; trial < TRIALS; trial++) {
          for (const t of members) {
            if (stopped.has(t.name)) continue;
            const [result] = await load(spec(t, rate));
            trials.get(t.name)!.push(result!);
          }
        }
        for (const t of members) {
          if (stopped.has(t.name)) continue;
          const step = median(trials.get(t.name)!);
          steps.get(t.name)!.push(step);
          // Past 50 ms p99 a gateway only queues: higher rates would measure the queue. One that
          // fails most requests has shown what it does with this load.
          // Against the failing upstream p99 is the retry backoff's, so there the median decides.
          const latency = kind.flaky ? step.p50 : step.p99;
          if (!(latency <= 50) || step.errors * (kind.flaky ? 20 : 2) > step.sent) stopped.add(t.name);
        }
        if (stopped.size === members.length) break;
      }
      const cpu = new Map<string, number | undefined>();
      // Five seconds: /proc counts CPU in 10 ms ticks, 10 µs per request at this rate.
      for (const t of members)
        cpu.set(t.name, await cpuPerRequest(t.pid, { ...spec(t, CPU_RATE), seconds: 5 }, CPU_RATE));

      const light = (name: string) => steps.get(name)![0]!;
      // The highest rate before the first whose median trial misses or loses requests.
      const best = (name: string) => {
        let rate = 0;
        for (const s of steps.get(name)!) {
          if (s.p99 > 10 || s.errors > 0) break;
          rate = s.rate;
        }
        return rate;
      };
      const lost = (name: string) => {
        const all = steps.get(name)!;
        return { lost: all.reduce((n, s) => n + s.errors, 0), sent: all.reduce((n, s) => n + s.sent, 0) };
      };
      const base = members.find((t) => t.name === 'direct');
      for (const t of members) {
        const s = light(t.name);
        const { lost: lostCount, sent } = lost(t.name);
        const extra: Record<string, unknown> = {
          maxRateP99Under10ms: best(t.name),
          cpuUsPerRequest: cpu.get(t.name),
          requestsLost: lostCount,
          requestsSent: sent,
          steps: steps
            .get(t.name)!
            .map(
              (r) =>
                `${r.rate}:${fixed(r.p99)}(${r.trialsP99.map(fixed).join('/')})${r.errors ? `!${r.errors}` : ''}`,
            )
            .join(' '),
        };
        if (base !== undefined && t !== base) {
          extra.addedP50Ms = s.p50 - light('direct').p50;
          extra.addedP99Ms = s.p99 - light('direct').p99;
        }
        if (t.name !== 'semroute' && cpu.get('semroute') !== undefined && cpu.get(t.name) !== undefined)
          extra.cpuVsSemroute = cpu.get(t.name)! / cpu.get('semroute')!;
        rows.push(
          row(
            'peers',
            `${kind.name}: ${t.label} @${RATES[0]} rps`,
            'ms',
            { n: s.sent, p50: s.p50, p99: s.p99, mean: null },
            extra,
          ),
        );
        ctx.log(
          `  ${kind.name}, ${t.label}: p50 ${fixed(s.p50)} ms, p99 ${fixed(s.p99)} ms @${RATES[0]} rps; max rate ${best(t.name)} rps; CPU ${cpu.get(t.name)?.toFixed(0) ?? '?'} µs/request; lost ${lostCount}/${sent}`,
        );
      }
    }
  } finally {
    for (const child of children) child.kill('SIGTERM');
  }
  return rows;
}
