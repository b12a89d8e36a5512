import { getEventListeners } from 'node:events';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OpenAIEncoder } from '../../src/embeddings/openai.js';
import { ErrorCode, SemrouteError } from '../../src/errors.js';
import {
  type FakeUpstream,
  pseudoEmbedding,
  startFakeUpstream,
} from '../../src/fake-upstream/fake-upstream.js';

let upstream: FakeUpstream;
beforeAll(async () => {
  upstream = await startFakeUpstream({ dimensions: 32 });
});
afterAll(() => upstream.close());

const load = (extra: Partial<Parameters<typeof OpenAIEncoder.load>[0]> = {}) =>
  OpenAIEncoder.load({
    apiKey: 'sk-test-key',
    baseURL: upstream.url,
    model: 'fake-embed',
    batchSize: 16,
    ...extra,
  });

describe('openai encoder', () => {
  it('asks the server for the width of an unknown model, and batches requests', async () => {
    const before = upstream.requests.length;
    const encoder = await load();
    expect(encoder.dimensions).toBe(32);
    const texts = Array.from({ length: 40 }, (_, i) => `text ${i}`);
    const rows = await encoder.embed(texts);
    // one probe + ceil(40 / 16) = 3 batches
    expect(upstream.requests.length - before).toBe(4);
    const expected = pseudoEmbedding('text 3', 32);
    const n = Math.sqrt(expected.reduce((s, x) => s + x * x, 0));
    rows[3]!.forEach((x, i) => {
      expect(x).toBeCloseTo(expected[i]! / n, 5);
    });
    const last = upstream.requests.at(-1)!;
    expect(last.headers.authorization).toBe('Bearer sk-test-key');
    expect((last.body as { model: string }).model).toBe('fake-embed');
  });

  it('leaves no listener on a caller signal that outlives the calls', async () => {
    const encoder = await load({ dimensions: 32 });
    const caller = new AbortController();
    for (let i = 0; i < 3; i++) await encoder.embed([`kept ${i}`], { signal: caller.signal });
    expect(getEventListeners(caller.signal, 'abort')).toHaveLength(0);
    // Still wired while a call runs: aborting the caller cancels it.
    upstream.behave({ latencyMs: 2000 });
    try {
      const pending = encoder.embed(['slow'], { signal: caller.signal }).catch((e: unknown) => e);
      await expect.poll(() => getEventListeners(caller.signal, 'abort').length).toBe(1);
      caller.abort();
      expect(((await pending) as SemrouteError).code).toBe(ErrorCode.ABORTED);
    } finally {
      upstream.behave({ latencyMs: 0 });
    }
  });

  it('retries 429 and 500, honouring retry-after-ms', async () => {
    const encoder = await load({ dimensions: 32 });
    const attempts = upstream.attempts;
    upstream.script([{ status: 429, headers: { 'retry-after-ms': '20' } }, { status: 500 }]);
    const started = performance.now();
    const rows = await encoder.embed(['retry me']);
    expect(rows).toHaveLength(1);
    expect(upstream.attempts - attempts).toBe(3);
    expect(performance.now() - started).toBeGreaterThanOrEqual(15);
  });

  it('gives up after max retries with ENCODER_REMOTE and the status', async () => {
    const encoder = await load({ dimensions: 32, maxRetries: 1 });
    upstream.script([{ status: 503 }, { status: 503 }]);
    const error = await encoder.embed(['x']).catch((e: unknown) => e);
    expect((error as SemrouteError).code).toBe(ErrorCode.ENCODER_REMOTE);
    expect((error as SemrouteError).details?.status).toBe(503);
  });

  it('does not retry a 400', async () => {
    const encoder = await load({ dimensions: 32 });
    const attempts = upstream.attempts;
    upstream.script([{ status: 400 }]);
    const error = await encoder.embed(['x']).catch((e: unknown) => e);
    expect((error as SemrouteError).code).toBe(ErrorCode.ENCODER_REMOTE);
    expect(upstream.attempts - attempts).toBe(1);
  });

  it('without a key names the config field and the env var, and never calls the network', async () => {
    const saved = process.env.OPENAI_API_KEY;
    delete process.env.OPENAI_API_KEY;
    try {
      const attempts = upstream.attempts;
      const error = await OpenAIEncoder.load({ baseURL: upstream.url }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(SemrouteError);
      expect((error as SemrouteError).code).toBe(ErrorCode.ENCODER_NO_KEY);
      expect((error as SemrouteError).message).toContain('OPENAI_API_KEY');
      expect((error as SemrouteError).path).toBe('encoder_options.api_key');
      expect(upstream.attempts).toBe(attempts);
    } finally {
      if (saved !== undefined) process.env.OPENAI_API_KEY = saved;
    }
  });
});
