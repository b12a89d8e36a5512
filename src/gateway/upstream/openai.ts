/**
 * The OpenAI-compatible wire: OpenAI itself and every compatible host (vLLM, Ollama, Groq, …):
 * `{api_base}/chat/completions`, `/completions` and `/embeddings`, with a bearer key.
 */
import { withFields } from '../../internal/objects.js';
import { buildClient, pathOf } from './client.js';
import { callChat, callEmbedding, postJson } from './exchange.js';
import { rerankAnswer } from './rerank.js';
import { completionEvents, sseEvents } from './sse.js';
import { openStream } from './stream.js';
import type { Wire } from './wire.js';

/** The calls every OpenAI-compatible wire shares (Azure's differs only in how it is reached). */
export const openaiCalls = {
  capabilities: new Set(['chat', 'completion', 'embedding', 'rerank'] as const),
  // Every OpenAI parameter is the host's to take or refuse: nothing is dropped here.
  chat: (client, d, body, options) => callChat(client, d, body, options),
  openStream: (client, d, body, options) =>
    openStream(client, d, '/chat/completions', withFields(body, { stream: true }), options, sseEvents),
  completion: (client, d, body, options) =>
    postJson(client, d, '/completions', withFields(body, { stream: false }), options, {
      field: 'choices',
      what: 'a completion',
    }),
  openCompletionStream: (client, d, body, options) =>
    openStream(client, d, '/completions', withFields(body, { stream: true }), options, completionEvents),
  embedding: callEmbedding,
  // Hosts with a rerank endpoint (vLLM, Together) take Cohere's body as it is.
  rerank: async (client, d, body, options) => {
    const answer = await postJson<{
      id?: string;
      results: Array<{ index: number; relevance_score: number }>;
    }>(client, d, '/rerank', body, options, { field: 'results', what: 'a rerank answer' });
    return rerankAnswer(body, answer.results, answer.id ?? `rerank-${Date.now()}`);
  },
} satisfies Omit<Wire, 'name' | 'client' | 'sdkCompatible'>;

export const openaiWire: Wire = {
  name: 'openai',
  sdkCompatible: true,
  ...openaiCalls,
  client(target, dispatcher) {
    const base = new URL(target.baseUrl);
    let basePath = pathOf(base);
    // A provider whose conventional base names the server, not its OpenAI API (Ollama's
    // http://localhost:11434): the API is under its apiPath.
    const apiPath = target.provider.apiPath;
    if (apiPath !== undefined && !basePath.endsWith(apiPath)) basePath += apiPath;
    // Local servers (vLLM, Ollama, LM Studio) take any key; send one anyway, as the SDK does.
    const auth: Record<string, string> = { authorization: `Bearer ${target.apiKey ?? 'sk-no-key'}` };
    if (target.organization) auth['openai-organization'] = target.organization;
    return buildClient(dispatcher, base, basePath, auth, target);
  },
};
