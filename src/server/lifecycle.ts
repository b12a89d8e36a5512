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

  /** Stops taking requests (503) and resolves when those in flight have finished. */
  async drain(): Promise<void> {
    this.draining = true;
    if (this.inFlight > 0) await new Promise<void>((resolve) => (this.idle = resolve));
  }
}
