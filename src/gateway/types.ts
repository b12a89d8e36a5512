/** The gateway's vocabulary: request bodies, answers, options and hooks, shared by its steps. */
import type OpenAI from 'openai';
import type { Dispatcher } from 'undici';
import type { EncoderPool } from '../embeddings/pool.js';
import type { RouteResult, SemanticRouter } from '../semantic/semantic-router.js';
import type { RequestContext } from './context.js';
import type { CostDecision } from './plan/complexity.js';
import type { ProviderPreferences } from './plan/provider-preferences.js';
import type { EventListeners } from './events.js';
import type { Account } from './spend/ledger.js';
import type { StateStore } from './state/state-store.js';
import type { BalancingStrategy, StrategyOptions } from './strategies/strategy.js';

export type ChatBody = Record<string, unknown> & { messages: unknown[]; stream?: boolean | null | undefined };
export type ChatCompletion = OpenAI.Chat.Completions.ChatCompletion;
export type ChatChunk = OpenAI.Chat.Completions.ChatCompletionChunk;
export type EmbeddingResponse = OpenAI.Embeddings.CreateEmbeddingResponse;
/** One ranked document of a rerank answer (Cohere's shape, which LiteLLM's /rerank answers in). */
export interface RerankResult {
  index: number;
  relevance_score: number;
  /** With `return_documents`: the document as the request gave it (text as `{ text }`). */
  document?: Record<string, unknown>;
}
export interface RerankResponse {
  id: string;
  results: RerankResult[];
  meta?: Record<string, unknown>;
}
/** A legacy completion (or one chunk of a streamed one). */
export type Completion = OpenAI.Completions.Completion;

export type {
  Attempt,
  AttemptOutcome,
  CooldownEvent,
  EventListeners,
  Finished,
  GatewayEvents,
  PlannedRequest,
  Success,
  TokenUsage,
} from './events.js';

/** Everything the gateway reaches outside itself, injectable. */
export interface GatewayIO {
  store?: StateStore | undefined;
  /** HTTP for upstream calls (undici); default one shared keep-alive pool. */
  dispatcher?: Dispatcher | undefined;
  /** fetch for remote encoders. */
  fetch?: typeof fetch | undefined;
  clock?: (() => number) | undefined;
  random?: (() => number) | undefined;
  sleep?: ((ms: number, signal?: AbortSignal) => Promise<void>) | undefined;
  /** Folder that relative paths (auto_router_config_path) resolve against. Default the cwd. */
  baseDir?: string | undefined;
  /** Encoders shared by the semantic routers (one model load for all); default a pool of its own. */
  encoders?: EncoderPool | undefined;
  /** Custom strategies by name, next to the built-in ones. */
  strategies?: Record<string, (options: StrategyOptions) => BalancingStrategy> | undefined;
  /** Lifecycle listeners (events.ts): one object, or several (each gets every event). */
  events?: EventListeners | readonly EventListeners[] | undefined;
  /** Headers each upstream call carries for its request's trace (W3C `traceparent`), when traced. */
  traceHeaders?: ((ctx: RequestContext) => Record<string, string> | undefined) | undefined;
}

export interface RequestOptions {
  /**
   * The request's identity (id, caller, arrival), made where it arrived; the gateway makes one
   * when none is given. Every lifecycle event carries it.
   */
  context?: RequestContext | undefined;
  signal?: AbortSignal | undefined;
  /** Timeout for each upstream call of this request, ms (body `timeout` in seconds sets it too). */
  timeoutMs?: number | undefined;
  /** x-session-id header for `auto` stickiness. */
  sessionId?: string | undefined;
  /** Model names this caller may use (virtual keys); undefined = all. */
  allowedModels?: readonly string[] | undefined;
  /** Who is asking (a hash of the key): sticky sessions are kept apart per caller. */
  caller?: string | undefined;
  /** Tags from the x-litellm-tags header (tag routing); the body's `tags` replace them. */
  tags?: readonly string[] | undefined;
  /** OpenRouter's provider preferences (the pipeline reads them from the body's `provider`). */
  provider?: ProviderPreferences | undefined;
  /** Routes with this SemanticRouter instead of the model's own (the route page tries unsaved edits). */
  semanticRouter?: SemanticRouter | undefined;
  /** Who pays, with the key's budget and limits (virtual keys); undefined: only the proxy's budget applies. */
  account?: Account | undefined;
}

export interface Served {
  /** The model group that answered. */
  model: string;
  deploymentId: string;
  /** The semantic decision, for auto_router entries and `auto`. */
  route: RouteResult | undefined;
  /** The cost-quality decision (complexity routers, prompt-aware `auto`). */
  decision?: CostDecision | undefined;
  /** A plain answer's cost at the deployment's prices (USD), when known; a stream's is in its `succeeded` event. */
  costUsd?: number | undefined;
  /** What a cost-quality decision saved against its most expensive candidate (USD). */
  savedUsd?: number | undefined;
  /** The key's spend in its budget window (after this answer; before it, for a stream), USD. */
  keySpendUsd?: number | undefined;
  /** The key's max_budget, when it has one. */
  keyBudgetUsd?: number | undefined;
  attempts: number;
  /** Groups tried before the one that answered. */
  fallbacksTried: string[];
  cached: boolean;
  /** Time spent waiting on upstreams (all attempts; to the first chunk for streams), ms. */
  upstreamMs: number;
}

export type ChatOutcome = Served &
  ({ stream: false; response: ChatCompletion } | { stream: true; chunks: AsyncIterable<ChatChunk> });
