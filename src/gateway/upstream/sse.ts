/** Reading server-sent events from an upstream stream. */
import { classifyUpstream, UpstreamError } from '../../errors.js';
import type { Deployment } from '../deployment.js';
import { upstreamName } from './errors.js';
import { EventSplitter } from './event-splitter.js';
import type { ChatChunk, Completion } from '../types.js';

/**
 * Server-sent events as OpenAI sends them: `data: {json}` events separated by a blank line,
 * `data: [DONE]` at the end. An `error` event mid-stream becomes an UpstreamError.
 */
export async function* sseEvents<T = ChatChunk>(
  body: AsyncIterable<Buffer>,
  deployment: Deployment,
): AsyncGenerator<T> {
  const events = new EventSplitter(deployment);
  const reader = body[Symbol.asyncIterator]();
  // After [DONE] the answer is complete and the stream ends here, whatever the upstream does next:
  // one that keeps the connection open must not hold the client. The rest of the body is read in
  // the background (bounded), as the openai client does: destroying an unfinished stream built an
  // AbortError with its stack for every streamed request (8% of a streamed request's CPU).
  let handedOff = false;
  try {
    for (;;) {
      const next = await reader.next();
      if (next.done === true) return;
      for (const event of events.push(next.value)) {
        // Nearly every event is one `data: ` line: that case skips the split.
        const data =
          event.startsWith('data: ') && !event.includes('\n')
            ? event.slice(6)
            : event
                .split(/\r?\n/)
                .filter((line) => line.startsWith('data:'))
                .map((line) => line.slice(line[5] === ' ' ? 6 : 5))
                .join('\n');
        if (data === '') continue;
        if (data === '[DONE]') {
          handedOff = true;
          drainAfterDone(reader);
          return;
        }
        const parsed = JSON.parse(data) as T & { error?: { message?: string; code?: string } };
        if (parsed.error !== undefined) {
          const message = parsed.error.message ?? 'error event in stream';
          throw new UpstreamError(
            classifyUpstream(500, message, parsed.error.code ?? null),
            `${upstreamName(deployment)} sent an error event: ${message}`,
            undefined,
          );
        }
        yield parsed as T;
      }
    }
  } finally {
    // Stopped early (an error, a client gone): the body is closed, as for-await would.
    if (!handedOff) await reader.return?.().catch(() => {});
  }
}

/** How long the rest of a body after `[DONE]` may take before its connection is closed. */
const AFTER_DONE_MS = 2_000;

/** Reads what follows `[DONE]` to the end, or closes the body when it does not end soon. */
function drainAfterDone(reader: AsyncIterator<Buffer>): void {
  const timer = setTimeout(() => void reader.return?.().catch(() => {}), AFTER_DONE_MS);
  timer.unref();
  void (async () => {
    try {
      while ((await reader.next()).done !== true);
    } catch {
      // Closed by the timer, or the connection failed after the answer was complete: nothing lost.
    } finally {
      clearTimeout(timer);
    }
  })();
}

/**
 * Server-sent events with names (`event:` and `data:` lines), as Anthropic and Cohere send them:
 * `{event, data}` pairs; a frame without data is skipped.
 */
export async function* namedEvents(
  body: AsyncIterable<Buffer>,
  deployment: Deployment,
): AsyncGenerator<{ event: string; data: string }> {
  const events = new EventSplitter(deployment);
  for await (const bytes of body) {
    for (const frame of events.push(bytes)) {
      let event = 'message';
      const data: string[] = [];
      for (const line of frame.split(/\r?\n/)) {
        if (line.startsWith('event:')) event = line.slice(6).trim();
        else if (line.startsWith('data:')) data.push(line.slice(line[5] === ' ' ? 6 : 5));
      }
      if (data.length > 0) yield { event, data: data.join('\n') };
    }
  }
}

/** A legacy completions stream: the same framing, completion chunks. */
export const completionEvents = (body: AsyncIterable<Buffer>, deployment: Deployment) =>
  sseEvents<Completion>(body, deployment);
