/** The one table of what each failure kind does: retries, cooldowns, fallbacks. */
import { describe, expect, it } from 'vitest';
import { parseGatewayConfig } from '../../src/config/gateway-schema.js';
import { ErrorCode, SemrouteError, type UpstreamErrorKind } from '../../src/errors.js';
import { toDeployment } from '../../src/gateway/deployment.js';
import { coolsAtOnce, FAILURE_POLICY, fallsBack, retriesFor } from '../../src/gateway/failure-policy.js';
import { Health } from '../../src/gateway/health.js';
import { MemoryStateStore } from '../../src/gateway/state/memory.js';

const KINDS = Object.keys(FAILURE_POLICY) as UpstreamErrorKind[];
const config = (extra: Record<string, unknown> = {}) =>
  parseGatewayConfig({ model_list: [{ model_name: 'g', litellm_params: { model: 'openai/m' } }], ...extra });

/** Whether one failure of this kind (and status) cools a deployment when allowed_fails allows `allowed`. */
async function cools(kind: UpstreamErrorKind, status: number | undefined, allowed: number): Promise<boolean> {
  const c = config({ allowed_fails: allowed, cooldown_time: 30 });
  const store = new MemoryStateStore(() => 0);
  const d = toDeployment(c.model_list[0]!);
  await new Health(c, store, () => 0).failed(d, kind, status);
  return (await store.cooldowns([d.id])).size > 0;
}

describe('failure policy', () => {
  it("never cools a deployment for the caller's own faults, however strict allowed_fails is", async () => {
    for (const kind of [
      'BadRequestError',
      'ContextWindowExceededError',
      'ContentPolicyViolationError',
      'RequestTimeout',
    ] as const) {
      expect(await cools(kind, 400, 0), kind).toBe(false);
      expect(FAILURE_POLICY[kind].counted).toBe(false);
    }
  });

  it('cools at once on 429, 401, 404 and an upstream 408; the rest only past allowed_fails', async () => {
    for (const kind of KINDS) {
      const policy = FAILURE_POLICY[kind];
      if (!policy.counted) continue;
      const atOnce = ['RateLimitError', 'AuthenticationError', 'NotFoundError'].includes(kind);
      expect(await cools(kind, undefined, 3), kind).toBe(atOnce);
      expect(await cools(kind, undefined, 0), `${kind} past allowed_fails`).toBe(true);
    }
    expect(coolsAtOnce('Timeout', 408)).toBe(true);
    expect(coolsAtOnce('Timeout', undefined)).toBe(false);
    expect(await cools('Timeout', 408, 3)).toBe(true);
  });

  it('retries with num_retries, retry_policy and model_group_retry_policy (LiteLLM spellings), never client faults', () => {
    const c = config({
      num_retries: 2,
      retry_policy: { TimeoutErrorRetries: 4, RateLimitErrorRetries: 1, BadRequestErrorRetries: 9 },
      model_group_retry_policy: { g: { RateLimitErrorRetries: 7 } },
    });
    expect(retriesFor(c, 'other', 'Timeout')).toBe(4);
    expect(retriesFor(c, 'other', 'RateLimitError')).toBe(1);
    expect(retriesFor(c, 'g', 'RateLimitError')).toBe(7);
    expect(retriesFor(c, 'g', 'InternalServerError')).toBe(2);
    for (const kind of ['BadRequestError', 'AuthenticationError', 'PermissionDeniedError'] as const)
      expect(retriesFor(c, 'g', kind)).toBe(0);
  });

  it("falls back on everything but a bad request and the request's own timeout, with the specific lists for context window and content policy", () => {
    for (const kind of KINDS)
      expect(FAILURE_POLICY[kind].fallsBack, kind).toBe(
        kind !== 'BadRequestError' && kind !== 'RequestTimeout',
      );
    expect(retriesFor(config({ num_retries: 5 }), 'g', 'RequestTimeout')).toBe(0);
    expect(FAILURE_POLICY.ContextWindowExceededError.fallbackList).toBe('context_window_fallbacks');
    expect(FAILURE_POLICY.ContentPolicyViolationError.fallbackList).toBe('content_policy_fallbacks');
  });

  it("falls back on semroute's own errors only when another group could serve: cooling, or no deployment with the tags", () => {
    const ours = (code: (typeof ErrorCode)[keyof typeof ErrorCode]) =>
      fallsBack(new SemrouteError(code, 'x'));
    expect(ours(ErrorCode.NO_DEPLOYMENT_AVAILABLE)).toBe(true);
    expect(ours(ErrorCode.TAGS_NOT_MATCHED)).toBe(true);
    for (const code of [
      ErrorCode.INPUT_INVALID,
      ErrorCode.ABORTED,
      ErrorCode.MODEL_NOT_ALLOWED,
      ErrorCode.POOL_EMPTY,
    ])
      expect(ours(code), code).toBe(false);
  });
});
