/**
 * One call with retries inside a group: pick a deployment (another one after a failure when the
 * group has one), track it in flight, record success (latency, token correction) or failure
 * (cooldowns), and back off before the next attempt as the failure policy and `Retry-After`
 * allow. `run` is any call: HTTP in the gateway, a plain function in tests.
 */
import { UpstreamError, type UpstreamErrorKind } from '../../errors.js';
import type { Deployment } from '../deployment.js';
import type { CallOptions } from '../upstream/client.js';
import type { ProviderPreferences } from '../plan/provider-preferences.js';
import type { PickOptions } from './pick.js';

export interface RetryDeps {
  pick(group: string, options: PickOptions): Promise<Deployment>;
  /** Records a failure against the deployment (cooldowns). */
  failed(deployment: Deployment, error: UpstreamError): Promise<unknown>;
  /** Records a success: latency, and the token count corrected from the estimate. */
  succeeded(deployment: Deployment, ms: number, tokenCorrection: number): Promise<void>;
  addInFlight(id: string, delta: number): Promise<unknown>;
  /** Retries allowed for a failure of this kind in this group. */
  retries(group: string, kind: UpstreamErrorKind): number;
  /** Wait before retry number `attempt` (1 = first retry) after `error`. */
  delay(attempt: number, error: UpstreamError): number;
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
  /** The clock the request's deadline is on. */
  now(): number;
}

export interface GroupRequest {
  tokens: number;
  prefer?: string | undefined;
  /** Tag routing: the request's tags. */
  tags?: readonly string[] | undefined;
  /** OpenRouter's provider preferences: which deployments, in which order. */
  provider?: ProviderPreferences | undefined;
  signal?: AbortSignal | undefined;
  /** The deployment's own timeout for one call, ms (its `timeout`, else the gateway's). */
  timeoutOf(deployment: Deployment): number;
  /** The request's own timeout for one call, ms (its `timeout` field), when it set one. */
  requestTimeoutMs?: number | undefined;
  /**
   * When the whole request must be answered (epoch ms on `now()`): no call outlives it, and a
   * retry that would wait past it is not made (the failure is the answer, or a fallback's turn).
   */
  deadline?: number | undefined;
  /** Largest answer read from an upstream, bytes. */
  maxResponseBytes?: number | undefined;
  /** Longest a stream may run once its first chunk is in, ms. */
  maxStreamMs?: number | undefined;
  /** An upstream call is about to be made. */
  onAttemptStart?: ((deployment: Deployment) => void) | undefined;
  /**
   * An upstream call ended: answered (a stream: its first chunk came), or failed with `error`.
   * Only calls that reached the network; a request refused locally makes none.
   */
  onAttemptEnd?: ((deployment: Deployment, ms: number, error: UpstreamError | undefined) => void) | undefined;
  /** The failure will be retried after `delayMs`. */
  onRetry?: ((deployment: Deployment, error: UpstreamError, delayMs: number) => void) | undefined;
}

export interface Attempt {
  deployment: Deployment;
  call: CallOptions;
  /** Ends the in-flight count; once. Streams call it when the reader finishes. */
  release(): Promise<void>;
}

export async function withRetries<T>(
  deps: RetryDeps,
  group: string,
  request: GroupRequest,
  run: (attempt: Attempt) => Promise<{ result: T; tokens: number }>,
): Promise<T> {
  const failed = new Set<string>();
  let lastError: UpstreamError | undefined;
  for (let attempt = 0; ; attempt++) {
    let deployment: Deployment;
    try {
      deployment = await deps.pick(group, {
        tokens: request.tokens,
        prefer: attempt === 0 ? request.prefer : undefined,
        tags: request.tags,
        provider: request.provider,
        exclude: failed,
        signal: request.signal,
      });
    } catch (error) {
      // The group cooled because of what this request just met: that failure is the answer, not
      // "cooling down" (the client must learn that the upstream said 404, say).
      throw lastError ?? error;
    }
    const remaining = request.deadline === undefined ? Infinity : request.deadline - deps.now();
    if (remaining <= 0) {
      throw (
        lastError ??
        new UpstreamError(
          'RequestTimeout',
          `${group}: the request's time budget (router timeout) was spent before a call could be made`,
          undefined,
        )
      );
    }
    // The tightest of the deployment's timeout, the request's own and what is left of its budget.
    const deploymentMs = request.timeoutOf(deployment);
    const timeoutMs = Math.min(deploymentMs, request.requestTimeoutMs ?? Infinity, remaining);
    const call = {
      signal: request.signal,
      timeoutMs,
      maxResponseBytes: request.maxResponseBytes,
      maxStreamMs: request.maxStreamMs,
    };
    const started = performance.now();
    request.onAttemptStart?.(deployment);
    await deps.addInFlight(deployment.id, 1);
    let released = false;
    const release = async () => {
      if (released) return;
      released = true;
      await deps.addInFlight(deployment.id, -1);
    };
    try {
      const { result, tokens } = await run({ deployment, call, release });
      const ms = performance.now() - started;
      request.onAttemptEnd?.(deployment, ms, undefined);
      await deps.succeeded(deployment, ms, tokens - request.tokens);
      return result;
    } catch (error) {
      await release();
      // Only calls that reached the upstream are attempts: ours failed before sending anything.
      if (!(error instanceof UpstreamError)) throw error;
      // The request's deadline ran out before the deployment's would have: the deployment did
      // nothing wrong by the gateway's own measure, and a retry would meet the same deadline.
      if (error.kind === 'Timeout' && error.status === undefined && timeoutMs < deploymentMs) {
        const own = requestTimeout(error, timeoutMs);
        request.onAttemptEnd?.(deployment, performance.now() - started, own);
        throw own;
      }
      request.onAttemptEnd?.(deployment, performance.now() - started, error);
      // A wildcard serves whatever name a client asks for: a name its upstream does not have is
      // that request's mistake, not the deployment's, so it cools nothing for the other callers
      // (and keeps this caller's model name and error text out of what they are shown).
      if (error.kind === 'NotFoundError' && deployment.group.includes('*')) throw error;
      failed.add(deployment.id);
      lastError = error;
      await deps.failed(deployment, error);
      if (attempt >= deps.retries(group, error.kind)) throw error;
      const delay = deps.delay(attempt + 1, error);
      // A wait past the request's deadline (a long Retry-After) is not waited: the upstream's answer stands.
      if (request.deadline !== undefined && deps.now() + delay >= request.deadline) throw error;
      request.onRetry?.(deployment, error, delay);
      await deps.sleep(delay, request.signal);
    }
  }
}

function requestTimeout(error: UpstreamError, timeoutMs: number): UpstreamError {
  return new UpstreamError(
    'RequestTimeout',
    `${error.message}: the request's own time limit (${Math.round(timeoutMs)} ms), shorter than the deployment's timeout`,
    undefined,
    {},
    { cause: error },
  );
}
