/**
 * A streamed answer's bytes, handed from undici's dispatch handler to the one loop that reads
 * them: no Readable stream, no async resource per call. When the reader falls behind (its client
 * reads slowly), the handler pauses the upstream socket, so TCP holds the upstream back instead
 * of this queue growing; the reader resumes it when it has caught up.
 */

/** Reads queued before the upstream is paused: a few events of one stream, not a whole answer. */
const HIGH_WATER = 16;

export class BodyQueue implements AsyncIterableIterator<Buffer> {
  private readonly chunks: Buffer[] = [];
  private ended = false;
  private failure: unknown;
  private waiting: { resolve: (r: IteratorResult<Buffer>) => void; reject: (e: unknown) => void } | undefined;
  private paused = false;

  constructor(
    private readonly flow: { pause(): void; resume(): void },
    /** Called once when the reader stops before the end (it returned or threw). */
    private readonly onStop: () => void,
  ) {}

  push(chunk: Buffer): void {
    if (this.waiting !== undefined) {
      const { resolve } = this.waiting;
      this.waiting = undefined;
      resolve({ done: false, value: chunk });
      return;
    }
    this.chunks.push(chunk);
    if (this.chunks.length >= HIGH_WATER && !this.paused) {
      this.paused = true;
      this.flow.pause();
    }
  }

  end(): void {
    this.ended = true;
    this.settleWaiting();
  }

  fail(error: unknown): void {
    if (this.ended) return;
    this.failure = error;
    this.ended = true;
    this.settleWaiting();
  }

  next(): Promise<IteratorResult<Buffer>> {
    const chunk = this.chunks.shift();
    if (chunk !== undefined) {
      if (this.paused && this.chunks.length === 0) {
        this.paused = false;
        this.flow.resume();
      }
      return Promise.resolve({ done: false, value: chunk });
    }
    if (this.failure !== undefined) return Promise.reject(this.failure);
    if (this.ended) return Promise.resolve({ done: true, value: undefined });
    return new Promise((resolve, reject) => {
      this.waiting = { resolve, reject };
    });
  }

  /** The reader stopped early (`break`, or an error in its loop): the upstream call ends. */
  return(): Promise<IteratorResult<Buffer>> {
    if (!this.ended) {
      this.ended = true;
      this.chunks.length = 0;
      this.onStop();
    }
    return Promise.resolve({ done: true, value: undefined });
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<Buffer> {
    return this;
  }

  private settleWaiting(): void {
    const waiting = this.waiting;
    if (waiting === undefined) return;
    this.waiting = undefined;
    if (this.failure !== undefined) waiting.reject(this.failure);
    else waiting.resolve({ done: true, value: undefined });
  }
}
