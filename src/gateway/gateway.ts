/**
 * The gateway, LiteLLM-style: model groups of deployments, a balancing strategy, retries with
 * per-error policies, fallbacks, cooldowns and a response cache; `auto_router/…` entries put a
 * SemanticRouter in front, and `auto` picks from a pool by cost and quality. A facade: every
 * request runs through the one pipeline (pipeline/run.ts), as the operation of its endpoint
 * (pipeline/operations/).
 */
import { type GatewayConfig, type GatewayConfigInput, parseGatewayConfig } from '../config/gateway-schema.js';
import { adaptiveRouters } from '../config/adaptive-routers.js';
import { semanticModels } from '../config/semantic-models.js';
import { EncoderPool } from '../embeddings/pool.js';
import { ErrorCode, SemrouteError } from '../errors.js';
import type { RouteResult, SemanticRouter } from '../semantic/semantic-router.js';
import { backoffDelay } from './backoff.js';
import { ResponseCache } from './call/cache.js';
import { Picker, throughputKey } from './call/pick.js';
import type { RetryDeps } from './call/retry.js';
import { StickySessions } from './call/sticky.js';
import type { Deployment } from './deployment.js';
import { combineEvents, type EventListeners } from './events.js';
import { retriesFor } from './failure-policy.js';
import { Health } from './health.js';
import { type ListedModel, ModelTable } from './models.js';
import { completionOperation } from './pipeline/operations/completion.js';
import { chatOperation } from './pipeline/operations/chat.js';
import { embeddingOperation } from './pipeline/operations/embedding.js';
import { type RerankBody, rerankOperation } from './pipeline/operations/rerank.js';
import { Pipeline } from './pipeline/run.js';
import { estimateTokens } from './plan/request-body.js';
import { type AutoDifficulty, type Plan, Planner } from './plan/resolve.js';
import { SemanticRouters } from './plan/semantic.js';
import { ComplexityRouters, type CostDecision } from './plan/complexity.js';
import { cheapestPriced } from './pricing.js';
import { complexityRouters } from '../config/complexity-routers.js';
import { loadDifficultyModel } from '../difficulty/default-model.js';
import path from 'node:path';
import { MemoryStateStore } from './state/memory.js';
import { Ledger } from './spend/ledger.js';
import { DEFAULT_BUFFERED_BYTES, processBufferBudget } from './upstream/buffer-budget.js';
import type { StateStore } from './state/state-store.js';
import { createStrategy } from './strategies/index.js';
import type {
  ChatBody,
  ChatOutcome,
  Completion,
  EmbeddingResponse,
  RerankResponse,
  GatewayIO,
  RequestOptions,
  Served,
} from './types.js';

/**
 * Waits ms, or rejects when the signal fires first. The listener is removed when the wait ends:
 * the proxy's signal lives as long as the client's connection, across many requests.
 */
export const defaultSleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve, reject) => {
    const onAbort = () => {
      clearTimeout(timer);
      reject(new SemrouteError(ErrorCode.ABORTED, 'aborted while waiting to retry'));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });

export class Gateway {
  private readonly store: StateStore;
  /** Whether close() closes the store and encoders (false for what the caller passed in). */
  private readonly ownsStore: boolean;
  private readonly ownsEncoders: boolean;
  private readonly planner: Planner;
  private readonly picker: Picker;
  private readonly pipeline: Pipeline;
  /** Budgets and keys' limits: /key/info and /spend/* read it. */
  readonly ledger: Ledger;
  private readonly events: EventListeners;

