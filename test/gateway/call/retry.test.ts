/** The retry step on its own: no HTTP, a plain function as the call, real picking and cooldowns over a memory store. */
import { describe, expect, it } from 'vitest';
import { parseGatewayConfig } from '../../../src/config/gateway-schema.js';
import { UpstreamError, type UpstreamErrorKind } from '../../../src/errors.js';
import { Picker } from '../../../src/gateway/call/pick.js';
import { type Attempt, type RetryDeps, withRetries } from '../../../src/gateway/call/retry.js';
import { retriesFor } from '../../../src/gateway/failure-policy.js';
import { Health } from '../../../src/gateway/health.js';
import { ModelTable } from '../../../src/gateway/models.js';
import { MemoryStateStore } from '../../../src/gateway/state/memory.js';
import { createStrategy } from '../../../src/gateway/strategies/index.js';

function harness(settings: Record<string, unknown> = {}) {
  let now = 1_000_000;
  const config = parseGatewayConfig({
    model_list: ['a', 'b'].map((id) => ({
      model_name: 'g',
      litellm_params: { model: `openai/${id}`, api_base: 'http://127.0.0.1:9/v1' },
      model_info: { id },
    })),
    routing_strategy: 'simple-shuffle',
    ...settings,
  });
  const store = new MemoryStateStore(() => now);
  const health = new Health(config, store, () => now);
  const table = new ModelTable(config, [], undefined);
  const sleeps: number[] = [];
  const sleep = async (ms: number) => {
    sleeps.push(ms);
    now += ms;
  };
  const picker = new Picker({
    config,
    table,
    health,
    store,
    strategy: createStrategy(config),
    now: () => now,
    random: () => 0,
    sleep,
  });
  const retried: string[] = [];
  const deps: RetryDeps = {
    pick: (group, options) => picker.pick(group, options),
    failed: (d, error) => health.failed(d, error.kind, error.status, error.message),
    succeeded: async () => {},
    addInFlight: (id, delta) => store.addInFlight(id, delta),
    retries: (group, kind) => retriesFor(config, group, kind),
    delay: (attempt, error) =>
      error.headers['retry-after'] ? Number(error.headers['retry-after']) * 1000 : 100 * attempt,
    sleep,
    now: () => now,
  };
  return { deps, store, sleeps, retried, clock: () => now };
}

/** A request whose retries are written down (by the test that reads them, into its harness). */
let retries: string[] = [];
const request = {
  tokens: 10,
  timeoutOf: () => 1_000,
  onRetry: (d: { id: string }, e: UpstreamError) => retries.push(`${d.id}:${e.kind}`),
};
const fail = (kind: UpstreamErrorKind, status?: number) => new UpstreamError(kind, `failed: ${kind}`, status);

describe('withRetries', () => {
  it('retries a failure on another deployment of the group, backing off, and returns the first success', async () => {
    const { deps, sleeps, retried, store } = harness({ num_retries: 2 });
    retries = retried;
    const calls: string[] = [];
    const result = await withRetries(deps, 'g', request, async ({ deployment, release }: Attempt) => {
      calls.push(deployment.id);
      if (calls.length < 3) throw fail('InternalServerError', 500);
      await release();
      return { result: `answered by ${deployment.id}`, tokens: 10 };
    });
    expect(calls).toHaveLength(3);
    // The second attempt went to the deployment that had not failed yet.
    expect(new Set(calls.slice(0, 2)).size).toBe(2);
    expect(result).toBe(`answered by ${calls[2]}`);
    expect(sleeps).toEqual([100, 200]);
    expect(retried).toEqual(calls.slice(0, 2).map((id) => `${id}:InternalServerError`));
    expect(await store.inFlight(['a', 'b'])).toEqual(
      new Map([
        ['a', 0],
        ['b', 0],
      ]),
    );
  });

  it('gives up after num_retries with the last error, and never retries a client fault', async () => {
    const { deps } = harness({ num_retries: 1 });
    let calls = 0;
    const error = await withRetries(deps, 'g', request, async () => {
      calls++;
      throw fail('Timeout');
    }).catch((e: unknown) => e);
    expect(error).toMatchObject({ kind: 'Timeout' });
    expect(calls).toBe(2);
    calls = 0;
    await expect(
      withRetries(deps, 'g', request, async () => {
        calls++;
        throw fail('BadRequestError', 400);
      }),
    ).rejects.toMatchObject({ kind: 'BadRequestError' });
    expect(calls).toBe(1);
  });

  it('lets a non-upstream error (our own bug or an abort) through at once, charging no deployment', async () => {
    const { deps, store } = harness({ num_retries: 3, allowed_fails: 0 });
    let calls = 0;
    await expect(
      withRetries(deps, 'g', request, async () => {
        calls++;
        throw new RangeError('Maximum call stack size exceeded');
      }),
    ).rejects.toBeInstanceOf(RangeError);
    expect(calls).toBe(1);
    expect(await store.cooldowns(['a', 'b'])).toEqual(new Map());
    expect(await store.inFlight(['a', 'b'])).toEqual(
      new Map([
        ['a', 0],
        ['b', 0],
      ]),
    );
  });

  it('cools a deployment that answered 429 at once, so the retry goes elsewhere and the next pick avoids it', async () => {
    const { deps, store } = harness({ num_retries: 1, allowed_fails: 5, cooldown_time: 60 });
    const seen: string[] = [];
    await withRetries(deps, 'g', request, async ({ deployment }) => {
      seen.push(deployment.id);
      if (seen.length === 1) throw fail('RateLimitError', 429);
      return { result: 'ok', tokens: 10 };
    });
    const cooled = await store.cooldowns(['a', 'b']);
    expect([...cooled.keys()]).toEqual([seen[0]]);
    const next = await withRetries(deps, 'g', request, async ({ deployment }) => ({
      result: deployment.id,
      tokens: 1,
    }));
    expect(next).toBe(seen[1]);
  });

  it('keeps within the request deadline: a Retry-After past it is not waited, the upstream answer stands', async () => {
    const { deps, sleeps, clock } = harness({ num_retries: 3 });
    let calls = 0;
    const timeouts: number[] = [];
    const limited = new UpstreamError('RateLimitError', 'slow down', 429, { 'retry-after': '50' });
    const error = await withRetries(
      deps,
      'g',
      { ...request, deadline: clock() + 10_000 },
      async ({ call }) => {
        calls++;
        timeouts.push(call.timeoutMs);
        throw limited;
      },
    ).catch((e: unknown) => e);
    expect(error).toBe(limited);
    expect(calls).toBe(1);
    expect(sleeps).toEqual([]);
    // A call never outlives the deadline: its timeout is what is left of it.
    expect(timeouts[0]).toBeLessThanOrEqual(1_000);
    const { deps: d2, clock: c2 } = harness({ num_retries: 3 });
    const seen: number[] = [];
    await withRetries(
      d2,
      'g',
      { tokens: 10, timeoutOf: () => 60_000, deadline: c2() + 150 },
      async ({ call }) => {
        seen.push(call.timeoutMs);
        throw fail('InternalServerError', 500);
      },
    ).catch(() => undefined);
    // First call gets the 150 ms left; after the 100 ms backoff only 50 ms remain; then no time for a third.
    expect(seen).toEqual([150, 50]);
  });
});
