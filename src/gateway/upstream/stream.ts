/**
 * Streamed chat completions: opened and read up to the first chunk (so a failure before any
 * byte reaches the client can still be retried or fall back), relayed with the group's name,
 * or a cached answer replayed as one chunk.
 */
import type { Dispatcher } from 'undici';
import type { SemrouteError } from '../../errors.js';
import type { Deployment } from '../deployment.js';
import type { ChatChunk, ChatCompletion } from '../types.js';
import type { CallOptions, UpstreamClient } from './client.js';
import { Deadline } from './deadline.js';
import { httpError } from './errors.js';
import { post, serialise } from './exchange.js';

/** A stream read to its first chunk: the chunk, the rest, and how to stop it. */
export interface OpenedStream {
  first: ChatChunk | undefined;
  rest: AsyncIterator<ChatChunk>;
  abort: () => void;
}

/**
 * Opens a stream and waits for its first chunk, so that a failure before any byte reaches the
 * client can still be retried or fall back. Returns the first chunk and the rest. `read` turns
 * the wire format's events into chunks.
 */
export async function openStream(
  client: UpstreamClient,
  deployment: Deployment,
  path: string,
  body: unknown,
  options: CallOptions,
  read: (body: AsyncIterable<Buffer>, deployment: Deployment) => AsyncIterator<ChatChunk>,
): Promise<OpenedStream> {
  let res: Dispatcher.ResponseData | undefined;
  // Until the first chunk: after it, bytes have gone to the client and only bodyTimeout applies.
  const deadline = new Deadline(options.signal, options.timeoutMs);
  try {
    res = await post(client, path, serialise(body), options, deadline.controller.signal);
    if (res.statusCode >= 400) {
      const text = await res.body.text().catch(() => '');
      throw httpError(deployment, res.statusCode, res.headers, text, client);
    }
    const iterator = read(res.body, deployment);
    const first = await iterator.next();
    deadline.stopClock();
    const opened = res;
    return {
      first: first.done ? undefined : first.value,
      rest: iterator,
      // Destroying the body closes the connection: the upstream stops generating.
      abort: () => {
        deadline.clear();
        if (!opened.body.destroyed) opened.body.destroy();
      },
    };
  } catch (error) {
    deadline.clear();
    if (res !== undefined && !res.body.destroyed) res.body.destroy();
    throw deadline.error(error, deployment, options.timeoutMs);
  }
}

/** Yields the first chunk and the rest, renaming `model`, and releases in-flight tracking once. */
export async function* relay(
  opened: OpenedStream,
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
