/**
 * The twelve findings of the security review (issue 20), each reproduced as the attacker did it
 * and shown to hold now. Timing is not asserted (benchmarks measure speed): each test checks the
 * mechanism that bounds the attack (a 400 before any work, a bounded buffer, a closed socket).
 */
import { createHash } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sessionKey } from '../../src/gateway/call/sticky.js';
import { EventSplitter } from '../../src/gateway/upstream/event-splitter.js';
import { type FakeUpstream, startFakeUpstream } from '../../src/fake-upstream/fake-upstream.js';
import { serve } from '../../src/server/serve.js';
import { tempDir } from '../helpers/encoder.js';

const MASTER = 'sk-findings-master-0123456789';
const VIRTUAL = 'sk-findings-virtual-key-0001';
let upstream: FakeUpstream;
let server: Awaited<ReturnType<typeof serve>>;
let dir: { dir: string; cleanup: () => Promise<void> };
let routerFile: string;

beforeAll(async () => {
  upstream = await startFakeUpstream();
  dir = await tempDir();
  routerFile = path.join(dir.dir, 'router.json');
  await writeFile(
    routerFile,
    JSON.stringify({ routes: [{ name: 'coding', utterances: ['fix this bug', 'write a python function'] }] }),
  );
  const config = path.join(dir.dir, 'config.yaml');
  await writeFile(
    config,
    `
model_list:
  - model_name: coding
    litellm_params: { model: openai/gpt-4o, api_base: ${upstream.url}, api_key: sk-up }
    model_info: { id: coding-1 }
  - model_name: limited
    litellm_params: { model: openai/gpt-4o, api_base: ${upstream.url}, api_key: sk-up }
    model_info: { id: limited-1 }
  - model_name: big
    litellm_params: { model: openai/gpt-4o, api_base: ${upstream.url}, api_key: sk-up }
    model_info: { id: big-1 }
  - model_name: auto_router1
    litellm_params: { model: auto_router/a, auto_router_config_path: router.json, auto_router_default_model: coding }
router_settings:
  num_retries: 2
  allowed_fails: 0
  model_group_alias: { gpt4: coding }
  request_timeout: 5
  max_response_bytes: 100000
general_settings:
  master_key: ${MASTER}
  keys: [{ key: ${VIRTUAL}, models: [gpt4] }]
  request_body_timeout_seconds: 1
  graceful_shutdown_seconds: 1
`,
  );
  server = await serve({ config, port: 0, signals: false, watch: false, logger: false });
}, 60_000);

afterAll(async () => {
  await server?.close();
  await upstream?.close();
  await dir?.cleanup();
});

