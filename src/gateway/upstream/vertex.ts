/**
 * Google Vertex AI: Gemini through Vertex's OpenAI-compatible endpoint
 * (`{host}/v1/projects/{project}/locations/{location}/endpoints/openapi/chat/completions`,
 * model `google/<name>`), and Anthropic's models on Vertex through `rawPredict` /
 * `streamRawPredict` (`…/publishers/anthropic/models/<name>:rawPredict`: the Messages body with
 * `anthropic_version: vertex-2023-10-16` instead of a model field, the answer and event stream
 * Anthropic's). Every call carries an OAuth token from the deployment's Google credentials
 * (google-token.ts); a 401 drops that token and the call is made once more with a fresh one
 * (a token revoked or expired early), then fails as the upstream's.
 */
import { UpstreamError } from '../../errors.js';
import type { Deployment } from '../deployment.js';
import type { ChatCompletion } from '../types.js';
import { anthropicEvents } from './anthropic.js';
import { fromAnthropicMessage, toAnthropicRequest, wantsJson } from './anthropic-translate.js';
import { buildClient, type CallOptions, pathOf, type UpstreamClient } from './client.js';
import { postJson } from './exchange.js';
import { GoogleTokenSource } from './google-token.js';
import { sseEvents } from './sse.js';
import { openStream } from './stream.js';
import type { UpstreamChatBody, Wire } from './wire.js';

/** The Messages API version Anthropic's models on Vertex take, in the body. */
export const VERTEX_ANTHROPIC_VERSION = 'vertex-2023-10-16';

const sources = new WeakMap<UpstreamClient, GoogleTokenSource>();

const isAnthropic = (model: string) => /^claude-/.test(model);

/** One call with a token; on a 401 the token is dropped and the call made once more. */
async function withToken<T>(
  client: UpstreamClient,
  d: Deployment,
  options: CallOptions,
  call: (options: CallOptions) => Promise<T>,
): Promise<T> {
  const source = sources.get(client);
  if (source === undefined)
    throw new UpstreamError(
      'AuthenticationError',
      `${d.group}: no Google credentials for Vertex AI: set vertex_credentials (or GOOGLE_APPLICATION_CREDENTIALS)`,
      401,
    );
  const attempt = async () => {
    const token = await source.token();
    try {
      return await call({ ...options, headers: { ...options.headers, authorization: `Bearer ${token}` } });
    } catch (error) {
      if (error instanceof UpstreamError && error.status === 401) source.invalidate(token);
      throw error;
    }
  };
  try {
    return await attempt();
  } catch (error) {
    if (!(error instanceof UpstreamError && error.status === 401) || options.signal?.aborted) throw error;
    return attempt();
  }
}

/** The Messages body Vertex takes for Anthropic's models: no model (it is in the path). */
function anthropicBody(body: UpstreamChatBody, drop: boolean): Record<string, unknown> {
  const { model: _model, ...rest } = toAnthropicRequest(body, drop, 'Vertex AI (Claude)');
  return { ...rest, anthropic_version: VERTEX_ANTHROPIC_VERSION };
}

const anthropicPath = (model: string, action: 'rawPredict' | 'streamRawPredict') =>
  `/publishers/anthropic/models/${encodeURIComponent(model)}:${action}`;
const OPENAI_PATH = '/endpoints/openapi/chat/completions';
const geminiModel = (model: string) => (model.includes('/') ? model : `google/${model}`);

export const vertexWire: Wire = {
  name: 'vertex',
  capabilities: new Set(['chat'] as const),
  sdkCompatible: false,
  /** `{host}/v1/projects/{project}/locations/{location}`; the token comes per call. */
  client(target, dispatcher) {
    const base = new URL(target.baseUrl);
    const vertex = target.vertex;
    const basePath = `${pathOf(base).replace(/\/v1$/, '')}/v1/projects/${encodeURIComponent(vertex?.project ?? '')}/locations/${encodeURIComponent(vertex?.location ?? '')}`;
    const client = buildClient(dispatcher, base, basePath, {}, target);
    if (vertex?.credentials !== undefined)
      sources.set(client, new GoogleTokenSource(vertex.credentials, dispatcher));
    return client;
  },
  chat(client, d, body, options, drop) {
    if (isAnthropic(body.model))
      return withToken(client, d, options, async (o) =>
        fromAnthropicMessage(
          await postJson<Record<string, unknown>>(
            client,
            d,
            anthropicPath(body.model, 'rawPredict'),
            anthropicBody(body, drop),
            o,
            { field: 'content', what: 'a Messages answer' },
          ),
          wantsJson(body),
        ),
      );
    return withToken(client, d, options, (o) =>
      postJson<ChatCompletion>(
        client,
        d,
        OPENAI_PATH,
        { ...body, model: geminiModel(body.model), stream: false },
        o,
        {
          field: 'choices',
          what: 'a chat completion',
        },
      ),
    );
  },
  openStream(client, d, body, options, drop) {
    if (isAnthropic(body.model)) {
      const includeUsage =
        (body.stream_options as { include_usage?: unknown } | undefined)?.include_usage === true;
      return withToken(client, d, options, (o) =>
        openStream(
          client,
          d,
          anthropicPath(body.model, 'streamRawPredict'),
          { ...anthropicBody(body, drop), stream: true },
          o,
          anthropicEvents(wantsJson(body), includeUsage),
        ),
      );
    }
    return withToken(client, d, options, (o) =>
      openStream(
        client,
        d,
        OPENAI_PATH,
        { ...body, model: geminiModel(body.model), stream: true },
        o,
        sseEvents,
      ),
    );
  },
};

/** The token source of a client (for `semroute check` and tests). */
export const tokenSourceOf = (client: UpstreamClient) => sources.get(client);
