/**
 * Bytes of upstream answers held in memory at once, for the whole process. Each plain answer is
 * gathered whole before it is parsed (within `max_response_bytes`); many large ones at the same
 * moment would still add up (24 answers of 200 MiB took a proxy from 240 MB to 887 MB). Past the
 * budget, the answer being gathered is given up: its request fails with a 503 the client may
 * retry, and the deployment is not blamed. Streams are passed on as they come and hold nothing.
 */
import { ErrorCode, SemrouteError } from '../../errors.js';

/** Default for `router_settings.max_buffered_bytes`: 256 MiB. */
export const DEFAULT_BUFFERED_BYTES = 256 * 1024 * 1024;

export class BufferBudget {
  private held = 0;

  constructor(public limit: number = DEFAULT_BUFFERED_BYTES) {}

  /** Takes `bytes` if they fit; false (nothing taken) when they do not. */
  take(bytes: number): boolean {
    if (this.held + bytes > this.limit) return false;
    this.held += bytes;
    return true;
  }

  give(bytes: number): void {
    this.held = Math.max(0, this.held - bytes);
  }

  get inUse(): number {
    return this.held;
  }
}

/** One budget per process: every gateway (a reload makes a new one) draws from it. */
export const processBufferBudget = new BufferBudget();

export function overBudget(limit: number): SemrouteError {
  return new SemrouteError(
    ErrorCode.OVERLOADED,
    `the proxy is holding ${limit} bytes of upstream answers already (router_settings.max_buffered_bytes): retry shortly`,
    { details: { retryAt: Date.now() + 1_000 } },
  );
}
