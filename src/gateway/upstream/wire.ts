/**
 * How a deployment is spoken to, one implementation per wire format behind one interface: the
 * OpenAI-compatible API (OpenAI and every compatible host), Azure OpenAI's deployment paths,
 * Anthropic's Messages API, Amazon Bedrock, Cohere and Google Vertex AI. A wire owns its protocol: where a call goes (origin, path, query),
 * how it authenticates, what it can be asked for, and the translation of requests and answers
 * (each takes OpenAI's shapes, naming its upstream model, and answers in them).
 *
 * Adding a provider with a new protocol: a file here implementing `Wire`, one line in `WIRES`,
 * its entries in the provider table (config/providers.ts), and its fake (src/fake-upstream/).
 */
import type { Dispatcher } from 'undici';
import type { Target } from '../../config/targets.js';
import type { WireFormat } from '../../config/providers.js';
import type { Deployment } from '../deployment.js';
import type {
  ChatBody,
  ChatChunk,
  ChatCompletion,
  Completion,
  EmbeddingResponse,
  RerankResponse,
} from '../types.js';
import { anthropicWire } from './anthropic.js';
import { azureWire } from './azure.js';
import { bedrockWire } from './bedrock.js';
import { type CallOptions, sharedDispatcher, type UpstreamClient } from './client.js';
import { cohereWire } from './cohere.js';
import { openaiWire } from './openai.js';
import { vertexWire } from './vertex.js';
import type { OpenedStream } from './stream.js';

export type UpstreamChatBody = ChatBody & { model: string };
export type UpstreamBody = Record<string, unknown> & { model: string };

/** What a request asks an upstream for; a wire answers only what it lists. */
export type Capability = 'chat' | 'completion' | 'embedding' | 'rerank';

export interface Wire {
  readonly name: WireFormat;
  readonly capabilities: ReadonlySet<Capability>;
  /** The official OpenAI SDK can call it given a base URL and a key (remote encoders use it). */
  readonly sdkCompatible: boolean;
  /** Where and how to reach a target: origin, path prefix, query and auth headers. Built once. */
  client(target: Target, dispatcher: Dispatcher): UpstreamClient;
  chat(
    client: UpstreamClient,
    d: Deployment,
    body: UpstreamChatBody,
    options: CallOptions,
    drop: boolean,
  ): Promise<ChatCompletion>;
  /** Opens a stream and reads it to its first chunk (so that a failure before it can be retried). */
  openStream(
    client: UpstreamClient,
    d: Deployment,
    body: UpstreamChatBody,
    options: CallOptions,
    drop: boolean,
  ): Promise<OpenedStream<ChatChunk>>;
  /** OpenAI's legacy completions, when the format has them (capability `completion`). */
  completion?(
    client: UpstreamClient,
    d: Deployment,
    body: UpstreamBody,
    options: CallOptions,
  ): Promise<Completion>;
  openCompletionStream?(
    client: UpstreamClient,
    d: Deployment,
    body: UpstreamBody,
    options: CallOptions,
  ): Promise<OpenedStream<Completion>>;
  /** Embeddings, when the format has them (capability `embedding`). */
  embedding?(
    client: UpstreamClient,
    d: Deployment,
    body: UpstreamBody,
    options: CallOptions,
  ): Promise<EmbeddingResponse>;
  /** Reranking, when the format has it (capability `rerank`); the body is LiteLLM's /rerank body. */
  rerank?(
    client: UpstreamClient,
    d: Deployment,
    body: UpstreamBody,
    options: CallOptions,
  ): Promise<RerankResponse>;
}

export const WIRES: Readonly<Record<WireFormat, Wire>> = Object.freeze({
  openai: openaiWire,
  azure: azureWire,
  anthropic: anthropicWire,
  bedrock: bedrockWire,
  cohere: cohereWire,
  vertex: vertexWire,
});

/** The wire a target is spoken to over. */
export function wireOf(target: Target): Wire {
  return WIRES[target.provider.wire];
}

/** Whether a target can serve a capability: its wire has it, and for embeddings and reranking its provider too. */
export function canServe(target: Target, capability: Capability): boolean {
  if (!wireOf(target).capabilities.has(capability)) return false;
  if (capability === 'embedding') return target.provider.embeddings;
  if (capability === 'rerank') return target.provider.rerank === true;
  return true;
}

/** The client of a target, built by its wire. */
export function createClient(target: Target, dispatcher: Dispatcher = sharedDispatcher()): UpstreamClient {
  return wireOf(target).client(target, dispatcher);
}
