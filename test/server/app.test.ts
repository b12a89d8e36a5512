import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Writable } from 'node:stream';
import OpenAI from 'openai';
import { Client } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serve } from '../../src/server/serve.js';
import { type FakeUpstream, startFakeUpstream } from '../../src/fake-upstream/fake-upstream.js';
import { tempDir } from '../helpers/encoder.js';

const MASTER = 'sk-master-test-0123456789';
const VIRTUAL = 'sk-virtual-only-general';
const UPSTREAM_SECRET = 'sk-upstream-very-secret-42';

let primary: FakeUpstream;
let backup: FakeUpstream;
let server: Awaited<ReturnType<typeof serve>>;
let dir: { dir: string; cleanup: () => Promise<void> };
let configFile: string;
const logLines: string[] = [];

function config(extra = ''): string {
  return `
model_list:
  - model_name: coding
    litellm_params: { model: openai/gpt-4.1, api_base: ${primary.url}, api_key: os.environ/SEMROUTE_TEST_UPSTREAM_KEY }
    model_info: { quality: 9, input_cost_per_token: 0.000002, output_cost_per_token: 0.000008 }
  - model_name: general
    litellm_params: { model: openai/gpt-4o-mini, api_base: ${backup.url}, api_key: os.environ/SEMROUTE_TEST_UPSTREAM_KEY }
    model_info: { quality: 6, input_cost_per_token: 0.00000015, output_cost_per_token: 0.0000006 }
  - model_name: chitchat
    litellm_params: { model: openai/gpt-4o-mini, api_base: ${backup.url}, api_key: os.environ/SEMROUTE_TEST_UPSTREAM_KEY }
  - model_name: embed
    litellm_params: { model: openai/text-embedding-3-small, api_base: ${backup.url}, api_key: os.environ/SEMROUTE_TEST_UPSTREAM_KEY }
    model_info: { mode: embedding }
  - model_name: auto_router1
    litellm_params: { model: auto_router/auto_router_1, auto_router_config_path: router.json, auto_router_default_model: general }
router_settings:
  num_retries: 1
  allowed_fails: 0
  cooldown_time: 60
  model_group_alias: { gpt4: coding }
litellm_settings:
  fallbacks:
    - coding: [general]
  set_verbose: false
  success_callback: [langfuse]
general_settings:
  master_key: ${MASTER}
  keys:
    - key: ${VIRTUAL}
      models: [general, auto]
${extra}`;
}

beforeAll(async () => {
  process.env.SEMROUTE_TEST_UPSTREAM_KEY = UPSTREAM_SECRET;
  [primary, backup] = await Promise.all([startFakeUpstream(), startFakeUpstream()]);
  dir = await tempDir();
  configFile = path.join(dir.dir, 'config.yaml');
  await writeFile(configFile, config());
  await writeFile(
    path.join(dir.dir, 'router.json'),
    JSON.stringify({
      routes: [
        {
          name: 'coding',
          utterances: ['how to code a program in [language]', 'fix this bug in my code', 'write a function'],
        },
        { name: 'chitchat', utterances: ['hello, how are you', 'tell me a joke', 'good morning'] },
      ],
    }),
  );
  const sink = new Writable({
    write(chunk, _enc, done) {
      logLines.push(chunk.toString());
      done();
    },
  });
  server = await serve({
    config: configFile,
    port: 0,
    signals: false,
    logger: { level: 'debug', stream: sink } as never,
    watch: true,
  });
}, 60_000);

afterAll(async () => {
  await server?.close();
  await Promise.all([primary?.close(), backup?.close()]);
  await dir?.cleanup();
});

const client = (key = MASTER) => new OpenAI({ apiKey: key, baseURL: `${server.url}/v1`, maxRetries: 0 });

