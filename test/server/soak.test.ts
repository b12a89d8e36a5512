/**
 * The fault soak: three deployments failing in every way the fake upstream knows (500s, 429 with
 * Retry-After, resets, timeouts, streams cut mid-way, slow first bytes) plus a clean fallback
 * group, behind the proxy, driven by the official openai client at concurrency 100.
 *
 * `npm test` runs 1,500 requests; `npm run soak` runs 10,000 (SEMROUTE_SOAK_REQUESTS). Figures go
 * to test-output/soak.json.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { Writable } from 'node:stream';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MemoryStateStore } from '../../src/gateway/state/memory.js';
import { serve } from '../../src/server/serve.js';
import {
  type FakeUpstream,
  type FaultMix,
  startFakeUpstream,
} from '../../src/fake-upstream/fake-upstream.js';
import { tempDir } from '../helpers/encoder.js';

const REQUESTS = Number(process.env.SEMROUTE_SOAK_REQUESTS ?? 1500);
const CONCURRENCY = 100;
const MASTER = 'sk-soak-master-key-000111';
const VIRTUAL = 'sk-soak-virtual-key-222333';
const UPSTREAM_SECRET = 'sk-soak-upstream-secret-444555';
/** Per-attempt timeout (router_settings.timeout, seconds) and how long a `timeout` fault stalls. */
const TIMEOUT_S = 3;
const MIXES: FaultMix[] = [
  { status500: 0.08, status429: 0.05, reset: 0.05, timeout: 0.01, cut: 0.04, slowFirstByte: 0.05 },
  { status500: 0.05, reset: 0.05, timeout: 0.01, cut: 0.03, slowFirstByte: 0.05 },
  { status500: 0.05, status429: 0.1, timeout: 0.01, cut: 0.02 },
].map((m) => ({ ...m, timeoutMs: 5_000, slowFirstByteMs: 300, retryAfterMs: 50 }));

let upstreams: FakeUpstream[];
let backup: FakeUpstream;
let broken: FakeUpstream;
/** Streams as fast as its connection takes them: the slow readers' upstream. */
let flood: FakeUpstream;
const SLOW_READERS = 5;
const SLOW_BODIES = 10;
let server: Awaited<ReturnType<typeof serve>>;
let dir: { dir: string; cleanup: () => Promise<void> };
const logLines: string[] = [];
const bodiesSeen: string[] = [];
const figures: Record<string, unknown> = {};

const gc = (): void => {
  setFlagsFromString('--expose_gc');
  (runInNewContext('gc') as () => void)();
};
const heapMb = () => {
  gc();
  gc();
  return process.memoryUsage().heapUsed / 2 ** 20;
};
const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? 0;

beforeAll(async () => {
  process.env.SOAK_UPSTREAM_KEY = UPSTREAM_SECRET;
  upstreams = await Promise.all(MIXES.map((faults, i) => startFakeUpstream({ faults, seed: 11 + i })));
  [backup, broken, flood] = await Promise.all([
    startFakeUpstream(),
    startFakeUpstream(),
    startFakeUpstream(),
  ]);
  dir = await tempDir();
  const config = path.join(dir.dir, 'config.yaml');
  await writeFile(
    config,
    `
model_list:
${upstreams
  .map(
    (u, i) => `  - model_name: chat
    litellm_params: { model: openai/chat-${i}, api_base: ${u.url}, api_key: os.environ/SOAK_UPSTREAM_KEY }
    model_info: { id: chat-${i} }`,
  )
  .join('\n')}
  - model_name: backup
    litellm_params: { model: openai/backup, api_base: ${backup.url}, api_key: os.environ/SOAK_UPSTREAM_KEY }
    model_info: { id: backup }
  - model_name: flood
    litellm_params: { model: openai/flood, api_base: ${flood.url}, api_key: os.environ/SOAK_UPSTREAM_KEY }
  - model_name: broken-key
    litellm_params: { model: openai/broken, api_base: ${broken.url}, api_key: os.environ/SOAK_UPSTREAM_KEY }
router_settings:
  num_retries: 3
  timeout: ${TIMEOUT_S}
  allowed_fails: 200
  cooldown_time: 1
litellm_settings:
  fallbacks:
    - chat: [backup]
general_settings:
  master_key: ${MASTER}
  request_body_timeout_seconds: 2
  keys:
    - key: ${VIRTUAL}
      models: [chat, backup, broken-key]
`,
  );
  const sink = new Writable({
    write(chunk, _enc, done) {
      logLines.push(chunk.toString());
      done();
    },
  });
  server = await serve({
    config,
    port: 0,
    signals: false,
    watch: false,
    logger: { level: 'info', stream: sink } as never,
  });
}, 60_000);

