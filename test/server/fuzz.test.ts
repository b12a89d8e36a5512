/**
 * Property-based fuzzing (fast-check) of every endpoint's request body and of `route()`'s input:
 * odd Unicode, megabyte strings, deeply nested content arrays, wrong types. Never a 5xx from our
 * code, never an unhandled rejection, every error in OpenAI's shape; route() resolves or throws
 * a SemrouteError, nothing else.
 */
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isSemrouteError } from '../../src/errors.js';
import { SemanticRouter } from '../../src/semantic/semantic-router.js';
import { serve } from '../../src/server/serve.js';
import { type FakeUpstream, startFakeUpstream } from '../../src/fake-upstream/fake-upstream.js';
import { tempDir, useLite } from '../helpers/encoder.js';

const MASTER = 'sk-fuzz-master-key-987654';
const VIRTUAL = 'sk-fuzz-virtual-key-123456';
const RUNS = Number(process.env.SEMROUTE_FUZZ_RUNS ?? 60);

let upstream: FakeUpstream;
let server: Awaited<ReturnType<typeof serve>>;
let dir: { dir: string; cleanup: () => Promise<void> };
const unhandled: unknown[] = [];
const onUnhandled = (reason: unknown) => void unhandled.push(reason);
const figures: Record<string, number> = { requests: 0, route_inputs: 0 };

beforeAll(async () => {
  process.on('unhandledRejection', onUnhandled);
  upstream = await startFakeUpstream();
  dir = await tempDir();
  await writeFile(
    path.join(dir.dir, 'router.json'),
    JSON.stringify({
      routes: [
        { name: 'coding', utterances: ['how to code a program in [language]', 'fix this bug'] },
        { name: 'chitchat', utterances: ['hello, how are you', 'tell me a joke'] },
      ],
    }),
  );
  const config = path.join(dir.dir, 'config.yaml');
  await writeFile(
    config,
    `
model_list:
  - model_name: general
    litellm_params: { model: openai/gpt-4o-mini, api_base: ${upstream.url}, api_key: sk-up }
  - model_name: coding
    litellm_params: { model: openai/gpt-4o, api_base: ${upstream.url}, api_key: sk-up }
  - model_name: chitchat
    litellm_params: { model: openai/gpt-4o-mini, api_base: ${upstream.url}, api_key: sk-up }
  - model_name: embed
    litellm_params: { model: openai/text-embedding-3-small, api_base: ${upstream.url}, api_key: sk-up }
    model_info: { mode: embedding }
  - model_name: auto_router1
    litellm_params: { model: auto_router/a1, auto_router_config_path: router.json, auto_router_default_model: general }
router_settings:
  num_retries: 0
general_settings:
  master_key: ${MASTER}
  keys: [{ key: ${VIRTUAL}, models: [general] }]
  max_request_size_bytes: 3000000
`,
  );
  server = await serve({
    config,
    port: 0,
    signals: false,
    watch: false,
    logger: { level: 'silent' } as never,
  });
}, 60_000);

afterAll(async () => {
  process.off('unhandledRejection', onUnhandled);
  console.log(`fuzz figures: ${JSON.stringify(figures)}`);
  await server?.close();
  await upstream?.close();
  await dir?.cleanup();
});

/** Strings people and programs actually send: every Unicode plane, controls, lone surrogates, huge. */
const oddString = fc.oneof(
  fc.string({ unit: 'grapheme', maxLength: 200 }),
  fc.string({ unit: 'binary', maxLength: 200 }),
  fc.constantFrom(
    '',
    ' ',
    '\u0000',
    '\ud800',
    '\udfff',
    '\u202e\u2066',
    '👩‍👩‍👧‍👦'.repeat(50),
    'ä̸̡̛̗̼̝̦͎̀'.repeat(40),
  ),
  fc.integer({ min: 100_000, max: 1_200_000 }).map((n) => 'x'.repeat(n)),
);

/** Message content: strings, part arrays, nested arrays, wrong types. */
const content: fc.Arbitrary<unknown> = fc.oneof(
  oddString,
  fc.array(fc.oneof(fc.record({ type: fc.constant('text'), text: oddString }), fc.anything()), {
    maxLength: 5,
  }),
  fc.integer({ min: 1, max: 5_000 }).map((depth) => {
    let nested: unknown = [{ type: 'text', text: 'deep' }];
    for (let i = 0; i < depth; i++) nested = [nested];
    return nested;
  }),
  fc.anything(),
);

const message = fc.record(
  {
    role: fc.oneof(fc.constantFrom('user', 'system', 'assistant', 'tool'), oddString, fc.anything()),
    content,
  },
  { requiredKeys: [] },
);

