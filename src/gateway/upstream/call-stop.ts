/**
 * What stops one dispatched upstream call: its deadline and the caller's signal. Both abort
 * undici's controller (no AbortController per call); a stop that comes before undici has started
 * the request is applied when it does. Our own timer: undici's headersTimeout fires up to a
 * second late (it batches timers), too coarse for sub-second timeouts.
 */
import type { Dispatcher } from 'undici';
import { ErrorCode, SemrouteError } from '../../errors.js';
import type { Deployment } from '../deployment.js';
import { noAnswer } from './errors.js';

export class CallStop {
  /** Why the proxy stopped the call (deadline, client gone, stream closed), once it has. */
  reason: SemrouteError | undefined;
  private controller: Dispatcher.DispatchController | undefined;
  private timer: NodeJS.Timeout | undefined;
  private readonly onAbort = () =>
    this.stop(
      new SemrouteError(ErrorCode.ABORTED, 'The request was aborted by the client', {
        cause: this.signal?.reason,
      }),
    );

  constructor(
    private readonly signal: AbortSignal | undefined,
    deployment: Deployment,
    timeoutMs: number,
    /** Told of every stop, after the controller is aborted. */
    private readonly onStop: (error: SemrouteError) => void = () => {},
  ) {
    // Already aborted: stopped at once (onStop runs before the constructor returns), and
    // nothing is left to detach.
    if (signal?.aborted) {
      this.timer = undefined;
      this.onAbort();
      return;
    }
    this.timer = setTimeout(() => this.stop(noAnswer(deployment, timeoutMs)), timeoutMs);
    signal?.addEventListener('abort', this.onAbort, { once: true });
  }

  /** undici's onRequestStart: from now on a stop aborts the request. */
  attach(controller: Dispatcher.DispatchController): void {
    this.controller = controller;
    if (this.reason) controller.abort(this.reason);
  }

  pause(): void {
    this.controller?.pause();
  }

  resume(): void {
    this.controller?.resume();
  }

  stop(error: SemrouteError): void {
    this.reason ??= error;
    this.controller?.abort(error);
    this.onStop(error);
  }

  /**
   * The deadline no longer applies (a stream's first chunk is in); the caller's signal still
   * does, and so does `limitMs` from now, when given: the longest a stream may run in all.
   */
  stopClock(limitMs?: number, deployment?: Deployment): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (limitMs === undefined) return;
    this.timer = setTimeout(
      () =>
        this.stop(
          new SemrouteError(
            ErrorCode.ABORTED,
            `The stream from ${deployment?.group ?? 'the upstream'} ran past max_stream_seconds (${Math.round(limitMs / 1000)} s) and was closed`,
          ),
        ),
      limitMs,
    );
    this.timer.unref();
  }

  /** The call is over: no timer, no listener on the caller's (long-lived) signal. */
  detach(): void {
    clearTimeout(this.timer);
    this.signal?.removeEventListener('abort', this.onAbort);
  }
}