afterAll(async () => {
  await mkdir('test-output', { recursive: true });
  await writeFile(path.join('test-output', 'soak.json'), `${JSON.stringify(figures, null, 2)}\n`);
  console.log(`soak figures: ${JSON.stringify(figures)}`);
  await server?.close();
  await Promise.all([...(upstreams ?? []), backup, broken, flood].map((u) => u?.close()));
  await dir?.cleanup();
});

/** A client that asks for a large stream and never reads it. */
function slowReader(): net.Socket {
  const socket = net.connect(Number(new URL(server.url).port), '127.0.0.1');
  socket.pause();
  const body = JSON.stringify({
    model: 'flood',
    stream: true,
    messages: [{ role: 'user', content: 'flood' }],
  });
  socket.write(
    `POST /v1/chat/completions HTTP/1.1\r\nhost: x\r\nauthorization: Bearer ${MASTER}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
  );
  socket.on('error', () => {});
  return socket;
}

/** A client that sends its body a byte every 200 ms; resolves when the proxy hangs up. */
function slowBody(): Promise<string> {
  const socket = net.connect(Number(new URL(server.url).port), '127.0.0.1');
  socket.write(
    `POST /v1/chat/completions HTTP/1.1\r\nhost: x\r\nauthorization: Bearer ${MASTER}\r\ncontent-type: application/json\r\ncontent-length: 100000\r\n\r\n{`,
  );
  return new Promise((resolve) => {
    let text = '';
    const drip = setInterval(() => (socket.destroyed ? clearInterval(drip) : socket.write(' ')), 200);
    socket.on('data', (d) => (text += d.toString()));
    socket.on('error', () => {});
    socket.on('close', () => {
      clearInterval(drip);
      resolve(text.split('\r\n')[0] ?? '');
    });
  });
}

type Outcome = 'first_try' | 'after_retry' | 'after_fallback' | 'cut_mid_stream' | 'failed';

async function one(
  client: OpenAI,
  i: number,
): Promise<{ outcome: Outcome; ms: number; attempts?: number; error?: string }> {
  const prompt = `request ${i}: ${'x'.repeat(Math.abs(i) % 50)}`;
  const stream = i % 4 === 0;
  const started = performance.now();
  const classify = (headers: Headers): Outcome =>
    headers.get('x-semroute-fallbacks') !== null
      ? 'after_fallback'
      : Number(headers.get('x-semroute-attempts')) > 1
        ? 'after_retry'
        : 'first_try';
  try {
    if (!stream) {
      const { data, response } = await client.chat.completions
        .create({ model: 'chat', messages: [{ role: 'user', content: prompt }] })
        .withResponse();
      // Right answer to the right request: nothing crossed between concurrent calls.
      expect(data.choices[0]?.message.content).toBe(`echo: ${prompt}`);
      return {
        outcome: classify(response.headers),
        ms: performance.now() - started,
        attempts: Number(response.headers.get('x-semroute-attempts')),
      };
    }
    const { data, response } = await client.chat.completions
      .create({ model: 'chat', messages: [{ role: 'user', content: prompt }], stream: true })
      .withResponse();
    let text = '';
    try {
      for await (const chunk of data) text += chunk.choices[0]?.delta?.content ?? '';
    } catch (error) {
      // Content already reached the client: no retry can take it back, so the stream ends with an error event.
      bodiesSeen.push((error as Error).message);
      return { outcome: 'cut_mid_stream', ms: performance.now() - started, error: (error as Error).message };
    }
    expect(text).toBe(`echo: ${prompt}`);
    return {
      outcome: classify(response.headers),
      ms: performance.now() - started,
      attempts: Number(response.headers.get('x-semroute-attempts')),
    };
  } catch (error) {
    bodiesSeen.push((error as Error).message);
    const status = (error as { status?: number }).status;
    return {
      outcome: 'failed',
      ms: performance.now() - started,
      error: `${stream ? 'stream' : 'plain'} ${status ?? '-'}: ${(error as Error).message}`,
    };
  }
}

describe(`fault soak: ${REQUESTS} requests at concurrency ${CONCURRENCY}`, () => {
  it('serves every request a retry or fallback can serve; none hangs; nothing leaks', async () => {
    const clients = [MASTER, VIRTUAL].map(
      (apiKey) => new OpenAI({ apiKey, baseURL: `${server.url}/v1`, maxRetries: 0, timeout: 60_000 }),
    );
    // Warm up, then take the memory baseline.
    await Promise.all(Array.from({ length: 100 }, (_, i) => one(clients[i % 2]!, -1 - i)));
    const baseline = heapMb();
    const rssBaseline = process.memoryUsage().rss / 2 ** 20;
    let rssPeak = rssBaseline;
    const sampler = setInterval(
      () => (rssPeak = Math.max(rssPeak, process.memoryUsage().rss / 2 ** 20)),
      250,
    );
    // In the mix: clients that never read a large stream, and clients that never finish a body.
    flood.script(Array.from({ length: SLOW_READERS }, () => ({ streamBytes: 500 * 1024 * 1024 })));
    const readers = Array.from({ length: SLOW_READERS }, slowReader);
    const bodies = Promise.all(Array.from({ length: SLOW_BODIES }, slowBody));
    const results: Array<Awaited<ReturnType<typeof one>>> = [];
    let next = 0;
    const started = performance.now();
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        for (let i = next++; i < REQUESTS; i = next++) results.push(await one(clients[i % 2]!, i));
      }),
    );
    const seconds = (performance.now() - started) / 1000;
    const slowBodyAnswers = await bodies;
    const floodBytes = flood.bytesStreamed;
    for (const socket of readers) socket.destroy();
    clearInterval(sampler);
    const count = (o: Outcome) => results.filter((r) => r.outcome === o).length;
    const ms = results.map((r) => r.ms).sort((a, b) => a - b);
    const injected = Object.fromEntries(
      Object.keys(upstreams[0]!.faultsInjected).map((k) => [
        k,
        upstreams.reduce((sum, u) => sum + u.faultsInjected[k as keyof FakeUpstream['faultsInjected']], 0),
      ]),
    );
    const after = heapMb();
    Object.assign(figures, {
      requests: REQUESTS,
      concurrency: CONCURRENCY,
      seconds: Number(seconds.toFixed(1)),
      upstream_calls: upstreams.reduce((s, u) => s + u.attempts, 0) + backup.attempts,
      faults_injected: injected,
      succeeded_first_try: count('first_try'),
      succeeded_after_retry: count('after_retry'),
      succeeded_after_fallback: count('after_fallback'),
      cut_mid_stream: count('cut_mid_stream'),
      failed: count('failed'),
      p50_ms: Math.round(percentile(ms, 0.5)),
      p99_ms: Math.round(percentile(ms, 0.99)),
      max_ms: Math.round(ms[ms.length - 1] ?? 0),
      heap_baseline_mb: Number(baseline.toFixed(1)),
      heap_after_mb: Number(after.toFixed(1)),
      slow_readers: SLOW_READERS,
      slow_reader_bytes_taken_mb: Number((floodBytes / 2 ** 20).toFixed(1)),
      slow_bodies: SLOW_BODIES,
      slow_body_answers: [...new Set(slowBodyAnswers)],
      rss_baseline_mb: Math.round(rssBaseline),
      rss_peak_mb: Math.round(rssPeak),
    });
    figures.failure_examples = [
      ...new Set(results.filter((r) => r.error !== undefined).map((r) => r.error!.replace(/\d+/g, 'N'))),
    ].slice(0, 5);
    const metricsText = await (
      await fetch(`${server.url}/metrics`, { headers: { authorization: `Bearer ${MASTER}` } })
    ).text();
    figures.metrics = metricsText
      .split('\n')
      .filter((l) => /^semroute_(retries|cooldowns|fallbacks)_total/.test(l));
    expect(results).toHaveLength(REQUESTS);
    // Slow readers held their upstream back: socket buffers, not the 2.5 GB it would send.
    expect(floodBytes).toBeLessThan(SLOW_READERS * 32 * 2 ** 20);
    // Slow bodies were cut off (408, or the socket closed) while the soak ran.
    expect(slowBodyAnswers.every((line) => line.startsWith('HTTP/1.1 408'))).toBe(true);
    // The process stayed within a bounded footprint while all that went on.
    expect(rssPeak - rssBaseline).toBeLessThan(400);
    // Every failure mode was exercised.
    for (const [kind, n] of Object.entries(injected)) expect(n, kind).toBeGreaterThan(0);
    // The fallback group is healthy, so nothing that did not stream content can fail.
    expect(results.filter((r) => r.outcome === 'failed').map((r) => r.error)).toEqual([]);
    expect(count('after_retry')).toBeGreaterThan(0);
    // Cuts only come from streams, which are a quarter of the requests.
    expect(count('cut_mid_stream')).toBeLessThan(REQUESTS / 4);
    // No request outlives its retries: at most 4 attempts (num_retries 3) in each of two groups.
    // Counted, not timed: a loaded machine makes requests slower, never makes them try more.
    const attempts = results.flatMap((r) => (r.attempts === undefined ? [] : [r.attempts]));
    expect(attempts.length).toBeGreaterThan(REQUESTS / 2);
    expect(Math.max(...attempts)).toBeLessThanOrEqual(2 * 4);
    expect(Math.min(...attempts)).toBeGreaterThanOrEqual(1);
    // Nothing left in flight, and the heap back near where it started.
    expect((server.runtime.store as MemoryStateStore).inFlightSize).toBe(0);
    const readiness = (await (await fetch(`${server.url}/health/readiness`)).json()) as { in_flight: number };
    figures.proxy_in_flight_after = readiness.in_flight - 1;
    expect(readiness.in_flight).toBe(1);
    expect(after - baseline).toBeLessThan(40);
  }, 600_000);

  it('when every deployment is down, fails fast with an error naming each group and why', async () => {
    for (const u of [...upstreams, backup]) u.behave({ faults: { status500: 1 } });
    try {
      const client = new OpenAI({ apiKey: MASTER, baseURL: `${server.url}/v1`, maxRetries: 0 });
      const ask = async (i: number) => {
        try {
          await client.chat.completions.create({
            model: 'chat',
            messages: [{ role: 'user', content: `down ${i}` }],
          });
          return undefined;
        } catch (error) {
          return error as InstanceType<typeof OpenAI.APIError>;
        }
      };
      const errors = await Promise.all(Array.from({ length: 20 }, (_, i) => ask(i)));
      for (const error of errors) {
        // 500 from the upstreams, or 429 once their failures have cooled every deployment.
        expect([429, 500]).toContain(error?.status);
        expect(error?.message).toMatch(
          /every model failed \(2 groups, \d+ upstream calls\): chat: .*\| backup: /,
        );
        bodiesSeen.push(error?.message ?? '');
      }
      figures.all_down_requests = errors.length;
      figures.all_down_failed_clearly = errors.filter((e) =>
        e?.message.includes('every model failed'),
      ).length;
      figures.all_down_examples = [...new Set(errors.map((e) => e?.message.replace(/\d+/g, 'N')))].slice(
        0,
        3,
      );
    } finally {
      upstreams.forEach((u, i) => void u.behave({ faults: MIXES[i] }));
      backup.behave({ faults: undefined });
    }
  }, 120_000);

  it('never passes an upstream key on, even when the upstream quotes it', async () => {
    broken.behave({ failRate: 1, failStatus: 401 });
    const client = new OpenAI({ apiKey: VIRTUAL, baseURL: `${server.url}/v1`, maxRetries: 0 });
    const error = await (async () => {
      try {
        await client.chat.completions.create({
          model: 'broken-key',
          messages: [{ role: 'user', content: 'hi' }],
        });
        return { status: 200, message: 'no error' };
      } catch (e) {
        return e as { status: number; message: string };
      }
    })();
    // The upstream refused semroute's key: a 502 to the client, whose own key was fine.
    expect(error.status).toBe(502);
    expect(error.message).toContain("refused the proxy's credentials");
    expect(error.message).not.toContain('Incorrect API key');
    bodiesSeen.push(error.message);
  });

  it('wrote no key to any log line, error or response of the whole run', () => {
    const everything = logLines.join('') + bodiesSeen.join('\n');
    expect(logLines.length).toBeGreaterThan(0);
    for (const secret of [MASTER, VIRTUAL, UPSTREAM_SECRET]) expect(everything).not.toContain(secret);
    figures.log_lines_scanned = logLines.length;
    figures.error_messages_scanned = bodiesSeen.length;
  });
});