const chatBody = fc.record(
  {
    model: fc.oneof(fc.constantFrom('general', 'auto_router1', 'auto', 'nope', ''), oddString, fc.anything()),
    messages: fc.oneof(fc.array(message, { maxLength: 4 }), fc.anything()),
    stream: fc.oneof(fc.boolean(), fc.anything()),
    prompt: oddString,
    input: fc.oneof(
      oddString,
      fc.array(oddString, { maxLength: 3 }),
      fc.array(
        fc.oneof(
          message,
          fc.record(
            {
              type: fc.oneof(
                fc.constantFrom('function_call', 'function_call_output', 'item_reference', 'message'),
                oddString,
              ),
              id: oddString,
              call_id: fc.anything(),
              output: fc.anything(),
            },
            { requiredKeys: [] },
          ),
        ),
        { maxLength: 4 },
      ),
      fc.anything(),
    ),
    instructions: fc.anything(),
    system: fc.oneof(oddString, fc.anything()),
    tools: fc.anything(),
    tool_choice: fc.anything(),
    text: fc.anything(),
    previous_response_id: fc.oneof(oddString, fc.anything()),
    max_output_tokens: fc.anything(),
    max_tokens: fc.anything(),
    timeout: fc.anything(),
    plugins: fc.anything(),
    config: fc.anything(),
    template: oddString,
    slots: fc.anything(),
    key: fc.anything(),
  },
  { requiredKeys: [] },
);

const anyBody = fc.oneof(chatBody, fc.jsonValue({ maxDepth: 6 }), fc.anything());

/** Anthropic's error shape, which /v1/messages answers with. */
function isAnthropicError(body: unknown): boolean {
  const b = body as { type?: unknown; error?: { message?: unknown; type?: unknown } } | null;
  return b?.type === 'error' && typeof b.error?.message === 'string' && typeof b.error.type === 'string';
}

function isOpenAIError(body: unknown): boolean {
  const e = (body as { error?: { message?: unknown; type?: unknown } } | null)?.error;
  return typeof e?.message === 'string' && typeof e.type === 'string';
}

async function send(method: string, url: string, body: unknown): Promise<{ status: number; json: unknown }> {
  figures.requests!++;
  let payload: string;
  try {
    payload = JSON.stringify(body) ?? 'null';
  } catch {
    payload = '{"unserialisable": true}';
  }
  const started = performance.now();
  const res = await fetch(`${server.url}${url}`, {
    signal: AbortSignal.timeout(30_000),
    method,
    headers: { authorization: `Bearer ${MASTER}`, 'content-type': 'application/json' },
    ...(method === 'GET' ? {} : { body: payload }),
  });
  const text = await res.text();
  const ms = performance.now() - started;
  if (ms > 2000)
    console.log(
      `slow ${method} ${url} ${Math.round(ms)} ms: ${payload.slice(0, 300)} (${payload.length} bytes)`,
    );
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = text;
  }
  return { status: res.status, json };
}

