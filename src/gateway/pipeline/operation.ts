/**
 * What an endpoint is to the gateway's one pipeline: everything that differs between chat,
 * legacy completions and embeddings (and any future endpoint), and nothing else. The pipeline
 * (pipeline/run.ts) does the rest for all of them alike: the request's own fields, planning,
 * allow-lists, the context window, the cache, fallbacks, retries, cooldowns and the events.
 */
import type { Deployment } from '../deployment.js';
import type { TokenUsage } from '../events.js';
import type { CallOptions, UpstreamClient } from '../upstream/client.js';
import type { Capability, UpstreamBody, Wire } from '../upstream/wire.js';

export interface CallArgs {
  wire: Wire;
  client: UpstreamClient;
  deployment: Deployment;
  /** The body this deployment is sent (its defaults merged, its upstream model named). */
  body: UpstreamBody;
  call: CallOptions;
  /** Drop what the upstream cannot take (`drop_params`). */
  drop: boolean;
  /** The name answers carry: the group's, or for a wildcard the name asked for. */
  label: string;
  /** Ends the deployment's in-flight count; a stream calls it when its reader is done. */
  release(): Promise<void>;
}

export type CallResult<Answer, Chunk> =
  | { stream: false; response: Answer; tokens: number }
  | { stream: true; chunks: AsyncIterable<Chunk>; tokens: number };

export interface Operation<Body extends Record<string, unknown>, Answer, Chunk> {
  /** The lifecycle events' and metrics' name for it. */
  readonly endpoint: string;
  /** What the deployment's wire (and provider) must offer. */
  readonly capability: Capability;
  /** Identical requests may be answered from the response cache (`cache_responses`). */
  readonly cacheable: boolean;
  /**
   * The conversation a semantic router or `auto` decides on. Undefined: the model is a group
   * (or alias, or wildcard) by name, never routed (embeddings).
   */
  routingMessages?(body: Body): unknown[];
  /** Tokens expected: `input` for the context window, `total` for tpm. */
  estimate(body: Body): { input: number; total: number };
  /** One upstream call. */
  call(args: CallArgs): Promise<CallResult<Answer, Chunk>>;
  /** The usage an answer reports, in tokens. */
  usage(answer: Answer): Partial<TokenUsage> | undefined;
  /** The usage a stream chunk reports (OpenAI's last chunk with `include_usage`). */
  chunkUsage?(chunk: Chunk): Partial<TokenUsage> | undefined;
  /** The text of an answer, and of a stream chunk: shadow grading reads what was answered. */
  answerText?(answer: Answer): string | undefined;
  chunkText?(chunk: Chunk): string | undefined;
}

/** OpenAI's usage object in our terms. */
export function openaiUsage(
  usage: { prompt_tokens?: number; completion_tokens?: number; total_tokens?: number } | null | undefined,
): Partial<TokenUsage> | undefined {
  if (usage === null || usage === undefined) return undefined;
  return {
    prompt: usage.prompt_tokens ?? 0,
    completion: usage.completion_tokens ?? 0,
    total: usage.total_tokens ?? (usage.prompt_tokens ?? 0) + (usage.completion_tokens ?? 0),
  };
}
