/**
 * Streamed chat completions: opened and read up to the first chunk (so a failure before any
 * byte reaches the client can still be retried or fall back), relayed with the group's name,
 * or a cached answer replayed as one chunk.
 */
import { ErrorCode, SemrouteError } from '../../errors.js';
import type { Deployment } from '../deployment.js';
import type { ChatChunk, ChatCompletion } from '../types.js';
import type { CallOptions, UpstreamClient } from './client.js';
import { BodyQueue } from './body-queue.js';
import { CallStop } from './call-stop.js';
import { httpError, toUpstreamError } from './errors.js';
import { DEFAULT_MAX_RESPONSE_BYTES, postOptions, serialise } from './exchange.js';

/** A stream read to its first chunk: the chunk, the rest, and how to stop it. */
export interface OpenedStream<C = ChatChunk> {
  first: C | undefined;
  rest: AsyncIterator<C>;
  abort: () => void;
}

/**
 * Opens a stream through undici's dispatch API (as plain calls do: no Readable body, no
 * AbortController per call) and waits for its first chunk, so that a failure before any byte
 * reaches the client can still be retried or fall back. Returns the first chunk and the rest.
 * `read` turns the wire format's events into chunks. The call's deadline covers the wait for
 * the first chunk; after it, bytes have gone to the client and only `bodyTimeout` (a silence
 * that long) ends the stream.
 */
export function openStream<C = ChatChunk>(
  client: UpstreamClient,
  deployment: Deployment,
  path: string,
  body: unknown,
  options: CallOptions,
  read: (body: AsyncIterable<Buffer>, deployment: Deployment) => AsyncIterator<C>,
): Promise<OpenedStream<C>> {
  const { signal, timeoutMs } = options;
  const maxBytes = options.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES;
  return new Promise<OpenedStream<C>>((resolve, reject) => {
    let finished = false;
    let settled = false;
    let status = 0;
    let headers: Record<string, string | string[] | undefined> = {};
    const errorBody: Buffer[] = [];
    let errorBytes = 0;
    const closed = () => new SemrouteError(ErrorCode.ABORTED, 'The stream was closed by the proxy');

    const call = new CallStop(signal, deployment, timeoutMs);
    const fail = (error: SemrouteError) => {
      if (settled) return;
      settled = true;
      call.detach();
      if (!finished) call.stop(error);
      reject(error);
    };
    const queue = new BodyQueue(call, () => {
      if (!finished) call.stop(closed());
    });
    const abort = () => {
      call.detach();
      if (!finished) {
        finished = true;
        call.stop(closed());
      }
    };
    const startReading = () => {
      const iterator = read(queue, deployment);
      iterator.next().then(
        (first) => {
          if (settled) return;
          settled = true;
          call.stopClock(options.maxStreamMs, deployment);
          resolve({ first: first.done ? undefined : first.value, rest: iterator, abort });
        },
        (error: unknown) => fail(call.reason ?? toUpstreamError(error, deployment, signal)),
      );
    };

    if (call.reason) return fail(call.reason);
    try {
      client.dispatcher.dispatch(postOptions(client, path, serialise(body), timeoutMs, options.headers), {
        onRequestStart(c) {
          call.attach(c);
        },
        onResponseStart(_c, code, responseHeaders) {
          status = code;
          headers = responseHeaders;
          if (code < 400) startReading();
        },
        onResponseData(_c, chunk) {
          if (status < 400) return queue.push(chunk);
          errorBytes += chunk.length;
          if (errorBytes <= maxBytes) errorBody.push(chunk);
        },
        onResponseEnd() {
          finished = true;
          if (status >= 400)
            fail(
              httpError(deployment, status, headers, Buffer.concat(errorBody).toString('utf8'), client, path),
            );
          else {
            queue.end();
            call.detach();
          }
        },
        onResponseError(_c, error) {
          finished = true;
          const mapped = call.reason ?? toUpstreamError(error, deployment, signal);
          // Before the first chunk the caller's promise fails; after it, the reader does.
          queue.fail(mapped);
          if (status === 0 || status >= 400) fail(mapped);
          call.detach();
        },
      });
    } catch (error) {
      fail(toUpstreamError(error, deployment, signal));
    }
  });
}

/** Yields the first chunk and the rest, renaming `model`, and releases in-flight tracking once. */
export async function* relay<C extends { model: string }>(
  opened: OpenedStream<C>,
  group: string,
  release: () => Promise<void>,
  /** A failure after the first chunk (a cut connection) becomes an UpstreamError like any other. */
  classify: (error: unknown) => SemrouteError,
): AsyncGenerator<C> {
  try {
    // Chunks are parsed here from the upstream's bytes and ours alone: renamed in place.
    if (opened.first !== undefined) {
      opened.first.model = group;
      yield opened.first;
    }
    for (;;) {
      let next: IteratorResult<C>;
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
