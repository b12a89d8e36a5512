/**
 * Requests in flight and the drain: counted from the first hook, released once when the answer
 * ends or the connection drops (an aborted request gets no onResponse, and a drain must not wait
 * for it for ever).
 */
import type { FastifyReply } from 'fastify';

export class Lifecycle {
  draining = false;
  inFlight = 0;
  private idle: (() => void) | undefined;

  track(reply: FastifyReply): void {
    this.inFlight++;
    reply.raw.once('close', () => {
      this.inFlight--;
      if (this.inFlight === 0) this.idle?.();
    });
  }

  /**
   * Stops taking requests (503) and resolves when those in flight have finished, or when
   * `deadlineMs` has passed (whatever is left is then closed by the caller): a client that never
   * finishes must not hold a shutdown for ever. True when everything finished.
   */
  async drain(deadlineMs = Infinity): Promise<boolean> {
    this.draining = true;
    if (this.inFlight === 0) return true;
    let timer: NodeJS.Timeout | undefined;
    const finished = await Promise.race([
      new Promise<boolean>((resolve) => (this.idle = () => resolve(true))),
      ...(Number.isFinite(deadlineMs)
        ? [new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), deadlineMs)))]
        : []),
    ]);
    clearTimeout(timer);
    return finished;
  }
}
