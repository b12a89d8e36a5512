/**
 * The one pipeline, per endpoint: what used to drift between chat, completions and embeddings is
 * one behaviour now, and every endpoint reports the same lifecycle events with its context.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorCode, type SemrouteError, UpstreamError } from '../../../src/errors.js';
import { createContext } from '../../../src/gateway/context.js';
import type { EventListeners } from '../../../src/gateway/events.js';
import { Gateway } from '../../../src/gateway/gateway.js';
import type { GatewayIO } from '../../../src/gateway/types.js';
import { type FakeAnthropic, startFakeAnthropic } from '../../../src/fake-upstream/fake-anthropic.js';
import { type FakeUpstream, startFakeUpstream } from '../../../src/fake-upstream/fake-upstream.js';

let up: FakeUpstream;
let backup: FakeUpstream;
let claude: FakeAnthropic;

beforeAll(async () => {
  [up, backup, claude] = await Promise.all([startFakeUpstream(), startFakeUpstream(), startFakeAnthropic()]);
});
afterAll(async () => {
  await Promise.all([up.close(), backup.close(), claude.close()]);
});

const entry = (name: string, upstream: { url: string }, extra: Record<string, unknown> = {}, info = {}) => ({
  model_name: name,
  litellm_params: { model: `openai/${name}-up`, api_base: upstream.url, api_key: 'sk-up', ...extra },
  model_info: { id: `${name}-1`, ...info },
});

/** Every event of every request, in order, as `endpoint:event`. */
function recorder() {
  const seen: string[] = [];
  const ids = new Set<string>();
  const note = (name: string) => (ctx: { endpoint: string; id: string }) => {
    seen.push(`${ctx.endpoint}:${name}`);
    ids.add(ctx.id);
  };
  const usage: unknown[] = [];
  const events: EventListeners = {
    received: note('received'),
    planned: note('planned'),
    attemptStart: note('attemptStart'),
    attemptEnd: note('attemptEnd'),
    succeeded: (ctx, s) => {
      note('succeeded')(ctx);
      usage.push(s.usage);
    },
    failed: note('failed'),
    finished: note('finished'),
  };
  return { seen, ids, usage, events };
}

const gateway = (model_list: unknown[], io: GatewayIO = {}, extra: Record<string, unknown> = {}) =>
  Gateway.create({ model_list, ...extra } as never, { sleep: async () => {}, ...io });

