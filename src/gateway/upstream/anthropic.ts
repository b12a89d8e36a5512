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
import { buildClient, pathOf } from './client.js';
import { upstreamName } from './errors.js';
import { postJson } from './exchange.js';
import { namedEvents } from './sse.js';
import { openStream } from './stream.js';
import type { Wire } from './wire.js';

/** Reads Anthropic's event stream as OpenAI chunks (Anthropic on Vertex streams the same events). */
export function anthropicEvents(json: boolean, includeUsage: boolean) {
  return async function* chunks(
    body: AsyncIterable<Buffer>,
    deployment: Deployment,
  ): AsyncGenerator<ChatChunk> {
    const translator = new AnthropicStreamTranslator(json, includeUsage);
    for await (const { event, data } of namedEvents(body, deployment)) {
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

/** The Anthropic API version semroute speaks upstream: the one that takes temperature and top_p. */
export const ANTHROPIC_VERSION = '2023-06-01';

export const anthropicWire: Wire = {
  name: 'anthropic',
  capabilities: new Set(['chat'] as const),
  sdkCompatible: false,
  /** `{base}/v1/messages`: a base given with or without `/v1`, or as the full `/v1/messages` URL. */
  client(target, dispatcher) {
    const base = new URL(target.baseUrl);
    let basePath = pathOf(base).replace(/\/messages$/, '');
    if (!/\/v1$/.test(basePath)) basePath += '/v1';
    const auth: Record<string, string> = { 'anthropic-version': ANTHROPIC_VERSION };
    if (target.apiKey !== undefined) auth['x-api-key'] = target.apiKey;
    return buildClient(dispatcher, base, basePath, auth, target);
  },
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
      anthropicEvents(wantsJson(body), includeUsage),
    );
  },
};