describe('proxy with the official openai client', () => {
  it('serves a plain group, with semroute headers and the serving model', async () => {
    const { data, response } = await client()
      .chat.completions.create({ model: 'coding', messages: [{ role: 'user', content: 'ping' }] })
      .withResponse();
    expect(data.choices[0]!.message.content).toBe('echo: ping');
    expect(data.model).toBe('coding');
    expect(response.headers.get('x-semroute-model-id')).toBeTruthy();
    expect(Number(response.headers.get('x-semroute-overhead-ms'))).toBeGreaterThanOrEqual(0);
    expect(primary.requests.at(-1)!.headers.authorization).toBe(`Bearer ${UPSTREAM_SECRET}`);
  });

  it('streams OpenAI SSE chunks through, ending with [DONE]', async () => {
    const stream = await client().chat.completions.create({
      model: 'gpt4',
      messages: [{ role: 'user', content: 'stream please' }],
      stream: true,
    });
    let text = '';
    let chunks = 0;
    for await (const chunk of stream) {
      chunks++;
      expect(chunk.model).toBe('coding');
      text += chunk.choices[0]?.delta?.content ?? '';
    }
    expect(text).toBe('echo: stream please');
    expect(chunks).toBeGreaterThan(2);
    const raw = await fetch(`${server.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${MASTER}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'coding', messages: [{ role: 'user', content: 'raw' }], stream: true }),
    });
    expect(raw.headers.get('content-type')).toContain('text/event-stream');
    const body = await raw.text();
    const events = body.split('\n\n').filter(Boolean);
    expect(events.every((e) => e.startsWith('data: '))).toBe(true);
    expect(events.at(-1)).toBe('data: [DONE]');
  });

  it('routes auto_router1 semantically and says which route and model', async () => {
    const { data, response } = await client()
      .chat.completions.create({
        model: 'auto_router1',
        messages: [{ role: 'user', content: 'how do I code a quicksort in Rust' }],
      })
      .withResponse();
    expect(data.model).toBe('coding');
    expect(response.headers.get('x-semroute-route')).toBe('coding');
    expect(Number(response.headers.get('x-semroute-score'))).toBeGreaterThan(0.5);
    const none = await client().chat.completions.create({
      model: 'auto_router1',
      messages: [{ role: 'user', content: 'the capital gains tax rules in Norway' }],
    });
    expect(none.model).toBe('general');
  });

  it('routes model "auto" by cost and quality', async () => {
    const cheap = await client().chat.completions.create({
      model: 'auto',
      messages: [{ role: 'user', content: 'a cheap one' }],
      // @ts-expect-error OpenRouter's extension
      plugins: [{ id: 'auto-router', cost_quality_tradeoff: 10, allowed_models: ['coding', 'general'] }],
    });
    expect(cheap.model).toBe('general');
    const best = await client().chat.completions.create({
      model: 'openrouter/auto',
      messages: [{ role: 'user', content: 'the best one' }],
      // @ts-expect-error OpenRouter's extension
      plugins: [{ id: 'auto-router', cost_quality_tradeoff: 0, allowed_models: ['coding', 'general'] }],
    });
    expect(best.model).toBe('coding');
  });

  it('falls back when the primary fails, and the response names the fallback', async () => {
    primary.script([{ status: 500 }, { status: 500 }]);
    const out = await client().chat.completions.create({
      model: 'coding',
      messages: [{ role: 'user', content: 'fallback me' }],
    });
    expect(out.model).toBe('general');
    const health = (await (
      await fetch(`${server.url}/health`, { headers: { authorization: `Bearer ${MASTER}` } })
    ).json()) as {
      unhealthy_count: number;
    };
    expect(health.unhealthy_count).toBeGreaterThanOrEqual(1);
  });

  it('rejects a missing or wrong key with 401, and a virtual key outside its models with an error', async () => {
    const noKey = await fetch(`${server.url}/v1/models`);
    expect(noKey.status).toBe(401);
    expect(await noKey.json()).toMatchObject({
      error: { type: 'authentication_error', code: 'invalid_api_key' },
    });
    await expect(client('sk-wrong-key').models.list()).rejects.toMatchObject({ status: 401 });
    const limited = client(VIRTUAL);
    expect((await limited.models.list()).data.map((m) => m.id).sort()).toEqual(['auto', 'general']);
    await expect(
      limited.chat.completions.create({ model: 'coding', messages: [{ role: 'user', content: 'x' }] }),
    ).rejects.toMatchObject({ status: 403 });
    const ok = await limited.chat.completions.create({
      model: 'general',
      messages: [{ role: 'user', content: 'x' }],
    });
    expect(ok.model).toBe('general');
  });

  it('validates request bodies with 400 naming the field', async () => {
    const error = await client()
      .chat.completions.create({ model: 'coding', messages: [] })
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ status: 400 });
    expect((error as Error).message).toContain('messages');
    const bad = await fetch(`${server.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${MASTER}`, 'content-type': 'application/json' },
      body: '{"model": 5}',
    });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: { param: string } }).error.param).toBe('model');
    const unknown = await client()
      .chat.completions.create({ model: 'nope', messages: [{ role: 'user', content: 'x' }] })
      .catch((e: unknown) => e);
    expect(unknown).toMatchObject({ status: 404 });
  });

  it('serves embeddings, models, health and an explain endpoint', async () => {
    const emb = await client().embeddings.create({ model: 'embed', input: ['a', 'b'] });
    expect(emb.data).toHaveLength(2);
    const models = (await client().models.list()).data.map((m) => m.id);
    expect(models).toEqual(expect.arrayContaining(['coding', 'general', 'gpt4', 'auto_router1', 'auto']));
    expect((await fetch(`${server.url}/health/liveliness`)).status).toBe(200);
    expect((await fetch(`${server.url}/health/readiness`)).status).toBe(200);
    const explain = (await (
      await fetch(`${server.url}/v1/route`, {
        method: 'POST',
        headers: { authorization: `Bearer ${MASTER}`, 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'auto_router1', prompt: 'hello, how are you doing' }),
      })
    ).json()) as {
      route: string;
      model: string;
      deployment: string;
      candidates: unknown[];
      threshold: number;
    };
    expect(explain).toMatchObject({ route: 'chitchat', model: 'chitchat' });
    expect(explain.deployment).toBeTruthy();
    expect(explain.candidates.length).toBeGreaterThan(0);
  });

  it('exposes Prometheus metrics for requests, routes, retries, fallbacks and cooldowns', async () => {
    // A model nobody configured is counted as "unknown": callers cannot add labels at will.
    const bogus = `no-such-model-${Date.now()}`;
    await expect(
      client().chat.completions.create({ model: bogus, messages: [{ role: 'user', content: 'hi' }] }),
    ).rejects.toMatchObject({ status: 404 });
    const res = await fetch(`${server.url}/metrics`, { headers: { authorization: `Bearer ${MASTER}` } });
    const text = await res.text();
    expect(text).toMatch(/semroute_requests_total\{endpoint="chat",model="coding",status="200"\} \d+/);
    expect(text).toMatch(/semroute_route_decisions_total\{router="auto_router1",route="coding"\} \d+/);
    expect(text).toContain('semroute_fallbacks_total{from="coding",to="general"}');
    expect(text).toContain('semroute_cooldowns_total');
    expect(text).toContain('semroute_request_duration_seconds_bucket');
    expect(text).toMatch(/semroute_requests_total\{endpoint="chat",model="unknown",status="404"\} \d+/);
    expect(text).not.toContain(bogus);
    expect((await fetch(`${server.url}/metrics`)).status).toBe(401);
  });

  it('hot-reloads a changed config; a broken one keeps the old config serving', async () => {
    await writeFile(configFile, config().replace('gpt4: coding', 'gpt4: coding, newalias: general'));
    await waitFor(async () => (await client().models.list()).data.some((m) => m.id === 'newalias'));
    await writeFile(configFile, 'model_list: [ {broken');
    await expect
      .poll(() => logLines.join('').includes('config reload failed'), { timeout: 45_000 })
      .toBe(true);
    expect((await client().models.list()).data.some((m) => m.id === 'newalias')).toBe(true);
    await writeFile(configFile, config());
    await waitFor(async () => !(await client().models.list()).data.some((m) => m.id === 'newalias'));
  });

  it('cancels the upstream call when the client disconnects', async () => {
    backup.behave({ latencyMs: 1500 });
    try {
      const start = backup.attempts;
      const controller = new AbortController();
      const pending = client()
        .chat.completions.create(
          { model: 'general', messages: [{ role: 'user', content: 'slow' }] },
          { signal: controller.signal },
        )
        .catch((e: unknown) => e);
      // Abort only once the call is upstream (a fixed sleep raced a loaded machine).
      await expect.poll(() => backup.attempts, { timeout: 45_000 }).toBeGreaterThan(start);
      const before = backup.attempts;
      controller.abort();
      expect(await pending).toBeInstanceOf(Error);
      // The proxy finished the request as a 499 (its last step), and by then had not retried or
      // fallen back: no new upstream attempt.
      const metricsText = async () =>
        (await fetch(`${server.url}/metrics`, { headers: { authorization: `Bearer ${MASTER}` } })).text();
      await expect
        .poll(metricsText, { timeout: 45_000 })
        .toMatch(/semroute_requests_total\{endpoint="chat",model="general",status="499"\} 1/);
      expect(backup.attempts).toBe(before);
    } finally {
      backup.behave({ latencyMs: 0 });
    }
  });

  /** The route page's sign-in form: what a browser without a session gets instead of the page. */
  const isLoginPage = (status: number, body: string) =>
    status === 200 && body.includes('action="/ui/login"') && !body.includes('<script');

  it('requires a key on every registered route but health', async () => {
    expect(server.routes.length).toBeGreaterThanOrEqual(10);
    for (const { method, url } of server.routes) {
      const res = await fetch(`${server.url}${url}`, {
        method,
        ...(method === 'POST' ? { body: '{}', headers: { 'content-type': 'application/json' } } : {}),
      });
      const open = url.startsWith('/health') || url === '/favicon.ico';
      const refused = res.status === 401 || isLoginPage(res.status, await res.text());
      expect(refused, `${method} ${url} answered ${res.status}`).toBe(!open);
    }
  });

  it('authorises the route fastify matched: percent-encoded paths get no further than plain ones', async () => {
    /** The path with one character percent-encoded at each position in turn, plus all of them. */
    const encodings = (url: string): string[] => {
      const out = new Set<string>();
      const hex = (c: string) => `%${c.charCodeAt(0).toString(16).padStart(2, '0')}`;
      for (let i = 0; i < url.length; i++) {
        const c = url[i]!;
        if (c === '/') continue;
        out.add(url.slice(0, i) + hex(c) + url.slice(i + 1));
        out.add(url.slice(0, i) + hex(c).toUpperCase() + url.slice(i + 1));
      }
      out.add(url.replace(/[^/]/g, hex));
      return [...out];
    };
    const status = async (method: string, url: string, key?: string) => {
      const headers: Record<string, string> = key === undefined ? {} : { authorization: `Bearer ${key}` };
      if (method !== 'GET') headers['content-type'] = 'application/json';
      const res = await fetch(`${server.url}${url}`, {
        method,
        headers,
        ...(method === 'GET' ? {} : { body: '{}' }),
        redirect: 'manual',
      });
      // The sign-in form (200, so a browser logs no error) refuses as a 401 does.
      return isLoginPage(res.status, await res.text()) ? 401 : res.status;
    };
    let tried = 0;
    for (const { method, url } of server.routes) {
      const concrete = url.replace(':model', 'auto_router1');
      const open = url.startsWith('/health') || url === '/favicon.ico';
      const ui = url === '/ui' || url.startsWith('/ui/');
      for (const variant of encodings(concrete)) {
        const withMaster = await status(method, variant, MASTER);
        // The variant reached the same route (or fastify refused the spelling outright).
        if (withMaster === 404) continue;
        tried++;
        const anonymous = await status(method, variant);
        expect(anonymous === 401, `${method} ${variant} without a key answered ${anonymous}`).toBe(!open);
        if (ui && url !== '/ui/login') {
          const virtual = await status(method, variant, VIRTUAL);
          expect(virtual, `${method} ${variant} with a virtual key`).toBe(401);
        }
      }
    }
    // The guard was exercised on encoded spellings that fastify does route.
    expect(tried).toBeGreaterThan(50);
    // The finding itself: the route page's state and saves under /%75i and /u%69.
    for (const prefix of ['/%75i', '/u%69', '/%75%69']) {
      expect(await status('GET', `${prefix}/api/state`, VIRTUAL)).toBe(401);
      expect(await status('GET', `${prefix}/api/decisions`, VIRTUAL)).toBe(401);
      expect(await status('PUT', `${prefix}/api/routers/auto_router1`, VIRTUAL)).toBe(401);
      expect(await status('GET', `${prefix}/api/state`, MASTER)).toBe(200);
    }
  });

  it('never writes keys to the logs', async () => {
    const all = logLines.join('');
    expect(all.length).toBeGreaterThan(0);
    for (const secret of [MASTER, VIRTUAL, UPSTREAM_SECRET]) expect(all).not.toContain(secret);
  });
});

describe('graceful shutdown', () => {
  it('finishes requests in flight and answers new ones 503 while draining', async () => {
    const second = await serve({
      config: configFile,
      port: 0,
      signals: false,
      watch: false,
      logger: { level: 'silent' } as never,
    });
    primary.behave({ latencyMs: 400 });
    try {
      const start = primary.attempts;
      const c = new OpenAI({ apiKey: MASTER, baseURL: `${second.url}/v1`, maxRetries: 0 });
      const inFlight = c.chat.completions.create({
        model: 'coding',
        messages: [{ role: 'user', content: 'finish me' }],
      });
      await expect.poll(() => primary.attempts, { timeout: 45_000 }).toBeGreaterThan(start);
      // close() starts draining at once, before it returns its promise.
      const closing = second.close();
      const late = await fetch(`${second.url}/v1/models`, {
        headers: { authorization: `Bearer ${MASTER}` },
      }).catch((e: unknown) => e);
      expect(late instanceof Response ? late.status : 503).toBe(503);
      expect((await inFlight).choices[0]!.message.content).toBe('echo: finish me');
      await closing;
    } finally {
      primary.behave({ latencyMs: 0 });
    }
  });
});

describe('many requests on one keep-alive connection', () => {
  it('leaves no abort listener behind: retries, streams and routing all clean up', async () => {
    // The cancel signal belongs to the connection; a listener left per request would pile up on
    // it, and Node warns past ten.
    const warnings: Error[] = [];
    const onWarning = (w: Error) => warnings.push(w);
    process.on('warning', onWarning);
    const upstream = await startFakeUpstream();
    const file = path.join(dir.dir, 'one-connection.yaml');
    await writeFile(
      file,
      `
model_list:
  - model_name: flaky
    litellm_params: { model: openai/m, api_base: ${upstream.url}, api_key: sk-up }
  - model_name: coding
    litellm_params: { model: openai/m, api_base: ${upstream.url}, api_key: sk-up }
  - model_name: chitchat
    litellm_params: { model: openai/m, api_base: ${upstream.url}, api_key: sk-up }
  - model_name: auto_router1
    litellm_params: { model: auto_router/one, auto_router_config_path: router.json, auto_router_default_model: flaky }
router_settings: { num_retries: 2, retry_after: 0, allowed_fails: 1000 }
general_settings: { master_key: ${MASTER} }
`,
    );
    const proxy = await serve({
      config: file,
      port: 0,
      signals: false,
      watch: false,
      logger: false as never,
    });
    const connection = new Client(proxy.url, { pipelining: 1 });
    try {
      const ask = async (model: string, stream: boolean) => {
        const { statusCode, body } = await connection.request({
          method: 'POST',
          path: '/v1/chat/completions',
          headers: { authorization: `Bearer ${MASTER}`, 'content-type': 'application/json' },
          body: JSON.stringify({ model, stream, messages: [{ role: 'user', content: 'write a function' }] }),
        });
        return { statusCode, text: await body.text() };
      };
      let retried = 0;
      for (let i = 0; i < 12; i++) {
        // Each plain request fails once first: the retry waits on the connection's signal.
        upstream.script([{ status: 500 }]);
        const before = upstream.attempts;
        const plain = await ask('flaky', false);
        expect(plain.statusCode).toBe(200);
        retried += upstream.attempts - before - 1;
        const streamed = await ask('flaky', true);
        expect(streamed.text.endsWith('data: [DONE]\n\n')).toBe(true);
        expect((await ask('auto_router1', false)).statusCode).toBe(200);
      }
      expect(retried).toBe(12);
      expect(warnings.filter((w) => w.name === 'MaxListenersExceededWarning')).toEqual([]);
    } finally {
      process.off('warning', onWarning);
      await connection.close();
      await proxy.close();
      await upstream.close();
    }
  });
});

async function waitFor(check: () => Promise<boolean>, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error('condition not met in time');
}

describe('the request id', () => {
  const send = (path: string, init: RequestInit & { key?: string | null } = {}) =>
    fetch(`${server.url}${path}`, {
      method: init.method ?? 'POST',
      headers: {
        ...(init.key === null ? {} : { authorization: `Bearer ${init.key ?? MASTER}` }),
        'content-type': 'application/json',
        ...(init.headers as Record<string, string>),
      },
      ...(init.body === undefined ? {} : { body: init.body }),
    });

  it("is the client's when sane, echoed on every kind of answer, and in the request's log line", async () => {
    const chat = JSON.stringify({ model: 'coding', messages: [{ role: 'user', content: 'id me' }] });
    const ok = await send('/v1/chat/completions', {
      body: chat,
      headers: { 'x-request-id': 'trace-abc.123' },
    });
    expect(ok.status).toBe(200);
    expect(ok.headers.get('x-request-id')).toBe('trace-abc.123');
    await expect
      .poll(
        () => logLines.some((l) => l.includes('"reqId":"trace-abc.123"') && l.includes('"msg":"request"')),
        {
          timeout: 45_000,
        },
      )
      .toBe(true);
    const streamed = await send('/v1/chat/completions', {
      body: JSON.stringify({ model: 'coding', stream: true, messages: [{ role: 'user', content: 's' }] }),
      headers: { 'x-request-id': 'stream-1' },
    });
    await streamed.text();
    expect(streamed.headers.get('x-request-id')).toBe('stream-1');
    const embedded = await send('/v1/embeddings', { body: JSON.stringify({ model: 'embed', input: 'x' }) });
    expect(embedded.headers.get('x-request-id')).toMatch(/^req_[0-9a-f]{24}$/);
    // Refused by auth, by validation, by routing, and a path that does not exist: the id too.
    for (const res of [
      await send('/v1/chat/completions', { body: chat, key: null, headers: { 'x-request-id': 'no-key' } }),
      await send('/v1/chat/completions', { body: '{"model": 5}', headers: { 'x-request-id': 'bad-body' } }),
      await send('/v1/chat/completions', {
        body: JSON.stringify({ model: 'nope', messages: [] }),
        headers: { 'x-request-id': 'no-model' },
      }),
      await send('/v1/nowhere', { headers: { 'x-request-id': 'nowhere' } }),
    ]) {
      expect(res.status).toBeGreaterThanOrEqual(400);
      expect(['no-key', 'bad-body', 'no-model', 'nowhere']).toContain(res.headers.get('x-request-id'));
    }
  });

  it('is generated when the client sends one that is not sane (too long, separators, controls)', async () => {
    for (const given of ['x'.repeat(129), 'a b', 'a,b', 'a;b']) {
      const res = await send('/v1/models', { method: 'GET', headers: { 'x-request-id': given } });
      expect(res.headers.get('x-request-id')).toMatch(/^req_[0-9a-f]{24}$/);
    }
  });

  it('counts a request refused before it reached the gateway in the metrics, by its endpoint', async () => {
    await send('/v1/embeddings', { body: '{"input": "no model"}' });
    const text = await (await send('/metrics', { method: 'GET' })).text();
    expect(text).toMatch(
      /semroute_requests_total\{endpoint="embeddings",model="unknown",status="400"\} [1-9]/,
    );
  });
});
