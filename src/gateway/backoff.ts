/**
 * Retry delays as a pure function: exponential with jitter, capped, and honouring the
 * server's `retry-after-ms` / `Retry-After` (seconds or an HTTP date). Tested without sleeping.
 */

export interface BackoffOptions {
  /** First delay in ms. Default 500 (0.5 s). Router setting `retry_after` (seconds) sets a floor. */
  initialMs?: number;
  /** Largest delay in ms. Default 8_000 (8 s). */
  maxMs?: number;
  /** Fraction of the delay randomised downward. Default 0.25. */
  jitter?: number;
  /** Floor for every delay in ms (LiteLLM's `retry_after`). Default 0. */
  minMs?: number;
}

/** Parses retry-after-ms / Retry-After; undefined when absent or unusable. */
export function retryAfterMs(
  headers: Readonly<Record<string, string | undefined>>,
  now: number,
): number | undefined {
  const ms = headers['retry-after-ms'];
  if (ms !== undefined) {
    const value = Number(ms);
    if (Number.isFinite(value) && value >= 0) return value;
  }
  const after = headers['retry-after'];
  if (after === undefined) return undefined;
  const seconds = Number(after);
  if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
  const date = Date.parse(after);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/**
 * Delay before retry number `attempt` (1 = first retry).
 * `random` is injected (0 ≤ r < 1) so that tests are exact.
 */
export function backoffDelay(
  attempt: number,
  headers: Readonly<Record<string, string | undefined>>,
  options: BackoffOptions = {},
  random: () => number = Math.random,
  now: number = Date.now(),
): number {
  const initial = options.initialMs ?? 500;
  const max = options.maxMs ?? 8_000;
  const jitter = options.jitter ?? 0.25;
  const floor = options.minMs ?? 0;
  // The server's wait, however long: the caller decides whether it fits the request's budget
  // (a long one means fail or fall back now, never a shorter wait than asked).
  const server = retryAfterMs(headers, now);
  if (server !== undefined) return Math.max(server, floor);
  const exponential = Math.min(max, initial * 2 ** Math.max(0, attempt - 1));
  return Math.max(floor, exponential * (1 - jitter * random()));
}
