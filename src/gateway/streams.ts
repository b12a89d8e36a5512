/** Streams the Router hands out: a relayed upstream stream, or a cached answer replayed as one chunk. */
import type { SemrouteError } from '../errors.js';
import type { ChatChunk, ChatCompletion } from './upstream.js';

/** Yields the first chunk and the rest, renaming `model`, and releases in-flight tracking once. */
export async function* relay(
  opened: { first: ChatChunk | undefined; rest: AsyncIterator<ChatChunk>; abort: () => void },
  group: string,
  release: () => Promise<void>,
  /** A failure after the first chunk (a cut connection) becomes an UpstreamError like any other. */
  classify: (error: unknown) => SemrouteError,
): AsyncGenerator<ChatChunk> {
  try {
    // Chunks are parsed here from the upstream's bytes and ours alone: renamed in place.
    if (opened.first !== undefined) {
      opened.first.model = group;
      yield opened.first;
    }
    for (;;) {
      let next: IteratorResult<ChatChunk>;
      try {
        next = await opened.rest.next();
      } catch (error) {
        throw classify(error);
      }
      if (next.done) return;
      next.value.model = group;
      yield next.value;
    }
  } finally {
    opened.abort();
    await release();
  }
}

/** A cached completion as a stream of one chunk (cache_streams). */
export async function* replay(response: ChatCompletion): AsyncGenerator<ChatChunk> {
  const choice = response.choices[0];
  yield {
    id: response.id,
    object: 'chat.completion.chunk',
    created: response.created,
    model: response.model,
    choices: [
      {
        index: 0,
        delta: { role: 'assistant', content: choice?.message.content ?? '' },
        finish_reason: choice?.finish_reason ?? 'stop',
        logprobs: null,
      },
    ],
  } as ChatChunk;
}