  private constructor(
    readonly config: GatewayConfig,
    private readonly table: ModelTable,
    private readonly semantic: SemanticRouters,
    readonly complexity: ComplexityRouters,
    private readonly encoders: EncoderPool,
    io: GatewayIO,
  ) {
    this.store = io.store ?? new MemoryStateStore(io.clock);
    // The process's budget for answers held in memory: the newest config's limit applies.
    processBufferBudget.limit = config.max_buffered_bytes ?? DEFAULT_BUFFERED_BYTES;
    this.ownsStore = io.store === undefined;
    this.ownsEncoders = io.encoders === undefined;
    const listeners = io.events === undefined ? [] : Array.isArray(io.events) ? io.events : [io.events];
    this.events = listeners.length === 1 ? (listeners[0] as EventListeners) : combineEvents(listeners);
    const now = io.clock ?? Date.now;
    const random = io.random ?? Math.random;
    const sleep = io.sleep ?? defaultSleep;
    const health = new Health(config, this.store, now, (e) => this.events.cooldown?.(e));
    const strategy = createStrategy(config, io.strategies);
    this.picker = new Picker({ config, table, health, store: this.store, strategy, now, random, sleep });
    const cache = new ResponseCache(config, this.store);
    this.ledger = new Ledger({
      store: this.store,
      now,
      proxy:
        config.max_budget === undefined
          ? undefined
          : { maxBudgetUsd: config.max_budget, budgetDuration: config.budget_duration },
    });
    const sticky = new StickySessions(this.store, config.sticky_session_ttl * 1000);
    let autoDifficulty: ReturnType<AutoDifficulty> | undefined;
    this.planner = new Planner({
      config,
      table,
      semantic,
      complexity,
      // Loaded on the first `auto` request: a gateway that never sees one loads nothing.
      autoDifficulty: () => {
        if (config.auto_difficulty_model === 'none') return Promise.resolve(undefined);
        autoDifficulty ??= (async () => ({
          model: await loadDifficultyModel(
            config.auto_difficulty_model === 'default'
              ? 'default'
              : path.resolve(io.baseDir ?? process.cwd(), config.auto_difficulty_model),
          ),
          encoder: await encoders.get({ type: 'use-lite' }),
        }))();
        autoDifficulty.catch(() => {
          autoDifficulty = undefined;
        });
        return autoDifficulty;
      },
      sticky,
      events: this.events,
      measure: async (groups, sort) => {
        const ttl = (config.routing_strategy_args?.ttl ?? 60) * 1000;
        const out = new Map<string, number>();
        for (const g of groups) {
          const ids = this.table.deployments(g).map((d) => (sort === 'latency' ? d.id : throughputKey(d.id)));
          const values = [...(await this.store.latencies(ids, ttl)).values()];
          if (values.length > 0) out.set(g, sort === 'latency' ? Math.min(...values) : Math.max(...values));
        }
        return out;
      },
    });
    const retry: RetryDeps = {
      pick: (group, options) => this.picker.pick(group, options),
      failed: (d, error) => health.failed(d, error.kind, error.status, error.message),
      succeeded: async (d, ms, correction) => {
        await Promise.all([
          correction === 0 ? undefined : this.store.addUsage(d.id, 0, correction),
          this.store.recordLatency(d.id, ms),
        ]);
      },
      addInFlight: (id, delta) => this.store.addInFlight(id, delta),
      retries: (group, kind) => retriesFor(config, group, kind),
      delay: (attempt, error) =>
        backoffDelay(attempt, error.headers, { minMs: config.retry_after * 1000 }, random, now()),
      sleep,
      now,
    };
    this.pipeline = new Pipeline({
      config,
      table,
      planner: this.planner,
      cache,
      sticky,
      retry,
      events: this.events,
      now,
      ledger: this.ledger,
      traceHeaders: io.traceHeaders,
      recordThroughput: (id, tps) => void this.store.recordLatency(throughputKey(id), tps).catch(() => {}),
    });
  }

  /**
   * Builds a gateway from a config (parsed here unless `parseGatewayConfig` already did) and
   * compiles every semantic router now, not on the first request.
   */
  static async create(config: GatewayConfigInput | GatewayConfig, io: GatewayIO = {}): Promise<Gateway> {
    const parsed = parseGatewayConfig(config);
    const models = semanticModels(parsed, io.baseDir ?? process.cwd());
    const names = models.filter((m) => m.kind === 'auto_router').map((m) => m.model);
    const complexitySpecs = complexityRouters(parsed, io.baseDir ?? process.cwd());
    const table = new ModelTable(
      parsed,
      names,
      io.dispatcher,
      adaptiveRouters(parsed, () => {}),
      complexitySpecs.map((c) => c.model),
    );
    const encoders = io.encoders ?? new EncoderPool({ fetch: io.fetch });
    try {
      const semantic = await SemanticRouters.compile(models, table, encoders);
      const complexity = await ComplexityRouters.compile(
        complexitySpecs,
        table,
        encoders,
        io.random ?? Math.random,
      );
      return new Gateway(parsed, table, semantic, complexity, encoders, io);
    } catch (error) {
      if (io.encoders === undefined) await encoders.close();
      throw error;
    }
  }

  /** Names a client may ask for: groups, aliases, auto_router entries and `auto`. */
  listModels(): ListedModel[] {
    return this.table.list();
  }