describe('one pipeline for every endpoint', () => {
  it('keeps LiteLLM fields (timeout, tags, metadata, litellm_metadata) away from every upstream', async () => {
    const gw = await gateway([entry('g', up)]);
    const gateOnly = { timeout: 30, tags: ['t'], metadata: { tags: ['m'] }, litellm_metadata: { a: 1 } };
    await gw.chatCompletion({ model: 'g', messages: [{ role: 'user', content: 'hi' }], ...gateOnly });
    await gw.completion({ model: 'g', prompt: 'hi', ...gateOnly });
    await gw.embedding({ model: 'g', input: 'hi', ...gateOnly });
    const sent = up.requests.slice(-3);
    expect(sent.map((r) => r.url)).toEqual(['/v1/chat/completions', '/v1/completions', '/v1/embeddings']);
    for (const r of sent)
      for (const field of Object.keys(gateOnly))
        expect(r.body, `${r.url} ${field}`).not.toHaveProperty(field);
    await gw.close();
  });

  it("honours the body's timeout on every endpoint, as the request's own", async () => {
    const gw = await gateway([entry('g', up)]);
    up.behave({ latencyMs: 1_000 });
    try {
      for (const call of [
        () => gw.chatCompletion({ model: 'g', messages: [{ role: 'user', content: 'x' }], timeout: 0.05 }),
        () => gw.completion({ model: 'g', prompt: 'x', timeout: 0.05 }),
        () => gw.embedding({ model: 'g', input: 'x', timeout: 0.05 }),
      ]) {
        const error = (await call().catch((e: unknown) => e)) as UpstreamError;
        expect(error).toBeInstanceOf(UpstreamError);
        expect(error.kind).toBe('RequestTimeout');
      }
    } finally {
      up.behave({ latencyMs: 0 });
    }
    await gw.close();
  });

  it('checks the context window before calling, on every endpoint', async () => {
    const before = up.attempts;
    const gw = await gateway([entry('small', up, {}, { max_input_tokens: 5 })]);
    const long = 'word '.repeat(100);
    for (const call of [
      () => gw.chatCompletion({ model: 'small', messages: [{ role: 'user', content: long }] }),
      () => gw.completion({ model: 'small', prompt: long }),
      () => gw.embedding({ model: 'small', input: long }),
    ]) {
      const error = (await call().catch((e: unknown) => e)) as UpstreamError;
      expect(error.kind).toBe('ContextWindowExceededError');
    }
    expect(up.attempts).toBe(before);
    await gw.close();
  });

  it("a provider without the endpoint is the request's 400, not a fallback's turn, and no attempt", async () => {
    const gw = await gateway(
      [
        {
          model_name: 'claude',
          litellm_params: { model: 'anthropic/claude-3-5-haiku', api_base: claude.url, api_key: 'sk-ant' },
        },
        entry('backup', backup),
      ],
      {},
      { fallbacks: [{ claude: ['backup'] }] },
    );
    const before = backup.attempts;
    for (const call of [
      () => gw.completion({ model: 'claude', prompt: 'x' }),
      () => gw.embedding({ model: 'claude', input: 'x' }),
    ]) {
      const error = (await call().catch((e: unknown) => e)) as SemrouteError;
      expect(error.code).toBe(ErrorCode.INPUT_INVALID);
      expect(error.message).toMatch(/^claude: anthropic has no (legacy completions endpoint|embeddings API)/);
    }
    expect(backup.attempts).toBe(before);
    await gw.close();
  });

  it('reports the same lifecycle for every endpoint, a stream at its end with the usage it reported', async () => {
    const r = recorder();
    const gw = await gateway([entry('g', up)], { events: r.events });
    await gw.chatCompletion({ model: 'g', messages: [{ role: 'user', content: 'hi' }] });
    await gw.completion({ model: 'g', prompt: 'hi' });
    await gw.embedding({ model: 'g', input: 'hi' });
    const order = ['received', 'planned', 'attemptStart', 'attemptEnd', 'succeeded', 'finished'];
    expect(r.seen).toEqual(['chat', 'completion', 'embedding'].flatMap((e) => order.map((n) => `${e}:${n}`)));
    expect(r.ids.size).toBe(3);
    for (const u of r.usage) expect(u).toMatchObject({ estimated: false, total: expect.any(Number) });
    r.seen.length = 0;
    r.usage.length = 0;
    const streamed = await gw.chatCompletion({
      model: 'g',
      messages: [{ role: 'user', content: 'stream me' }],
      stream: true,
      stream_options: { include_usage: true },
    });
    // Open, not yet read: it has not succeeded.
    expect(r.seen).toEqual(['chat:received', 'chat:planned', 'chat:attemptStart', 'chat:attemptEnd']);
    if (!streamed.stream) throw new Error('expected a stream');
    for await (const _ of streamed.chunks);
    expect(r.seen.slice(-2)).toEqual(['chat:succeeded', 'chat:finished']);
    expect(r.usage[0]).toMatchObject({ estimated: false, completion: 5 });
    await gw.close();
  });

  it("a failed request fails and finishes once, with the caller's context throughout", async () => {
    const r = recorder();
    const gw = await gateway([entry('g', up)], { events: r.events });
    const ctx = createContext({
      endpoint: 'responses',
      id: 'my-trace-1',
      caller: { alias: 'team-a', id: 'k1' },
    });
    const error = await gw
      .chatCompletion({ model: 'nope', messages: [{ role: 'user', content: 'x' }] }, { context: ctx })
      .catch((e: unknown) => e);
    expect((error as SemrouteError).code).toBe(ErrorCode.MODEL_NOT_FOUND);
    expect(r.seen).toEqual(['responses:received', 'responses:failed', 'responses:finished']);
    expect([...r.ids]).toEqual(['my-trace-1']);
    await gw.close();
  });

  it('counts as attempts only the calls that reached an upstream', async () => {
    const gw = await gateway([entry('g', up)]);
    up.script([{ status: 500 }]);
    const out = await gw.completion({ model: 'g', prompt: 'x' });
    expect(out.attempts).toBe(2);
    const again = await gw.embedding({ model: 'g', input: 'x' });
    expect(again.attempts).toBe(1);
    await gw.close();
  });
});
