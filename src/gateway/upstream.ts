/**
 * Calls one deployment with the official `openai` client (one client per deployment, its own
 * retries off: the Router owns retries). Every failure becomes an UpstreamError with a kind.
 */
import OpenAI from 'openai';
import { classifyUpstream, ErrorCode, SemrouteError, UpstreamError } from '../errors.js';
import type { ModelEntry } from './config.js';
import type { Deployment } from './deployment.js';

export type ChatBody = Record<string, unknown> & { messages: unknown[]; stream?: boolean | null };
export type ChatCompletion = OpenAI.Chat.Completions.ChatCompletion;
export type ChatChunk = OpenAI.Chat.Completions.ChatCompletionChunk;
export type EmbeddingResponse = OpenAI.Embeddings.CreateEmbeddingResponse;

export interface CallOptions {
  signal?: AbortSignal | undefined;
  timeoutMs: number;
}

export function createClient(entry: ModelEntry, fetchImpl: typeof fetch | undefined): OpenAI {
  const p = entry.litellm_params;
  const azure = p.model.startsWith('azure/') && p.api_base !== undefined;
  return new OpenAI({
    // Local servers (vLLM, Ollama, LM Studio) take any key; the SDK insists on one.
    apiKey: p.api_key ?? 'sk-no-key',
    baseURL: azure
      ? `${p.api_base!.replace(/\/+$/, '')}/openai/deployments/${p.model.slice('azure/'.length)}`
      : (p.api_base ?? 'https://api.openai.com/v1'),
    ...(azure
      ? {
          defaultQuery: { 'api-version': p.api_version ?? '2024-06-01' },
          defaultHeaders: { 'api-key': p.api_key ?? '' },
        }
      : {}),
    ...(p.organization ? { organization: p.organization } : {}),
    maxRetries: 0,
    ...(fetchImpl ? { fetch: fetchImpl } : {}),
  });
}

/** Maps anything the client throws to UpstreamError (or ABORTED when the caller aborted). */
export function toUpstreamError(
  error: unknown,
  deployment: Deployment,
  signal: AbortSignal | undefined,
): SemrouteError {
  if (error instanceof SemrouteError) return error;
  if (signal?.aborted)
    return new SemrouteError(ErrorCode.ABORTED, 'The request was aborted by the client', { cause: error });
  const e = error as {
    status?: number;
    message?: string;
    headers?: Headers | Record<string, string>;
    code?: string | null;
    error?: { message?: string; code?: string };
  };
  const message = e.error?.message ?? e.message ?? String(error);
  const isTimeout = error instanceof OpenAI.APIConnectionTimeoutError;
  const kind = isTimeout ? 'Timeout' : classifyUpstream(e.status, message, e.error?.code ?? e.code ?? null);
  const headers: Record<string, string> = {};
  if (e.headers instanceof Headers) {
    for (const [k, v] of e.headers.entries()) headers[k.toLowerCase()] = v;
  } else if (e.headers) for (const [k, v] of Object.entries(e.headers)) headers[k.toLowerCase()] = String(v);
  return new UpstreamError(kind, `${deployment.group} (${deployment.id}): ${message}`, e.status, headers, {
    cause: error,
  });
}

export async function callChat(
  client: OpenAI,
  deployment: Deployment,
  body: ChatBody,
  options: CallOptions,
): Promise<ChatCompletion> {
  try {
    return (await client.chat.completions.create(
      {
        ...body,
        model: deployment.model,
        stream: false,
      } as OpenAI.Chat.Completions.ChatCompletionCreateParamsNonStreaming,
      { signal: options.signal, timeout: options.timeoutMs },
    )) as ChatCompletion;
  } catch (error) {
    throw toUpstreamError(error, deployment, options.signal);
  }
}

/**
 * Opens a stream and waits for its first chunk, so that a failure before any byte reaches the
 * client can still be retried or fall back. Returns the first chunk and the rest.
 */
export async function openChatStream(
  client: OpenAI,
  deployment: Deployment,
  body: ChatBody,
  options: CallOptions,
): Promise<{ first: ChatChunk | undefined; rest: AsyncIterator<ChatChunk>; abort: () => void }> {
  try {
    const stream = await client.chat.completions.create(
      {
        ...body,
        model: deployment.model,
        stream: true,
      } as OpenAI.Chat.Completions.ChatCompletionCreateParamsStreaming,
      { signal: options.signal, timeout: options.timeoutMs },
    );
    const iterator = stream[Symbol.asyncIterator]();
    const first = await iterator.next();
    return {
      first: first.done ? undefined : first.value,
      rest: iterator,
      abort: () => stream.controller.abort(),
    };
  } catch (error) {
    throw toUpstreamError(error, deployment, options.signal);
  }
}

export async function callEmbedding(
  client: OpenAI,
  deployment: Deployment,
  body: Record<string, unknown>,
  options: CallOptions,
): Promise<EmbeddingResponse> {
  try {
    return await client.embeddings.create(
      { ...body, model: deployment.model } as OpenAI.Embeddings.EmbeddingCreateParams,
      {
        signal: options.signal,
        timeout: options.timeoutMs,
      },
    );
  } catch (error) {
    throw toUpstreamError(error, deployment, options.signal);
  }
}
