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

/** A proxy on a config written here (one file per test), quiet and unwatched. */
async function serveYaml(name: string, yaml: string, env?: NodeJS.ProcessEnv) {
  const config = path.join(dir.dir, name);
  await writeFile(config, yaml);
  return serve({
    config,
    port: 0,
    signals: false,
    watch: false,
    logger: false,
    ...(env === undefined ? {} : { env }),
  });
}

/** POST /v1/chat/completions as a client sends it, with a key or none. */
function chat(server: { url: string }, body: unknown, key?: string) {
  return fetch(`${server.url}/v1/chat/completions`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      ...(key === undefined ? {} : { authorization: `Bearer ${key}` }),
    },
    body: JSON.stringify(body),
  });
}

async function proxy(store: 'memory' | 'redis', prefix: string) {
  const server = await serveYaml(
    `${prefix}.yaml`,
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
  const post = async (body: unknown, key = TENANT) => {
    const res = await chat(server, body, key);
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

/**
 * The upstream's record of the request that asked `content`. Not the last one it got: the
 * upstream is shared by this file's tests, and a call an earlier test left (a retry, a fallback)
 * may land after the one looked for.
 */
const received = (content: string) => {
  const found = upstream.requests.findLast((r) => JSON.stringify(r.body).includes(content));
  if (found === undefined) throw new Error(`the upstream got no request asking "${content}"`);
  return found;
};

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
    const ok = await p.post(
      ask({
        extra_headers: { 'x-trace': 'abc-123' },
        messages: [{ role: 'user', content: `fine ${store}` }],
      }),
    );
    expect(ok.status).toBe(200);
    expect(received(`fine ${store}`).headers['x-trace']).toBe('abc-123');
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

describe('lows: what one tenant learns or reaches', () => {
  const OTHER = 'sk-round3-tenant-key-000002';
  const NO_AUTO = 'sk-round3-tenant-key-000003';

  it.each(['memory', 'redis'] as const)(
    '10. the response cache is per caller: B never gets A’s cached answer (state in %s)',
    async (store) => {
      const server = await serveYaml(
        `cache-${store}.yaml`,
        `
model_list:
  - model_name: shared
    litellm_params: { model: openai/gpt-4o, api_base: ${upstream.url}, api_key: sk-up }
router_settings:
  cache_responses: true
${store === 'redis' ? `  redis_host: 127.0.0.1\n  redis_port: ${redis.port}\n  redis_key_prefix: "cache-${store}:"` : ''}
general_settings:
  master_key: ${MASTER}
  keys: [{ key: ${TENANT} }, { key: ${OTHER} }]
`,
      );
      try {
        const send = (key: string) =>
          chat(server, ask({ messages: [{ role: 'user', content: `private question ${store}` }] }), key);
        const before = upstream.attempts;
        expect((await send(TENANT)).headers.get('x-semroute-cache')).toBeNull();
        // A asks again: its own entry.
        expect((await send(TENANT)).headers.get('x-semroute-cache')).toBe('hit');
        // B asks the same: no hit, its own call.
        expect((await send(OTHER)).headers.get('x-semroute-cache')).toBeNull();
        expect(upstream.attempts - before).toBe(2);
      } finally {
        await server.close();
      }
    },
  );

  it('14. `auto` is a model name like any other: a key whose list lacks it gets 403', async () => {
    const server = await serveYaml(
      'no-auto.yaml',
      `
model_list:
  - model_name: shared
    litellm_params: { model: openai/gpt-4o, api_base: ${upstream.url}, api_key: sk-up }
general_settings:
  master_key: ${MASTER}
  keys: [{ key: ${NO_AUTO}, models: [shared] }, { key: ${TENANT}, models: [shared, auto] }]
`,
    );
    try {
      const send = (key: string, model: string) => chat(server, ask({ model }), key);
      const before = upstream.attempts;
      for (const model of ['auto', 'openrouter/auto'])
        expect((await send(NO_AUTO, model)).status, model).toBe(403);
      expect(upstream.attempts).toBe(before);
      // Listed: allowed, under either name.
      expect((await send(TENANT, 'auto')).status).toBe(200);
      expect((await send(TENANT, 'openrouter/auto')).status).toBe(200);
    } finally {
      await server.close();
    }
  });

  it.each(['memory', 'redis'] as const)(
    '4. a model the upstream lacks, asked through a wildcard, cools nothing for anyone (state in %s)',
    async (store) => {
      const server = await serveYaml(
        `wild-${store}.yaml`,
        `
model_list:
  - model_name: "openai/*"
    litellm_params: { model: "openai/*", api_base: ${upstream.url}, api_key: sk-up }
    model_info: { id: wild-${store} }
router_settings:
  num_retries: 2
  allowed_fails: 0
${store === 'redis' ? `  redis_host: 127.0.0.1\n  redis_port: ${redis.port}\n  redis_key_prefix: "wild-${store}:"` : ''}
general_settings:
  master_key: ${MASTER}
  keys: [{ key: ${TENANT} }, { key: ${OTHER} }]
`,
      );
      try {
        const send = (key: string, model: string) => chat(server, ask({ model }), key);
        const before = upstream.attempts;
        upstream.script([
          {
            status: 404,
            body: {
              error: { message: 'The model `attacker-secret-name` does not exist', code: 'model_not_found' },
            },
          },
        ]);
        const missing = await send(TENANT, 'openai/attacker-secret-name');
        expect(missing.status).toBe(404);
        // Not retried (two retries were allowed), not cooled.
        expect(upstream.attempts - before).toBe(1);
        const health = (await (
          await fetch(`${server.url}/health`, { headers: { authorization: `Bearer ${MASTER}` } })
        ).json()) as { unhealthy_count: number };
        expect(health.unhealthy_count).toBe(0);
        // The other tenant is served at once, and sees nothing of the first one's request.
        const other = await send(OTHER, 'openai/gpt-4o');
        expect(other.status).toBe(200);
        expect(await other.text()).not.toContain('attacker-secret-name');
      } finally {
        await server.close();
      }
    },
  );

  it('8. a catch-all * deployment with its own api_key reaches its own provider only, never where a client points it', async () => {
    // Another upstream the operator's key must never reach, standing in for llamafile's base.
    const elsewhere = await startFakeUpstream();
    const server = await serveYaml(
      'catch-all.yaml',
      `
model_list:
  - model_name: "*"
    litellm_params: { model: "*", api_base: ${upstream.url}, api_key: sk-operator-secret }
`,
      { ...process.env, LLAMAFILE_API_BASE: elsewhere.url },
    );
    try {
      const send = (model: string) => chat(server, ask({ model }));
      for (const model of ['llamafile/x', 'ollama/x', 'anthropic/claude-3-haiku-20240307']) {
        const res = await send(model);
        expect(res.status, model).toBe(403);
        expect(((await res.json()) as { error: { message: string } }).error.message).toMatch(
          /only reaches openai/,
        );
      }
      expect(elsewhere.attempts).toBe(0);
      // Its own provider (an unprefixed name, or openai/) is served as before.
      expect((await send('gpt-4o')).status).toBe(200);
      expect((await send('openai/gpt-4o')).status).toBe(200);
    } finally {
      await server.close();
      await elsewhere.close();
    }
  });

  it('7. every master-key comparison is throttled: Bearer guesses on /v1 and /ui too, not only the login form', async () => {
    const server = await serveYaml(
      'throttle.yaml',
      `
model_list:
  - model_name: shared
    litellm_params: { model: openai/gpt-4o, api_base: ${upstream.url}, api_key: sk-up }
general_settings:
  master_key: ${MASTER}
  keys: [{ key: ${TENANT} }]
`,
    );
    try {
      const get = (url: string, key: string) =>
        fetch(`${server.url}${url}`, { headers: { authorization: `Bearer ${key}` } });
      // Ten wrong guesses, spread over the API and the route page: each a 401.
      for (let i = 0; i < 10; i++) {
        const res = await get(i % 2 === 0 ? '/v1/models' : '/ui/api/state', `sk-guess-${i}-0000000000`);
        expect(res.status, String(i)).toBe(401);
      }
      // The eleventh is refused before any comparison — even when it is the right key.
      for (const key of ['sk-guess-x-0000000000', MASTER]) {
        const res = await get('/v1/models', key);
        expect(res.status).toBe(429);
        expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(0);
      }
      // A virtual key is a lookup, not a guess: it still passes.
      expect((await get('/v1/models', TENANT)).status).toBe(200);
    } finally {
      await server.close();
    }
  });

  it('6. an open route page (ui_open) answers only to its own names and takes changes only from its own origin', async () => {
    const { request: httpRequest } = await import('node:http');
    await writeFile(
      path.join(dir.dir, 'open-router.json'),
      JSON.stringify({ routes: [{ name: 'a', utterances: ['hello there'] }] }),
    );
    const server = await serveYaml(
      'ui-open.yaml',
      `
model_list:
  - model_name: shared
    litellm_params: { model: openai/gpt-4o, api_base: ${upstream.url}, api_key: sk-up }
general_settings:
  master_key: ${MASTER}
  ui_open: true
  ui_allowed_hosts: [router.internal]
`,
    );
    const port = Number(new URL(server.url).port);
    /** A raw request: fetch may not set Host, and a rebinding page's browser does. */
    const raw = (method: string, url: string, headers: Record<string, string>, body?: string) =>
      new Promise<{ status: number; text: string }>((resolve, reject) => {
        const req = httpRequest({ host: '127.0.0.1', port, method, path: url, headers }, (res) => {
          let text = '';
          res.on('data', (c: Buffer) => (text += c));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
        });
        req.on('error', reject);
        req.end(body);
      });
    try {
      expect((await raw('GET', '/ui/api/state', { host: 'evil.example' })).status).toBe(403);
      expect((await raw('GET', '/ui/api/state', { host: `evil.example:${port}` })).status).toBe(403);
      expect((await raw('GET', '/ui/api/state', { host: `127.0.0.1:${port}` })).status).toBe(200);
      expect((await raw('GET', '/ui/api/state', { host: `localhost:${port}` })).status).toBe(200);
      expect((await raw('GET', '/ui/api/state', { host: `router.internal:${port}` })).status).toBe(200);
      // ui_open keeps the Origin check for changes.
      const json = { 'content-type': 'application/json', host: `127.0.0.1:${port}` };
      const lint = JSON.stringify({ model: 'x' });
      expect(
        (await raw('POST', '/ui/api/lint', { ...json, origin: 'http://evil.example' }, lint)).status,
      ).toBe(403);
      // A form (what a cross-site page sends without a preflight) is taken by /ui/login only.
      const form = await raw(
        'POST',
        '/ui/api/lint',
        { 'content-type': 'application/x-www-form-urlencoded', host: `127.0.0.1:${port}` },
        'model=x',
      );
      expect(form.status).toBe(415);
    } finally {
      await server.close();
    }
  });

  it("9. a request's extra_headers cannot set the provider identity or forwarding headers, unless the deployment forwards them", async () => {
    const server = await serveYaml(
      'forward.yaml',
      `
model_list:
  - model_name: plain
    litellm_params: { model: openai/gpt-4o, api_base: ${upstream.url}, api_key: sk-up, organization: org-operator }
  - model_name: opted
    litellm_params: { model: openai/gpt-4o, api_base: ${upstream.url}, api_key: sk-up, forward_client_headers: [OpenAI-Project] }
`,
    );
    try {
      const send = (model: string, extra_headers: Record<string, string>, content = 'hello') =>
        chat(server, ask({ model, extra_headers, messages: [{ role: 'user', content }] }));
      const before = upstream.attempts;
      for (const name of [
        'OpenAI-Organization',
        'OpenAI-Project',
        'X-Forwarded-For',
        'x-real-ip',
        'x-amz-security-token',
      ]) {
        const res = await send('plain', { [name]: 'attacker' });
        expect(res.status, name).toBe(400);
        const body = (await res.json()) as { error: { param: string } };
        expect(body.error.param).toBe(`extra_headers.${name}`);
      }
      expect(upstream.attempts).toBe(before);
      // A custom header passes; the operator's organization stays the operator's.
      expect((await send('plain', { 'x-trace': 'abc' }, 'custom header')).status).toBe(200);
      const sent = received('custom header').headers;
      expect(sent['x-trace']).toBe('abc');
      expect(sent['openai-organization']).toBe('org-operator');
      // A deployment that opts in forwards what it lists.
      expect((await send('opted', { 'OpenAI-Project': 'proj-1' }, 'opted in')).status).toBe(200);
      expect(received('opted in').headers['openai-project']).toBe('proj-1');
    } finally {
      await server.close();
    }
  });

  it('18. answers held in memory share one process-wide byte budget: past it a 503, the deployment not blamed', async () => {
    const server = await serveYaml(
      'budget-bytes.yaml',
      `
model_list:
  - model_name: big
    litellm_params: { model: openai/gpt-4o, api_base: ${upstream.url}, api_key: sk-up }
    model_info: { id: big-1 }
router_settings:
  max_buffered_bytes: 1000000
  max_response_bytes: 10000000
  allowed_fails: 0
  num_retries: 2
general_settings:
  master_key: ${MASTER}
`,
    );
    try {
      const send = () => chat(server, ask({ model: 'big' }), MASTER);
      const before = upstream.attempts;
      upstream.script([{ answerBytes: 2_000_000 }]);
      const res = await send();
      expect(res.status).toBe(503);
      expect(res.headers.get('retry-after')).toBe('1');
      expect(((await res.json()) as { error: { message: string } }).error.message).toMatch(
        /max_buffered_bytes/,
      );
      // Not retried, not cooled: the budget is the proxy's, not the deployment's fault.
      expect(upstream.attempts - before).toBe(1);
      const health = (await (
        await fetch(`${server.url}/health`, { headers: { authorization: `Bearer ${MASTER}` } })
      ).json()) as { unhealthy_count: number };
      expect(health.unhealthy_count).toBe(0);
      // What it held was given back: a small answer passes at once.
      expect((await send()).status).toBe(200);
    } finally {
      await server.close();
    }
  });

  it('17. an upstream that sends [DONE] and keeps the connection open does not hold the client', async () => {
    // A raw server: one chunk, [DONE], then the connection stays open with nothing more.
    const { createServer } = await import('node:http');
    const held: Array<import('node:http').ServerResponse> = [];
    const stalling = createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        const chunk = {
          id: 'c1',
          object: 'chat.completion.chunk',
          created: 1,
          model: 'gpt-4o',
          choices: [{ index: 0, delta: { role: 'assistant', content: 'hi' }, finish_reason: 'stop' }],
        };
        res.write(`data: ${JSON.stringify(chunk)}\n\ndata: [DONE]\n\n`);
        held.push(res);
      });
    });
    await new Promise<void>((r) => stalling.listen(0, '127.0.0.1', r));
    const address = stalling.address() as { port: number };
    const server = await serveYaml(
      'stall.yaml',
      `
model_list:
  - model_name: stall
    litellm_params: { model: openai/gpt-4o, api_base: http://127.0.0.1:${address.port}/v1, api_key: sk-up }
`,
    );
    try {
      const res = await chat(server, {
        model: 'stall',
        stream: true,
        messages: [{ role: 'user', content: 'x' }],
      });
      // The whole answer arrives and ends (the test would time out if the proxy waited on the upstream).
      const text = await res.text();
      expect(text).toContain('"content":"hi"');
      expect(text.trimEnd().endsWith('data: [DONE]')).toBe(true);
      expect(held).toHaveLength(1);
    } finally {
      for (const r of held) r.destroy();
      await server.close();
      await new Promise((r) => stalling.close(r));
    }
  });

  it('17b. a stream that trickles on without end is closed at max_stream_seconds', async () => {
    const { createServer } = await import('node:http');
    const timers: NodeJS.Timeout[] = [];
    const trickling = createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        const chunk = (n: number) => ({
          id: 'c1',
          object: 'chat.completion.chunk',
          created: 1,
          model: 'gpt-4o',
          choices: [{ index: 0, delta: { content: `t${n} ` }, finish_reason: null }],
        });
        let n = 0;
        timers.push(setInterval(() => res.write(`data: ${JSON.stringify(chunk(n++))}\n\n`), 50));
      });
    });
    await new Promise<void>((r) => trickling.listen(0, '127.0.0.1', r));
    const address = trickling.address() as { port: number };
    const server = await serveYaml(
      'trickle.yaml',
      `
model_list:
  - model_name: trickle
    litellm_params: { model: openai/gpt-4o, api_base: http://127.0.0.1:${address.port}/v1, api_key: sk-up }
router_settings:
  max_stream_seconds: 0.5
`,
    );
    try {
      const res = await chat(server, {
        model: 'trickle',
        stream: true,
        messages: [{ role: 'user', content: 'x' }],
      });
      // It ends (the test would time out otherwise), with what had come and the reason.
      const text = await res.text();
      expect(text).toContain('t0 ');
      expect(text).toContain('max_stream_seconds');
    } finally {
      for (const t of timers) clearInterval(t);
      trickling.closeAllConnections();
      await server.close();
      await new Promise((r) => trickling.close(r));
    }
  });

  it('5. a route name outside Latin-1 (math数学) is answered, its header percent-encoded, plain and streamed', async () => {
    await writeFile(
      path.join(dir.dir, 'cjk-router.json'),
      JSON.stringify({
        routes: [
          { name: 'math数学', utterances: ['solve this equation', 'what is the integral of x squared'] },
          { name: 'chat', utterances: ['hello there', 'how are you today'] },
        ],
      }),
    );
    const server = await serveYaml(
      'cjk.yaml',
      `
model_list:
  - model_name: shared
    litellm_params: { model: openai/gpt-4o, api_base: ${upstream.url}, api_key: sk-up }
  - model_name: math数学
    litellm_params: { model: openai/gpt-4o, api_base: ${upstream.url}, api_key: sk-up }
  - model_name: chat
    litellm_params: { model: openai/gpt-4o-mini, api_base: ${upstream.url}, api_key: sk-up }
  - model_name: auto_router1
    litellm_params: { model: auto_router/auto_router1, auto_router_config_path: cjk-router.json, auto_router_default_model: shared }
`,
    );
    try {
      for (const stream of [false, true]) {
        const res = await fetch(`${server.url}/v1/chat/completions`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({
            model: 'auto_router1',
            stream,
            messages: [{ role: 'user', content: 'solve this equation for x' }],
          }),
        });
        expect(res.status, String(stream)).toBe(200);
        const header = res.headers.get('x-semroute-route')!;
        expect(header).toBe('math%E6%95%B0%E5%AD%A6');
        expect(decodeURIComponent(header)).toBe('math数学');
        expect(decodeURIComponent(res.headers.get('x-semroute-model')!)).toBe('math数学');
        const text = await res.text();
        expect(text).toContain(stream ? 'data: [DONE]' : 'echo: solve this equation for x');
      }
    } finally {
      await server.close();
    }
  });

  it('16. model names that are Object.prototype members are unknown models, never a 500', async () => {
    const server = await serveYaml(
      'proto.yaml',
      `
model_list:
  - model_name: shared
    litellm_params: { model: openai/gpt-4o, api_base: ${upstream.url}, api_key: sk-up }
router_settings:
  model_group_alias: { best: shared }
  fallbacks: [{ shared: [shared] }]
general_settings:
  master_key: ${MASTER}
  keys: [{ key: ${TENANT}, models: [shared] }]
`,
    );
    try {
      for (const model of [
        'toString',
        'constructor',
        '__proto__',
        'hasOwnProperty',
        'valueOf',
        '__defineGetter__',
      ]) {
        for (const key of [MASTER, TENANT]) {
          const res = await chat(server, ask({ model }), key);
          expect([403, 404], `${model} ${key === MASTER ? 'master' : 'tenant'}`).toContain(res.status);
        }
        const one = await fetch(`${server.url}/v1/models/${model}`, {
          headers: { authorization: `Bearer ${MASTER}` },
        });
        expect(one.status, model).toBe(404);
      }
    } finally {
      await server.close();
    }
  });
});
