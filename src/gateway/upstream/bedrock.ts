/**
 * Amazon Bedrock, natively: chat through the Converse API (`POST /model/{id}/converse`) and
 * ConverseStream (`/converse-stream`, answered in AWS's event-stream framing), embeddings of
 * Titan and Cohere models and reranking with Cohere's and Amazon's rerank models through
 * InvokeModel (`/model/{id}/invoke`). Every call is signed with
 * SigV4 (service `bedrock`), or carries a Bedrock API key as a bearer token. The model id goes
 * in the path, percent-encoded (`us.anthropic.claude-3-5-sonnet-20240620-v1:0`, an inference
 * profile's ARN); LiteLLM's route prefixes `converse/` and `invoke/` are read and removed.
 */
import { classifyUpstream, UpstreamError } from '../../errors.js';
import type { Deployment } from '../deployment.js';
import type { ChatChunk, EmbeddingResponse, RerankResponse } from '../types.js';
import {
  AnthropicStreamTranslator,
  fromAnthropicMessage,
  toAnthropicRequest,
  wantsJson,
} from './anthropic-translate.js';
import { ConverseStreamAdapter, fromConverseResponse, toConverseRequest } from './bedrock-translate.js';
import { buildClient, type CallOptions, pathOf, type UpstreamClient } from './client.js';
import { malformedAnswer, upstreamName } from './errors.js';
import { EventStreamDecoder, EventStreamError } from './event-stream.js';
import { embeddingList } from './embedding-list.js';
import { postJson } from './exchange.js';
import { documentTexts, rerankAnswer } from './rerank.js';
import { signRequest } from './sigv4.js';
import { openStream } from './stream.js';
import type { UpstreamBody, Wire } from './wire.js';

type Json = Record<string, unknown>;

/** The model id of a deployment's upstream model, as the path carries it. */
export function modelPath(model: string): string {
  return `/model/${encodeURIComponent(model.replace(/^(converse|invoke)\//, ''))}`;
}

/** ConverseStream's exception types (camelCase in the `:exception-type` header) as statuses. */
const EXCEPTION_STATUS: Readonly<Record<string, number>> = {
  validationException: 400,
  accessDeniedException: 403,
  resourceNotFoundException: 404,
  modelTimeoutException: 408,
  throttlingException: 429,
  modelStreamErrorException: 424,
  internalServerException: 500,
  serviceUnavailableException: 503,
};

function reader(model: string, json: boolean, includeUsage: boolean) {
  return async function* chunks(
    body: AsyncIterable<Buffer>,
    deployment: Deployment,
  ): AsyncGenerator<ChatChunk> {
    const decoder = new EventStreamDecoder();
    const adapter = new ConverseStreamAdapter(model);
    const translator = new AnthropicStreamTranslator(json, includeUsage);
    for await (const bytes of body) {
      let messages: ReturnType<EventStreamDecoder['push']>;
      try {
        messages = decoder.push(bytes);
      } catch (error) {
        if (error instanceof EventStreamError)
          throw malformedAnswer(deployment, `a broken event stream: ${error.message}`);
        throw error;
      }
      for (const { headers, payload } of messages) {
        const kind = headers[':message-type'];
        const data = JSON.parse(payload.toString('utf8') || '{}') as Json;
        if (kind === 'exception' || kind === 'error') {
          const type = String(headers[':exception-type'] ?? headers[':error-code'] ?? 'error');
          const status = EXCEPTION_STATUS[type] ?? 500;
          const message = String(data.message ?? headers[':error-message'] ?? 'exception in stream');
          throw new UpstreamError(
            classifyUpstream(status, message, type),
            `${upstreamName(deployment)} sent ${type} mid-stream: ${message}`,
            status,
          );
        }
        for (const [event, translated] of adapter.push(String(headers[':event-type'] ?? ''), data))
          yield* translator.push(event, translated);
      }
    }
    if (decoder.pending > 0) throw malformedAnswer(deployment, 'an event stream cut inside a message');
    for (const [event, translated] of adapter.end()) yield* translator.push(event, translated);
  };
}

