/** A call's deadline joined with the caller's signal, for calls that need an AbortSignal (streams). */
import type { SemrouteError } from '../../errors.js';
import type { Deployment } from '../deployment.js';
import { noAnswer, toUpstreamError } from './errors.js';

/**
 * The caller's signal plus a deadline of `timeoutMs`. Our own timer: undici's headersTimeout
 * fires up to a second late (it batches timers), too coarse for sub-second timeouts.
 */
export class Deadline {
  readonly controller = new AbortController();
  timedOut = false;
  private readonly timer: NodeJS.Timeout;
  private readonly onAbort = () => this.controller.abort(this.caller?.reason);

  constructor(
    private readonly caller: AbortSignal | undefined,
    timeoutMs: number,
  ) {
    this.timer = setTimeout(() => {
      this.timedOut = true;
      this.controller.abort();
    }, timeoutMs);
    if (caller?.aborted) this.onAbort();
    else caller?.addEventListener('abort', this.onAbort, { once: true });
  }

  /** Stops the clock; the caller's abort still cancels the call. */
  stopClock(): void {
    clearTimeout(this.timer);
  }

  clear(): void {
    clearTimeout(this.timer);
    this.caller?.removeEventListener('abort', this.onAbort);
  }

  /** The error for a failed call: Timeout when the deadline passed, else as thrown. */
  error(error: unknown, deployment: Deployment, timeoutMs: number): SemrouteError {
    if (this.timedOut && !this.caller?.aborted) return noAnswer(deployment, timeoutMs, error);
    return toUpstreamError(error, deployment, this.caller);
  }
}
