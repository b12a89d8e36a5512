/**
 * How a deployment is spoken to, one implementation per wire format behind one interface: the
 * OpenAI-compatible API (OpenAI, Azure and every compatible host) and Anthropic's Messages API.
 * Each takes a chat request in OpenAI's shape, naming its upstream model, and answers in it.
 */
import type { WireFormat } from '../../config/providers.js';
import type { Deployment } from '../deployment.js';
import type { ChatBody, ChatCompletion, EmbeddingResponse } from '../types.js';
import { anthropicWire } from './anthropic.js';
import type { CallOptions, UpstreamClient } from './client.js';
import { openaiWire } from './openai.js';
import type { OpenedStream } from './stream.js';

export type UpstreamChatBody = ChatBody & { model: string };

export interface Wire {
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
  ): Promise<OpenedStream>;
  /** Undefined when the format has no embeddings. */
  embedding:
    | ((
        client: UpstreamClient,
        d: Deployment,
        body: Record<string, unknown>,
        options: CallOptions,
      ) => Promise<EmbeddingResponse>)
    | undefined;
}

export const WIRES: Readonly<Record<WireFormat, Wire>> = Object.freeze({
  openai: openaiWire,
  azure: openaiWire,
  anthropic: anthropicWire,
});