describe('fuzzing every endpoint', () => {
  it('answers any body to any POST/PUT route without a 5xx, with OpenAI-shaped errors', async () => {
    const targets = server.routes
      .filter((r) => r.method === 'POST' || r.method === 'PUT')
      .map((r) => ({ ...r, url: r.url.replace(':model', 'auto_router1') }))
      // Logging out only clears a cookie; saving a random valid router.json is possible but harmless here.
      .filter((r) => r.url !== '/ui/logout');
    expect(targets.length).toBeGreaterThanOrEqual(8);
    for (const { method, url } of targets) {
      const began = performance.now();
      await fc.assert(
        fc.asyncProperty(anyBody, async (body) => {
          const { status, json } = await send(method, url, body);
          expect(status, `${method} ${url} → ${status}: ${JSON.stringify(json).slice(0, 300)}`).toBeLessThan(
            500,
          );
          if (status >= 400 && url.startsWith('/v1/messages'))
            expect(isAnthropicError(json), JSON.stringify(json).slice(0, 200)).toBe(true);
          else if (status >= 400 && !url.startsWith('/ui/api/'))
            expect(isOpenAIError(json), JSON.stringify(json).slice(0, 200)).toBe(true);
          if (status >= 400 && url.startsWith('/ui/api/'))
            expect(isOpenAIError(json) || Array.isArray((json as { errors?: unknown }).errors)).toBe(true);
        }),
        // A failure is reported as found: shrinking it costs thousands of requests.
        { numRuns: RUNS, endOnFailure: true },
      );
      figures[`${method} ${url} ms`] = Math.round(performance.now() - began);
    }
  }, 300_000);

  it('authorises any percent-encoding of any route as the route itself: a virtual key never reaches the route page', async () => {
    const routes = server.routes.filter((r) => !r.url.includes('*'));
    const encoded = fc
      .tuple(
        fc.constantFrom(...routes),
        fc.array(fc.boolean(), { minLength: 40, maxLength: 40 }),
        fc.boolean(),
      )
      .map(([route, picks, upper]) => {
        const url = route.url.replace(':model', 'auto_router1').replace(':file', 'main.js');
        // Percent-encode a random choice of the path's characters (not its slashes).
        const spelled = [...url]
          .map((c, i) => {
            if (c === '/' || !picks[i % picks.length]) return c;
            const hex = c.charCodeAt(0).toString(16).padStart(2, '0');
            return `%${upper ? hex.toUpperCase() : hex}`;
          })
          .join('');
        return { method: route.method, url: route.url, spelled };
      });
    await fc.assert(
      fc.asyncProperty(encoded, async ({ method, url, spelled }) => {
        figures.requests!++;
        const res = await fetch(`${server.url}${spelled}`, {
          method,
          headers: { authorization: `Bearer ${VIRTUAL}`, 'content-type': 'application/json' },
          ...(method === 'GET' ? {} : { body: '{}' }),
          redirect: 'manual',
        });
        await res.arrayBuffer();
        expect(res.status, `${method} ${spelled}`).toBeLessThan(500);
        if ((url === '/ui' || url.startsWith('/ui/')) && url !== '/ui/login')
          expect([401, 403, 404], `${method} ${spelled} → ${res.status}`).toContain(res.status);
      }),
      { numRuns: RUNS * 3, endOnFailure: true },
    );
  });

  it('answers malformed JSON, wrong content types and oversized bodies with 4xx', async () => {
    const cases: Array<[string, string, Record<string, string>]> = [
      ['{"model": "general", "messages": [', 'application/json', {}],
      ['not json at all', 'application/json', {}],
      ['model=general', 'text/plain', {}],
      ['\u0000\u0001\u0002', 'application/octet-stream', {}],
      [
        `{"model":"general","messages":[{"role":"user","content":"${'y'.repeat(3_100_000)}"}]}`,
        'application/json',
        {},
      ],
    ];
    for (const [body, type] of cases) {
      figures.requests!++;
      const res = await fetch(`${server.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${MASTER}`, 'content-type': type },
        body,
      });
      expect(res.status, `${type}: ${body.slice(0, 40)}`).toBeGreaterThanOrEqual(400);
      expect(res.status).toBeLessThan(500);
      expect(isOpenAIError(await res.json())).toBe(true);
    }
  });

  it('left no unhandled rejection behind', async () => {
    // Node reports an unhandled rejection once the microtasks of its turn have run: one more turn.
    await new Promise((r) => setImmediate(r));
    expect(unhandled).toEqual([]);
  });
});

describe('fuzzing route()', () => {
  it('resolves or throws a SemrouteError for any input, never anything else', async () => {
    const router = await SemanticRouter.fromConfig(
      {
        routes: [
          { name: 'coding', utterances: ['fix this bug'] },
          { name: 'chat', utterances: ['hello there'] },
        ],
      },
      { encoder: await useLite(), cacheDir: false },
    );
    const input = fc.oneof(oddString, fc.array(message, { maxLength: 4 }), fc.anything());
    await fc.assert(
      fc.asyncProperty(
        input,
        fc.record({ includeHistory: fc.boolean(), candidates: fc.anything() }, { requiredKeys: [] }),
        async (value, options) => {
          figures.route_inputs!++;
          try {
            const result = await router.route(value as never, options as never);
            expect(result.name === null || typeof result.name === 'string').toBe(true);
            expect(Number.isFinite(result.score)).toBe(true);
          } catch (error) {
            expect(isSemrouteError(error), String(error)).toBe(true);
          }
        },
      ),
      { numRuns: RUNS * 5 },
    );
    await router.close();
  }, 300_000);
});

describe('findings the fuzzer made, kept as regressions', () => {
  it('POST /ui/login with a JSON array is a 400, not a 500', async () => {
    const { status, json } = await send('POST', '/ui/login', []);
    expect(status).toBe(400);
    expect(isOpenAIError(json)).toBe(true);
  });

  it('a timeout too small to be met is a 400 naming the field, not a 504', async () => {
    const { status, json } = await send('POST', '/v1/chat/completions', {
      model: 'general',
      messages: [{ role: 'user', content: 'hi' }],
      timeout: 3.9e-168,
    });
    expect(status).toBe(400);
    expect((json as { error: { param: string } }).error.param).toBe('timeout');
  });

  it('route() with an option of the wrong type is INPUT_INVALID, not a TypeError', async () => {
    const router = await SemanticRouter.fromConfig(
      { routes: [{ name: 'a', utterances: ['hello there'] }] },
      { encoder: await useLite(), cacheDir: false },
    );
    await expect(router.route('hi', { candidates: { toString: {} } } as never)).rejects.toMatchObject({
      code: 'SEMROUTE_INPUT_INVALID',
      path: 'candidates',
    });
    await router.close();
  });
});
