/**
 * Writing a server-sent event stream to the client's socket. Events that are ready together (the
 * head, chunks from one upstream read) leave in one write: a write is a syscall, and a stream is
 * many small ones. Uncorked once the events at hand are written, so nothing waits for the next
 * upstream read. A client that reads slower than the upstream writes holds the upstream back
 * (`drained`), never the proxy's memory.
 */
import type { ServerResponse } from 'node:http';

export const SSE_HEADERS: Readonly<Record<string, string>> = {
  'content-type': 'text/event-stream; charset=utf-8',
  'cache-control': 'no-cache',
  connection: 'keep-alive',
  'x-accel-buffering': 'no',
};

export class SseWriter {
  private corked = false;

  constructor(private readonly raw: ServerResponse) {}

  get closed(): boolean {
    return this.raw.destroyed;
  }

  /** Writes one event's text (already framed: `data: …\n\n`). */
  write(text: string): void {
    if (this.raw.destroyed) return;
    if (!this.corked) {
      this.corked = true;
      this.raw.cork();
      process.nextTick(() => {
        this.corked = false;
        this.raw.uncork();
      });
    }
    this.raw.write(text);
  }

  /** Whether the client is behind: the socket holds more than its high-water mark unsent. */
  get behind(): boolean {
    return this.raw.writableNeedDrain;
  }

  /**
   * Resolves when the client has caught up (or gone). The stream loop waits here before it reads
   * the upstream again, so a client that does not read holds the upstream back instead of making
   * the proxy buffer everything (TCP's backpressure, carried through).
   */
  drained(): Promise<void> {
    if (!this.raw.writableNeedDrain || this.raw.destroyed) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        this.raw.off('drain', done);
        this.raw.off('close', done);
        resolve();
      };
      this.raw.on('drain', done);
      this.raw.on('close', done);
    });
  }

  end(): void {
    this.raw.end();
  }
}
