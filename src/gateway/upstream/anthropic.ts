/**
 * Anthropic's Messages API, natively: `POST {base}/v1/messages` with `x-api-key` and
 * `anthropic-version`, the request and answer translated (anthropic-translate.ts), the event
 * stream read as Anthropic sends it (`event:` and `data:` lines) and turned into OpenAI chunks.
 * An `error` event mid-stream (`overloaded_error`, …) is an UpstreamError of the status its type
 * stands for, so an overloaded upstream is retried like a 529.
 */
import { classifyUpstream, UpstreamError } from '../../errors.js';
import type { Deployment } from '../deployment.js';
import type { ChatChunk } from '../types.js';
import {
  AnthropicStreamTranslator,
  ERROR_STATUS,
  fromAnthropicMessage,
  toAnthropicRequest,
  wantsJson,
} from './anthropic-translate.js';
import { upstreamName } from './errors.js';
import { EventSplitter } from './event-splitter.js';
import { postJson } from './exchange.js';
import { openStream } from './stream.js';
import type { Wire } from './wire.js';

/** Server-sent events as `{event, data}` pairs; a frame without data is skipped. */
async function* frames(
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

function reader(json: boolean, includeUsage: boolean) {
  return async function* chunks(
    body: AsyncIterable<Buffer>,
    deployment: Deployment,
  ): AsyncGenerator<ChatChunk> {
    const translator = new AnthropicStreamTranslator(json, includeUsage);
    for await (const { event, data } of frames(body, deployment)) {
      const parsed = JSON.parse(data) as Record<string, unknown>;
      // The event name is the type; a frame without one says it in its data.
      const type = event === 'message' && typeof parsed.type === 'string' ? parsed.type : event;
      if (type === 'error') {
        const error = (parsed.error ?? {}) as { type?: string; message?: string };
        const status = ERROR_STATUS[error.type ?? ''] ?? 500;
        const message = error.message ?? 'error event in stream';
        throw new UpstreamError(
          status === 529 ? 'ServiceUnavailableError' : classifyUpstream(status, message, error.type ?? null),
          `${upstreamName(deployment)} sent an error event: ${error.type ?? 'error'}: ${message}`,
          status,
        );
      }
      yield* translator.push(type, parsed);
    }
  };
}

export const anthropicWire: Wire = {
  async chat(client, d, body, options, drop) {
    const json = wantsJson(body);
    const message = await postJson<Record<string, unknown>>(
      client,
      d,
      '/messages',
      toAnthropicRequest(body, drop),
      options,
      { field: 'content', what: 'a Messages answer' },
    );
    return fromAnthropicMessage(message, json);
  },
  openStream(client, d, body, options, drop) {
    const includeUsage =
      (body.stream_options as { include_usage?: unknown } | undefined)?.include_usage === true;
    return openStream(
      client,
      d,
      '/messages',
      { ...toAnthropicRequest(body, drop), stream: true },
      options,
      reader(wantsJson(body), includeUsage),
    );
  },
  embedding: undefined,
};