/** OpenAI embeddings from Titan (one text a call) or Cohere (a list a call) on Bedrock. */
async function embed(
  client: UpstreamClient,
  d: Deployment,
  body: UpstreamBody,
  options: CallOptions,
): Promise<EmbeddingResponse> {
  const input = body.input;
  const texts = (Array.isArray(input) ? input : [input]).map((t) => String(t));
  const path = `${modelPath(body.model)}/invoke`;
  const vectors: number[][] = [];
  let tokens = 0;
  if (/cohere\./.test(body.model)) {
    const answer = await postJson<{ embeddings: number[][] }>(
      client,
      d,
      path,
      { texts, input_type: 'search_document' },
      options,
      { field: 'embeddings', what: 'a Cohere embeddings answer' },
    );
    vectors.push(...answer.embeddings);
  } else {
    for (const text of texts) {
      const answer = await postJson<{ embedding: number[]; inputTextTokenCount?: number }>(
        client,
        d,
        path,
        { inputText: text, ...(typeof body.dimensions === 'number' ? { dimensions: body.dimensions } : {}) },
        options,
        { field: 'embedding', what: 'a Titan embeddings answer' },
      );
      vectors.push(answer.embedding);
      tokens += answer.inputTextTokenCount ?? 0;
    }
  }
  return embeddingList(body.model, vectors, tokens, body.encoding_format);
}

/** Cohere's (and Amazon's) rerank models through InvokeModel: Cohere's v2 body, api_version 2. */
async function rerank(
  client: UpstreamClient,
  d: Deployment,
  body: UpstreamBody,
  options: CallOptions,
): Promise<RerankResponse> {
  const answer = await postJson<{ id?: string; results: Array<{ index: number; relevance_score: number }> }>(
    client,
    d,
    `${modelPath(body.model)}/invoke`,
    {
      query: body.query,
      documents: documentTexts(body),
      ...(typeof body.top_n === 'number' ? { top_n: body.top_n } : {}),
      ...(/cohere\./.test(body.model) ? { api_version: 2 } : {}),
    },
    options,
    { field: 'results', what: 'a rerank answer' },
  );
  return rerankAnswer(body, answer.results, answer.id ?? `rerank-${Date.now()}`);
}

export const bedrockWire: Wire = {
  name: 'bedrock',
  capabilities: new Set(['chat', 'embedding', 'rerank'] as const),
  sdkCompatible: false,
  client(target, dispatcher) {
    const base = new URL(target.baseUrl);
    const aws = target.aws;
    const auth: Record<string, string> = {};
    if (aws?.bearerToken !== undefined) auth.authorization = `Bearer ${aws.bearerToken}`;
    const client = buildClient(dispatcher, base, pathOf(base), auth, target);
    const credentials = aws?.credentials;
    if (credentials !== undefined && aws !== undefined) {
      const host = base.host;
      client.authorize = ({ path, body }) =>
        signRequest(
          { method: 'POST', path, query: '', headers: { host, 'content-type': 'application/json' }, body },
          credentials,
          aws.region,
          'bedrock',
          new Date(),
        );
    }
    return client;
  },
  async chat(client, d, body, options, drop) {
    const message = await postJson<Json>(
      client,
      d,
      `${modelPath(body.model)}/converse`,
      toConverseRequest(toAnthropicRequest(body, drop, 'Bedrock Converse')),
      options,
      { field: 'output', what: 'a Converse answer', kind: 'object' },
    );
    return fromAnthropicMessage(fromConverseResponse(message, body.model), wantsJson(body));
  },
  openStream(client, d, body, options, drop) {
    const includeUsage =
      (body.stream_options as { include_usage?: unknown } | undefined)?.include_usage === true;
    return openStream(
      client,
      d,
      `${modelPath(body.model)}/converse-stream`,
      toConverseRequest(toAnthropicRequest(body, drop, 'Bedrock Converse')),
      options,
      reader(body.model, wantsJson(body), includeUsage),
    );
  },
  embedding: embed,
  rerank,
};