const post = async (url: string, body: unknown, headers: Record<string, string> = {}) => {
  const res = await fetch(`${server.url}${url}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${MASTER}`, 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return {
    status: res.status,
    headers: res.headers,
    json: (await res.json().catch(() => undefined)) as { error: { message: string; code?: string } },
  };
};
const cooling = async () =>
  ((await (await fetch(`${server.url}/health`)).json()) as { unhealthy_count?: number }).unhealthy_count ?? 0;

describe('security findings (issue 20), each reproduced', () => {
  it('1. an encoded /ui path is authorised as the route it reaches', async () => {
    for (const prefix of ['/%75i', '/u%69']) {
      const res = await fetch(`${server.url}${prefix}/api/state`, {
        headers: { authorization: `Bearer ${VIRTUAL}` },
      });
      expect(res.status).toBe(401);
    }
  });

  it('2. a body nested 5,000 deep is a 400 naming where, never a 500, never charged to a deployment', async () => {
    // Written as text: the test's own JSON.stringify would overflow on it.
    const metadata = `${'{"a":'.repeat(5_000)}{}${'}'.repeat(5_000)}`;
    const deep = await post(
      '/v1/chat/completions',
      `{"model":"coding","messages":[{"role":"user","content":"hi"}],"metadata":${metadata}}`,
    );
    expect(deep.status).toBe(400);
    expect(deep.json.error.message).toMatch(/^metadata\.a\.a.*nested deeper than 64 levels/);
    const content = `${'['.repeat(5_000)}{"type":"text","text":"deep"}${']'.repeat(5_000)}`;
    const deepContent = await post(
      '/v1/chat/completions',
      `{"model":"coding","messages":[{"role":"user","content":${content}}]}`,
    );
    expect(deepContent.status).toBe(400);
    expect(upstream.attempts).toBe(0);
    expect(await cooling()).toBe(0);
  });

  it('3. a session id of any length costs one fixed-size hashed key', () => {
    const long = (c: string) => sessionKey({ session_id: c.repeat(20_000) }, undefined, 'k');
    expect(long('a')!.length).toBe(long('b')!.length);
    expect(long('a')!.length).toBeLessThan(64);
    expect(long('a')).not.toBe(long('b'));
  });

  it('4. template expansions are refused before they are built, over the router budget', async () => {
    const slots = { big: Array.from({ length: 200 }, (_, i) => `${i}${'v'.repeat(5_000)}`) };
    const expand = await post('/ui/api/expand', { template: '[big] [big]', slots, limit: 100_000 });
    expect(expand.json.error.code).toBe('SEMROUTE_TEMPLATE_EXPLOSION');
    expect(expand.json.error.message).toContain('characters');
    const save = await fetch(`${server.url}/ui/api/routers/auto_router1`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${MASTER}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        config: {
          template_limit: 1_000_000,
          slots: { n: Array.from({ length: 400 }, (_, i) => `n${i}`) },
          routes: [{ name: 'coding', utterances: ['[n] [n]'] }],
        },
      }),
    });
    expect(save.status).toBe(400);
    expect(JSON.stringify(await save.json())).toContain('max_variants');
  });

  it('5. a client that does not read a stream holds the upstream back (bounded buffering)', async () => {
    upstream.script([{ streamBytes: 200 * 1024 * 1024 }]);
    const before = upstream.bytesStreamed;
    const socket = net.connect(Number(new URL(server.url).port), '127.0.0.1');
    // Only a small receive buffer on the client side, and nothing read from it.
    socket.pause();
    const body = JSON.stringify({
      model: 'coding',
      stream: true,
      messages: [{ role: 'user', content: 'flood me' }],
    });
    socket.write(
      `POST /v1/chat/completions HTTP/1.1\r\nhost: x\r\nauthorization: Bearer ${MASTER}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
    );
    await new Promise((r) => setTimeout(r, 2_000));
    const taken = upstream.bytesStreamed - before;
    socket.destroy();
    // Socket buffers on three hops, not the 200 MB the upstream would send.
    expect(taken).toBeGreaterThan(0);
    expect(taken).toBeLessThan(32 * 1024 * 1024);
  });

  it('6. a slow-body client is cut off after request_body_timeout_seconds', async () => {
    const socket = net.connect(Number(new URL(server.url).port), '127.0.0.1');
    socket.write(
      `POST /v1/chat/completions HTTP/1.1\r\nhost: x\r\nauthorization: Bearer ${MASTER}\r\ncontent-type: application/json\r\ncontent-length: 1000\r\n\r\n{`,
    );
    const answer = await new Promise<string>((resolve) => {
      let text = '';
      socket.on('data', (d) => (text += d.toString()));
      socket.on('close', () => resolve(text));
      socket.on('error', () => resolve(text));
      // One byte every 300 ms: the body would take 5 minutes.
      const drip = setInterval(() => (socket.destroyed ? clearInterval(drip) : socket.write(' ')), 300);
      socket.on('close', () => clearInterval(drip));
    });
    expect(answer).toMatch(/^HTTP\/1\.1 408/);
  });

  it('7. a Retry-After past the request budget is not waited: the upstream answer comes back', async () => {
    const before = upstream.attempts;
    upstream.script([{ status: 429, headers: { 'retry-after': '50' } }]);
    const res = await post('/v1/chat/completions', {
      model: 'limited',
      messages: [{ role: 'user', content: 'x' }],
    });
    expect(res.status).toBe(429);
    expect(upstream.attempts - before).toBe(1);
  });

  it('8. an upstream answer over max_response_bytes is a 502, a stream event without end is bounded', async () => {
    upstream.script([{ answerBytes: 200_000 }]);
    const big = await post('/v1/chat/completions', {
      model: 'big',
      messages: [{ role: 'user', content: 'x' }],
    });
    expect(big.status).toBe(502);
    expect(big.json.error.message).toContain('max_response_bytes');
    const splitter = new EventSplitter({ group: 'g', id: 'd' } as never, 1000);
    expect(() => splitter.push(Buffer.from('data: '.padEnd(2000, 'z')))).toThrow(
      /longer than 1000 characters/,
    );
    await new Promise((r) => setTimeout(r, 50));
  });

  it('9. route-page sign-in: random server-side sessions ended by logout, Secure behind TLS, same-origin changes', async () => {
    const login = (key: string, headers: Record<string, string> = {}) =>
      fetch(`${server.url}/ui/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body: JSON.stringify({ key }),
      });
    const first = (await login(MASTER)).headers.get('set-cookie')!;
    const second = (await login(MASTER, { 'x-forwarded-proto': 'https' })).headers.get('set-cookie')!;
    expect(first).not.toBe(second);
    expect(first).not.toContain('Secure');
    expect(second).toContain('; Secure');
    expect(first).not.toContain(createHash('sha256').update(MASTER).digest('hex').slice(0, 16));
    const cookie = first.split(';')[0]!;
    const state = () => fetch(`${server.url}/ui/api/state`, { headers: { cookie } });
    expect((await state()).status).toBe(200);
    await fetch(`${server.url}/ui/logout`, { method: 'POST', headers: { cookie }, redirect: 'manual' });
    expect((await state()).status).toBe(401);
    const cross = await fetch(`${server.url}/ui/api/lint`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${MASTER}`,
        origin: 'http://evil.example',
        'content-type': 'application/json',
      },
      body: JSON.stringify({ model: 'auto_router1' }),
    });
    expect(cross.status).toBe(403);
  });

  it('10. one key cannot move another key’s sticky session', () => {
    const body = { session_id: 'shared-id' };
    expect(sessionKey(body, undefined, 'key-a')).not.toBe(sessionKey(body, undefined, 'key-b'));
  });

  it('11. a key allowed an alias may use it; the auth scheme is case-insensitive', async () => {
    const client = new OpenAI({ apiKey: VIRTUAL, baseURL: `${server.url}/v1`, maxRetries: 0 });
    const answer = await client.chat.completions.create({
      model: 'gpt4',
      messages: [{ role: 'user', content: 'hi' }],
    });
    expect(answer.choices[0]!.message.content).toBe('echo: hi');
    const lower = await post(
      '/v1/chat/completions',
      { model: 'coding', messages: [{ role: 'user', content: 'x' }] },
      {
        authorization: `bearer   ${MASTER}`,
      },
    );
    expect(lower.status).toBe(200);
  });

  it('12. a save over someone else’s save is refused (ETag / If-Match, 409)', async () => {
    const state = await (
      await fetch(`${server.url}/ui/api/state`, { headers: { authorization: `Bearer ${MASTER}` } })
    ).json();
    const router = (
      state as { routers: Array<{ model: string; version: string; config: unknown }> }
    ).routers.find((r) => r.model === 'auto_router1')!;
    const save = (version: string) =>
      fetch(`${server.url}/ui/api/routers/auto_router1`, {
        method: 'PUT',
        headers: {
          authorization: `Bearer ${MASTER}`,
          'content-type': 'application/json',
          'if-match': version,
        },
        body: JSON.stringify({ config: router.config }),
      });
    const mine = await save(router.version);
    expect(mine.status).toBe(200);
    const theirs = await save(router.version);
    expect(theirs.status).toBe(409);
    expect(JSON.stringify(await theirs.json())).toContain('changed since this page loaded it');
  });

  // Last of the shared server's tests: from here on this address may not compare the master key.
  it('9. route-page sign-in is throttled: ten wrong keys a minute, then 429', async () => {
    const statuses: number[] = [];
    const login = (key: string) =>
      fetch(`${server.url}/ui/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ key }),
      });
    for (let i = 0; i < 12; i++) statuses.push((await login('wrong-key')).status);
    expect(statuses.slice(0, 10).every((s) => s === 401)).toBe(true);
    expect(statuses.at(-1)).toBe(429);
  });

  it('SIGTERM’s drain ends after graceful_shutdown_seconds even with a request still in flight', async () => {
    const own = await startFakeUpstream();
    const { dir: d2, cleanup } = await tempDir();
    const config = path.join(d2, 'config.yaml');
    await writeFile(
      config,
      `model_list: [{ model_name: slow, litellm_params: { model: openai/x, api_base: ${own.url}, api_key: k } }]\ngeneral_settings: { graceful_shutdown_seconds: 1 }\n`,
    );
    const second = await serve({ config, port: 0, signals: false, watch: false, logger: false });
    own.script([{ delayMs: 60_000 }]);
    const pending = fetch(`${second.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'slow', messages: [{ role: 'user', content: 'x' }] }),
    }).catch((e: unknown) => e);
    // In flight once the upstream has it: close() must not wait the upstream's minute out.
    await expect.poll(() => own.attempts, { timeout: 45_000 }).toBeGreaterThan(0);
    const closed = await Promise.race([
      second.close().then(() => 'closed'),
      new Promise((r) => setTimeout(() => r('still waiting'), 20_000)),
    ]);
    expect(closed).toBe('closed');
    await pending;
    await own.close();
    await cleanup();
  }, 30_000);
});
