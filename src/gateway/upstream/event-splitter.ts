/**
 * Server-sent events cut out of an upstream's bytes: a blank line ends an event (line ends LF or
 * CRLF, even mixed). Each read is scanned once, from where the last scan stopped (an upstream
 * that never ends an event must not make every read rescan all it sent), and an event longer
 * than the bound is the upstream's malformed answer, not memory the proxy grows without end.
 */
import type { Deployment } from '../deployment.js';
import { malformedAnswer } from './errors.js';

/** Largest single event read from an upstream, in characters. 16 MiB. */
export const MAX_EVENT_CHARS = 16 * 1024 * 1024;

export class EventSplitter {
  private readonly decoder = new TextDecoder();
  private buffer = '';
  private readonly end = /\r?\n\r?\n/g;

  constructor(
    private readonly deployment: Deployment,
    private readonly maxChars = MAX_EVENT_CHARS,
  ) {}

  /** The events a read completes, in order (often one). */
  push(bytes: Uint8Array): string[] {
    const scanned = this.buffer.length;
    this.buffer += this.decoder.decode(bytes, { stream: true });
    const out: string[] = [];
    // A delimiter may straddle two reads: start three characters back.
    this.end.lastIndex = Math.max(0, scanned - 3);
    let start = 0;
    for (let gap = this.end.exec(this.buffer); gap !== null; gap = this.end.exec(this.buffer)) {
      out.push(this.buffer.slice(start, gap.index));
      start = gap.index + gap[0].length;
    }
    if (start > 0) this.buffer = this.buffer.slice(start);
    if (this.buffer.length > this.maxChars)
      throw malformedAnswer(this.deployment, `a stream event longer than ${this.maxChars} characters`);
    return out;
  }
}