  deployments(group: string): readonly Deployment[] {
    return this.table.deployments(group);
  }

  /** Each semantic router with the encoder it embeds with and why. */
  semanticRouters() {
    return this.semantic.describe();
  }

  /** The SemanticRouter serving a model (an `auto_router/…` entry, or `auto`). */
  semanticRouter(model: string): SemanticRouter | undefined {
    return this.semantic.get(model)?.router;
  }

  /** Compiles unsaved router.json edits for a semantic model, with that model's encoder (the route page). */
  async compileDraft(model: string, config: unknown): Promise<SemanticRouter> {
    const draft = await this.semantic.compileDraft(model, config);
    if (draft === undefined) {
      throw new SemrouteError(ErrorCode.MODEL_NOT_FOUND, `"${model}" is not a semantic router`, {
        path: 'model',
      });
    }
    return draft;
  }

  /** Decides where a chat request goes, without calling anything. */
  plan(body: ChatBody & { model: string }, options: RequestOptions = {}): Promise<Plan> {
    return this.planner.plan(body, { ...options, context: this.pipeline.context('chat', options) });
  }

  /** A chat completion, streamed or not, with retries, fallbacks, cooldowns and cache. */
  chatCompletion(body: ChatBody & { model: string }, options: RequestOptions = {}): Promise<ChatOutcome> {
    return this.pipeline.run(chatOperation, body, options);
  }

  /** Embeddings through a group: aliases, allow-lists, retries, cooldowns and fallbacks as for chat. */
  async embedding(
    body: Record<string, unknown> & { model: string },
    options: RequestOptions = {},
  ): Promise<Served & { response: EmbeddingResponse }> {
    const outcome = await this.pipeline.run(embeddingOperation, body, options);
    if (outcome.stream) throw new SemrouteError(ErrorCode.INPUT_INVALID, 'embeddings are never streamed');
    return outcome;
  }

  /** Documents ranked against a query through a group (LiteLLM's /rerank), as embeddings are served. */
  async rerank(
    body: RerankBody & { model: string },
    options: RequestOptions = {},
  ): Promise<Served & { response: RerankResponse }> {
    const outcome = await this.pipeline.run(rerankOperation, body, options);
    if (outcome.stream) throw new SemrouteError(ErrorCode.INPUT_INVALID, 'reranking is never streamed');
    return outcome;
  }

  /**
   * A legacy completion (`POST /completions`), passed through to upstreams that have the
   * endpoint, planned as chat (a semantic router reads the prompt). A deployment whose wire has
   * no such endpoint (Anthropic) is the request's 400, and no fallback changes that.
   */
  completion(
    body: Record<string, unknown> & { model: string; prompt: string },
    options: RequestOptions = {},
  ): Promise<
    Served & ({ stream: false; response: Completion } | { stream: true; chunks: AsyncIterable<Completion> })
  > {
    return this.pipeline.run(completionOperation, body, options);
  }

  /** What would serve this request: route, tier, group and deployment, without calling upstream. */
  async explain(
    body: ChatBody & { model: string },
    options: RequestOptions = {},
  ): Promise<{
    model: string;
    deploymentId: string | undefined;
    route: RouteResult | undefined;
    decision: CostDecision | undefined;
    prices: Record<string, { input: number | undefined; output: number | undefined }>;
  }> {
    // An explanation is no decision: planned without a request context, it emits no route event
    // (Recent decisions, metrics and the decision log count only requests served).
    const { context: _context, ...rest } = options;
    const plan = await this.planner.plan(body, rest);
    const d = await this.picker
      .pick(plan.group, {
        tokens: estimateTokens(body).total,
        prefer: plan.prefer,
        signal: options.signal,
        reserve: false,
      })
      .catch(() => undefined);
    const prices: Record<string, { input: number | undefined; output: number | undefined }> = {};
    for (const group of plan.decision?.candidates ?? []) {
      const priced = cheapestPriced(this.table.deployments(group));
      prices[group] = { input: priced?.info.inputCostPerToken, output: priced?.info.outputCostPerToken };
    }
    return { model: plan.group, deploymentId: d?.id, route: plan.route, decision: plan.decision, prices };
  }

  async close(): Promise<void> {
    await this.semantic.close();
    if (this.ownsEncoders) await this.encoders.close();
    if (this.ownsStore) await this.store.close();
  }
}
