/**
 * Resident memory of `semroute serve` as a user runs it (`node bin/semroute.js`, the built
 * dist/): idle with the default model and the shipped routes, after 10,000 requests, and with a
 * 10,000-utterance router compiled (then restarted from its saved artefact). Each figure is split
 * into the JS heap, memory outside the heap that V8 tracks (`external`: buffers, typed arrays)
 * and the rest (native: Node itself, onnxruntime's session and arena, the HNSW graph).
 */
import type { ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { type BenchContext, row, syntheticConfig } from './lib/context.js';
import { load, rssMb, start, startProcess, stopProcess } from './lib/processes.js';
import type { ResultRow } from './lib/report.js';

const BIN = path.resolve('bin/semroute.js');
const PROBE = path.resolve('bench/lib/memory-probe.mjs');
const MB = 1024 * 1024;
const SETTLE_MS = 3000;
/**
 * V8 gives back the heap a start (compiling the routes) or a load grew only once the process
 * has been quiet for a while (its memory reducer): measured on this machine, RSS stayed flat for
 * 20 s after start and fell by ~30 MB by 40 s. "Idle" rows are taken after this long.
 */
const QUIET_MS = 45_000;

/** process.memoryUsage() of a probed child, read on demand. */
function usage(child: ChildProcess): Promise<NodeJS.MemoryUsage> {
  return new Promise((resolve, reject) => {
    let text = '';
    const onData = (d: Buffer) => {
      text += d.toString();
      const line = /MEMORY (\{.*\})\n/.exec(text);
      if (line === null) return;
      child.stderr!.off('data', onData);
      resolve(JSON.parse(line[1]!) as NodeJS.MemoryUsage);
    };
    child.stderr!.on('data', onData);
    setTimeout(() => reject(new Error('no memory report in 10 s')), 10_000).unref();
    child.kill('SIGUSR2');
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function measure(
  child: ChildProcess,
  name: string,
  extra: Record<string, unknown> = {},
  waitMs = SETTLE_MS,
): Promise<ResultRow> {
  await sleep(waitMs);
  const [rss, mem] = await Promise.all([rssMb(child.pid!), usage(child)]);
  const heap = mem.heapTotal / MB;
  const external = mem.external / MB;
  const resident = rss ?? mem.rss / MB;
  return row(
    'memory',
    name,
    'MB',
    { n: 1, p50: null, p99: null, mean: Number(resident.toFixed(1)) },
    {
      heapUsedMB: Number((mem.heapUsed / MB).toFixed(1)),
      heapTotalMB: Number(heap.toFixed(1)),
      externalMB: Number(external.toFixed(1)),
      nativeAndCodeMB: Number((resident - heap - external).toFixed(1)),
      ...extra,
    },
  );
}

function serve(config: string, port: number, env: NodeJS.ProcessEnv): Promise<ChildProcess> {
  return startProcess(
    process.execPath,
    [
      '--import',
      PROBE,
      BIN,
      'serve',
      '--config',
      config,
      '--port',
      String(port),
      '--no-watch',
      '--workers',
      '1',
    ],
    /semroute proxy listening/,
    env,
  );
}

export async function memorySuite(ctx: BenchContext): Promise<ResultRow[]> {
  const rows: ResultRow[] = [];
  const upstreamPort = 19_600 + (process.pid % 300);
  const port = upstreamPort + 1;
  const work = await mkdtemp(path.join(tmpdir(), 'semroute-bench-memory-'));
  const env = { ...process.env, SEMROUTE_CACHE_DIR: path.join(work, 'cache') };
  const children: ChildProcess[] = [];
  const group = (name: string) =>
    `  - model_name: ${name}\n    litellm_params: { model: openai/m, api_base: http://127.0.0.1:${upstreamPort}/v1, api_key: sk-bench }`;
  // An auto_router sends each route to the group of its name, so every route needs one.
  const config = (routerPath: string, routes: readonly string[] = []) =>
    `model_list:
${['general', 'coding', 'math', 'translation', 'summarization', 'support', 'chitchat', ...routes].map(group).join('\n')}
  - model_name: auto_router1
    litellm_params: { model: auto_router/a, auto_router_config_path: ${routerPath}, auto_router_default_model: general }
router_settings:
  auto_router_config_path: ${routerPath}
`;
  try {
    const upstream = await start(
      ['fake-upstream', '--quiet', '--port', String(upstreamPort)],
      /fake OpenAI-compatible upstream/,
    );
    children.push(upstream);

    const node = await startProcess(
      process.execPath,
      ['--import', PROBE, '-e', 'setInterval(() => {}, 1000); console.log("idle node ready")'],
      /idle node ready/,
    );
    children.push(node);
    rows.push(await measure(node, 'node itself, idle (the floor)'));
    await stopProcess(node);

    const assistantConfig = path.join(work, 'assistant.yaml');
    await writeFile(assistantConfig, config(path.resolve('routes/assistant.json')));
    const proxy = await serve(assistantConfig, port, env);
    children.push(proxy);
    rows.push(await measure(proxy, 'semroute serve, 3 s after start (default model, routes/assistant.json)'));
    rows.push(await measure(proxy, 'semroute serve, idle 45 s after start', {}, QUIET_MS - SETTLE_MS));
    const requests = ctx.quick ? 2_000 : 10_000;
    const prompts = [
      'how do I reverse a list in python',
      'what is 12 times 9',
      'translate hello into German',
      'hi there',
    ];
    const [step] = await load({
      host: '127.0.0.1',
      port,
      path: '/v1/chat/completions',
      // Half plain, a quarter through the semantic router, a quarter OpenRouter-style `auto`;
      // every prompt distinct, so no cache holds them all.
      bodies: Array.from({ length: requests }, (_, i) =>
        JSON.stringify({
          model: ['general', 'auto_router1', 'general', 'auto'][i % 4],
          stream: i % 8 === 0,
          messages: [{ role: 'user', content: `${prompts[i % prompts.length]} ${i}` }],
        }),
      ),
      rates: [1000],
      seconds: requests / 1000,
      warmupRate: 100,
      warmupSeconds: 0,
      connections: 64,
      stopAboveMs: Number.POSITIVE_INFINITY,
      repeats: 1,
    });
    rows.push(
      await measure(proxy, `semroute serve, 3 s after ${requests.toLocaleString('en')} requests`, {
        requests: step?.sent,
        failed: step?.errors,
      }),
    );
    rows.push(
      await measure(
        proxy,
        `semroute serve, idle 45 s after ${requests.toLocaleString('en')} requests`,
        {},
        QUIET_MS - SETTLE_MS,
      ),
    );
    await stopProcess(proxy);

    if (!ctx.quick) {
      const big = path.join(work, 'router-10k.json');
      const synthetic = syntheticConfig(10_000);
      await writeFile(big, JSON.stringify(synthetic));
      const bigConfig = path.join(work, 'big.yaml');
      await writeFile(
        bigConfig,
        config(
          big,
          synthetic.routes.map((route) => route.name),
        ),
      );
      for (const phase of ['compiled at start', 'restarted from its saved artefact']) {
        const started = performance.now();
        const child = await serve(bigConfig, port, env);
        children.push(child);
        const readyMs = performance.now() - started;
        rows.push(
          await measure(child, `semroute serve, 10,000-utterance router ${phase}, 3 s after`, {
            readyMs: Math.round(readyMs),
          }),
        );
        rows.push(
          await measure(
            child,
            `semroute serve, 10,000-utterance router ${phase}, idle 45 s after`,
            {},
            QUIET_MS - SETTLE_MS,
          ),
        );
        await stopProcess(child);
      }
    }
    for (const r of rows) ctx.log(`  ${r.name}: RSS ${r.mean} MB ${JSON.stringify(r.extra)}`);
  } finally {
    await Promise.all(children.map(stopProcess));
    await rm(work, { recursive: true, force: true });
  }
  return rows;
}
