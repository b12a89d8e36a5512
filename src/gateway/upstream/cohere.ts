/**
 * Cohere's API v2, natively: chat (`POST {base}/v2/chat`, streamed as named server-sent events),
 * embeddings (`/v2/embed`) and reranking (`/v2/rerank`), with a bearer key. The translation of
 * chat is cohere-translate.ts; rerank answers are put in LiteLLM's shape by rerank.ts. A
 * `message-end` that carries an error is the stream's failure, as Cohere documents it.
 */
import { UpstreamError } from '../../errors.js';
import type { Deployment } from '../deployment.js';
import type { ChatChunk, EmbeddingResponse, RerankResponse } from '../types.js';
import { buildClient, type CallOptions, pathOf, type UpstreamClient } from './client.js';
import { CohereStreamTranslator, fromCohereChat, toCohereChat } from './cohere-translate.js';
import { upstreamName } from './errors.js';
import { embeddingList } from './embedding-list.js';
import { postJson } from './exchange.js';
import { documentTexts, rerankAnswer } from './rerank.js';
import { namedEvents } from './sse.js';
import { openStream } from './stream.js';
import type { UpstreamBody, Wire } from './wire.js';

type Json = Record<string, unknown>;

function reader(model: string, includeUsage: boolean) {
  return async function* chunks(
    body: AsyncIterable<Buffer>,
    deployment: Deployment,
  ): AsyncGenerator<ChatChunk> {
    const translator = new CohereStreamTranslator(model, includeUsage);
    for await (const { event, data } of namedEvents(body, deployment)) {
      const parsed = JSON.parse(data) as Json;
      const type = typeof parsed.type === 'string' ? parsed.type : event;
      const error = (parsed.delta as Json | undefined)?.error;
      if (type === 'message-end' && typeof error === 'string' && error !== '')
        throw new UpstreamError(
          'InternalServerError',
          `${upstreamName(deployment)} ended its stream with an error: ${error}`,
          500,
        );
      yield* translator.push(type, parsed);
    }
  };
}

async function embed(
  client: UpstreamClient,
  d: Deployment,
  body: UpstreamBody,
  options: CallOptions,
): Promise<EmbeddingResponse> {
  const input = body.input;
  const texts = (Array.isArray(input) ? input : [input]).map((t) => String(t));
  const answer = await postJson<{ embeddings: { float?: number[][] }; meta?: Json }>(
    client,
    d,
    '/embed',
    {
      model: body.model,
      texts,
      // Required by v3 models and later; LiteLLM's default too.
      input_type: typeof body.input_type === 'string' ? body.input_type : 'search_document',
      embedding_types: ['float'],
      ...(typeof body.dimensions === 'number' ? { output_dimension: body.dimensions } : {}),
    },
    options,
    { field: 'embeddings', what: 'an embed answer', kind: 'object' },
  );
  const vectors = answer.embeddings.float ?? [];
  const tokens = Number((answer.meta?.billed_units as Json | undefined)?.input_tokens ?? 0);
  return embeddingList(body.model, vectors, tokens, body.encoding_format);
}

async function rerank(
  client: UpstreamClient,
  d: Deployment,
  body: UpstreamBody,
  options: CallOptions,
): Promise<RerankResponse> {
  const answer = await postJson<{
    id?: string;
    results: Array<{ index: number; relevance_score: number }>;
    meta?: Json;
  }>(
    client,
    d,
    '/rerank',
    {
      model: body.model,
      query: body.query,
      // v2 ranks texts; objects were reduced to their rank_fields (or text) once, here.
      documents: documentTexts(body),
      ...(typeof body.top_n === 'number' ? { top_n: body.top_n } : {}),
      ...(typeof body.max_tokens_per_doc === 'number' ? { max_tokens_per_doc: body.max_tokens_per_doc } : {}),
    },
    options,
    { field: 'results', what: 'a rerank answer' },
  );
  return rerankAnswer(body, answer.results, answer.id ?? `rerank-${Date.now()}`, answer.meta);
}

export const cohereWire: Wire = {
  name: 'cohere',
  capabilities: new Set(['chat', 'embedding', 'rerank'] as const),
  sdkCompatible: false,
  /** `{base}/v2/…`: a base given with or without `/v2` (or LiteLLM's `/v1`, which v2 replaces). */
  client(target, dispatcher) {
    const base = new URL(target.baseUrl);
    const basePath = `${pathOf(base).replace(/\/v[12]$/, '')}/v2`;
    const auth: Record<string, string> = {};
    if (target.apiKey !== undefined) auth.authorization = `Bearer ${target.apiKey}`;
    return buildClient(dispatcher, base, basePath, auth, target);
  },
  async chat(client, d, body, options, drop) {
    const answer = await postJson<Json>(
      client,
      d,
      '/chat',
      { ...toCohereChat(body, drop), stream: false },
      options,
      { field: 'message', what: 'a chat answer', kind: 'object' },
    );
    return fromCohereChat(answer, body.model);
  },
  openStream(client, d, body, options, drop) {
    const includeUsage =
      (body.stream_options as { include_usage?: unknown } | undefined)?.include_usage === true;
    return openStream(
      client,
      d,
      '/chat',
      { ...toCohereChat(body, drop), stream: true },
      options,
      reader(body.model, includeUsage),
    );
  },
  embedding: embed,
  rerank,
};
