/**
 * The gateway, LiteLLM-style: model groups of deployments, a balancing strategy, retries with
 * per-error policies, fallbacks, cooldowns and a response cache; `auto_router/…` entries put a
 * SemanticRouter in front, and `auto` picks from a pool by cost and quality.
 *
 * A request is composed of steps, each in its own file: prepare (`plan/request-body.ts`, before
 * anything is routed) → plan (`plan/resolve.ts`) → cache (`call/cache.ts`) → fallbacks
 * (`call/fallback.ts`) → retries (`call/retry.ts`, picking with `call/pick.ts`) → the upstream
 * call (`upstream/`).
 */
import { type GatewayConfig, type GatewayConfigInput, parseGatewayConfig } from '../config/gateway-schema.js';
import { adaptiveRouters } from '../config/adaptive-routers.js';
import { semanticModels } from '../config/semantic-models.js';
import { EncoderPool } from '../embeddings/pool.js';
import { ErrorCode, SemrouteError, UpstreamError } from '../errors.js';
import { withFields } from '../internal/objects.js';
import type { RouteResult, SemanticRouter } from '../semantic/semantic-router.js';
import { backoffDelay } from './backoff.js';
import { ResponseCache } from './call/cache.js';
import { withFallbacks } from './call/fallback.js';
import { Picker } from './call/pick.js';
import { type GroupRequest, type RetryDeps, withRetries } from './call/retry.js';
import { StickySessions } from './call/sticky.js';
import type { Deployment } from './deployment.js';
import { retriesFor } from './failure-policy.js';
import { Health } from './health.js';
import { type ListedModel, ModelTable } from './models.js';
import { checkExtraHeaders, estimateTokens, prepareChat, withoutAutoFields } from './plan/request-body.js';
import { type Plan, Planner } from './plan/resolve.js';
import { SemanticRouters } from './plan/semantic.js';
import { MemoryStateStore } from './state/memory.js';
import type { StateStore } from './state/state-store.js';
import { createStrategy } from './strategies/index.js';
import type {
  ChatBody,
  ChatChunk,
  ChatCompletion,
  ChatOutcome,
  Completion,
  EmbeddingResponse,
  GatewayEvents,
  GatewayIO,
  RequestOptions,
  Served,
} from './types.js';
import { upstreamBody } from './call/upstream-body.js';
import { postJson } from './upstream/exchange.js';
import { sseEvents } from './upstream/sse.js';
import { openStream, relay, replay } from './upstream/stream.js';
import { WIRES } from './upstream/wire.js';
import { toUpstreamError } from './upstream/errors.js';

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
  private readonly cache: ResponseCache;
  private readonly sticky: StickySessions;
  private readonly retryDeps: RetryDeps;
  private readonly events: Partial<GatewayEvents>;
  private readonly now: () => number;

  private constructor(
    readonly config: GatewayConfig,
    private readonly table: ModelTable,
    private readonly semantic: SemanticRouters,
    private readonly encoders: EncoderPool,
    io: GatewayIO,
  ) {
    this.store = io.store ?? new MemoryStateStore(io.clock);
    this.ownsStore = io.store === undefined;
    this.ownsEncoders = io.encoders === undefined;
    this.events = io.events ?? {};
    const now = io.clock ?? Date.now;
    this.now = now;
    const random = io.random ?? Math.random;
    const sleep = io.sleep ?? defaultSleep;
    const health = new Health(config, this.store, now, (e) => this.events.cooldown?.(e));
    const strategy = createStrategy(config, io.strategies);
    this.picker = new Picker({ config, table, health, store: this.store, strategy, now, random, sleep });
    this.cache = new ResponseCache(config, this.store);
    this.sticky = new StickySessions(this.store, config.sticky_session_ttl * 1000);
    this.planner = new Planner({ config, table, semantic, sticky: this.sticky, events: this.events });
    this.retryDeps = {
      pick: (group, options) => this.picker.pick(group, options),
      failed: (d, error) => health.failed(d, error.kind, error.status, error.message),
      onFailure: (group, d, error) => this.events.failure?.(group, d, error),
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
      onRetry: (group, d, error, delay) => this.events.retry?.(group, d, error, delay),
    };
  }

  /**
   * Builds a gateway from a config (parsed here unless `parseGatewayConfig` already did) and
   * compiles every semantic router now, not on the first request.
   */
  static async create(config: GatewayConfigInput | GatewayConfig, io: GatewayIO = {}): Promise<Gateway> {
    const parsed = parseGatewayConfig(config);
    const models = semanticModels(parsed, io.baseDir ?? process.cwd());
    const names = models.filter((m) => m.kind === 'auto_router').map((m) => m.model);
    const table = new ModelTable(
      parsed,
      names,
      io.dispatcher,
      adaptiveRouters(parsed, () => {}),
    );
    const encoders = io.encoders ?? new EncoderPool({ fetch: io.fetch });
    try {
      const semantic = await SemanticRouters.compile(models, table, encoders);
      return new Gateway(parsed, table, semantic, encoders, io);
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
    return this.planner.plan(body, options);
  }

  /** A chat completion, streamed or not, with retries, fallbacks, cooldowns and cache. */
  async chatCompletion(
    body: ChatBody & { model: string },
    options: RequestOptions = {},
  ): Promise<ChatOutcome> {
    const prepared = prepareChat(body, options.tags);
    const plan = await this.planner.plan(body, options);
    const upstreamChat = plan.pool === undefined ? prepared.body : withoutAutoFields(prepared.body);
    // A wildcard answers with the name asked for (as LiteLLM does), a group with its own name.
    const label = (group: string) =>
      group === plan.group && plan.wildcard !== undefined ? body.model : group;
    const { stream } = prepared;
    const cacheKey = this.cache.key(plan.group, body, stream);
    const hit = cacheKey === undefined ? undefined : await this.cache.get(cacheKey);
    if (hit !== undefined) {
      this.events.cacheHit?.(plan.group);
      const served = this.served(plan.group, hit.deploymentId, plan.route, 0, [], 0, true);
      return stream
        ? withFields(served, { stream: true as const, chunks: replay(hit.response) })
        : withFields(served, { stream: false as const, response: hit.response });
    }
    const tokens = estimateTokens(upstreamChat);
    let attempts = 0;
    let upstreamMs = 0;
    const deadline = this.deadline(prepared.timeoutMs ?? options.timeoutMs);
    const request = (first: boolean): GroupRequest => ({
      tokens: tokens.total,
      deadline,
      maxResponseBytes: this.config.max_response_bytes,
      prefer: first ? plan.prefer : undefined,
      tags: prepared.tags,
      signal: options.signal,
      timeoutOf: (d) => (stream ? d.streamTimeoutMs : d.timeoutMs) ?? this.config.timeout * 1000,
      requestTimeoutMs: prepared.timeoutMs ?? options.timeoutMs,
      onAttempt: (ms) => {
        attempts++;
        upstreamMs += ms;
      },
    });
    const { result, group, tried } = await withFallbacks(
      { config: this.config, table: this.table, onFallback: (f, t, e) => this.events.fallback?.(f, t, e) },
      { group: plan.group, pool: plan.pool, allowedModels: options.allowedModels, attempts: () => attempts },
      (group, first) => {
        this.checkContextWindow(group, tokens.input);
        // A fallback group is a group of its own: the wildcard's match belongs to the planned one.
        const wildcard = group === plan.group ? plan.wildcard : undefined;
        return withRetries(
          this.retryDeps,
          group,
          request(first),
          async ({ deployment: d, call, release }) => {
            const { target, model } = this.table.target(d, wildcard);
            const client = this.table.client(target);
            const wire = WIRES[target.provider.wire];
            const sent = upstreamBody(d, upstreamChat, model);
            const drop = d.dropParams ?? this.config.drop_params;
            const options = sent.headers === undefined ? call : { ...call, headers: sent.headers };
            if (stream) {
              const opened = await wire.openStream(client, d, sent.body, options, drop);
              const chunks = relay(opened, label(group), release, (e) => toUpstreamError(e, d, call.signal));
              return { result: { chunks, deploymentId: d.id } as ChatResult, tokens: tokens.total };
            }
            const response = await wire.chat(client, d, sent.body, options, drop);
            await release();
            return {
              result: { response, deploymentId: d.id } as ChatResult,
              tokens: response.usage?.total_tokens ?? tokens.total,
            };
          },
        );
      },
    );
    // Pin (or refresh) only when the planned model answered: an error never moves a session.
    if (plan.sticky !== undefined && tried.length === 0) {
      await this.sticky.pin(plan.sticky, { group, deployment: result.deploymentId });
    }
    const served = this.served(group, result.deploymentId, plan.route, attempts, tried, upstreamMs, false);
    if ('chunks' in result) return withFields(served, { stream: true as const, chunks: result.chunks });
    result.response.model = label(group);
    if (cacheKey !== undefined) await this.cache.set(cacheKey, result);
    return withFields(served, { stream: false as const, response: result.response });
  }

  /**
   * When a request must be answered: `request_timeout` (LiteLLM's, the whole request's budget;
   * default the larger of 600 s and the per-call `timeout`), or the request's own timeout when
   * shorter. Retries, Retry-After waits and fallbacks all fit in it.
   */
  private deadline(requestMs: number | undefined): number {
    const budget = this.config.request_timeout ?? Math.max(600, this.config.timeout);
    return this.now() + Math.min(requestMs ?? Infinity, budget * 1000);
  }

  /** Before any call: a request longer than every deployment's max_input_tokens goes to context_window_fallbacks. */
  private checkContextWindow(group: string, inputTokens: number): void {
    const all = this.table.deployments(group);
    if (
      all.length > 0 &&
      all.every((d) => d.info.maxInputTokens !== undefined && inputTokens > d.info.maxInputTokens)
    ) {
      throw new UpstreamError(
        'ContextWindowExceededError',
        `${group}: about ${inputTokens} input tokens exceed max_input_tokens`,
        undefined,
      );
    }
  }

  private served(
    model: string,
    deploymentId: string,
    route: RouteResult | undefined,
    attempts: number,
    fallbacksTried: string[],
    upstreamMs: number,
    cached: boolean,
  ): Served {
    return { model, deploymentId, route, attempts, fallbacksTried, cached, upstreamMs };
  }

  /** Embeddings through a group: aliases, allow-lists, retries, cooldowns and fallbacks as for chat. */
  async embedding(
    body: Record<string, unknown> & { model: string },
    options: RequestOptions = {},
  ): Promise<Served & { response: EmbeddingResponse }> {
    const requested = this.table.aliasTarget(body.model);
    const match = this.table.match(requested);
    if (match === undefined) throw this.table.notFound(body.model);
    const group = match.group;
    this.table.checkAllowed([body.model, requested, group], options.allowedModels);
    const { tags, metadata, ...rest } = body as typeof body & { tags?: unknown; metadata?: unknown };
    checkExtraHeaders(rest);
    const prepared = prepareChat({ messages: [], tags, metadata }, options.tags);
    const deadline = this.deadline(options.timeoutMs);
    let attempts = 0;
    let upstreamMs = 0;
    const {
      result,
      group: served,
      tried,
    } = await withFallbacks(
      { config: this.config, table: this.table, onFallback: (f, t, e) => this.events.fallback?.(f, t, e) },
      { group, pool: undefined, allowedModels: options.allowedModels, attempts: () => attempts },
      (g) =>
        withRetries(
          this.retryDeps,
          g,
          {
            tokens: 0,
            tags: prepared.tags,
            deadline,
            maxResponseBytes: this.config.max_response_bytes,
            signal: options.signal,
            timeoutOf: (d) => d.timeoutMs ?? this.config.timeout * 1000,
            requestTimeoutMs: options.timeoutMs,
            onAttempt: (ms) => {
              attempts++;
              upstreamMs += ms;
            },
          },
          async ({ deployment: d, call, release }) => {
            const { target, model } = this.table.target(d, g === group ? match.wildcard : undefined);
            const embed = WIRES[target.provider.wire].embedding;
            if (embed === undefined || !target.provider.embeddings) {
              throw new SemrouteError(
                ErrorCode.INPUT_INVALID,
                `${g}: ${target.provider.name} has no embeddings API semroute can call`,
                { path: 'model', expected: 'a model group of a provider with embeddings' },
              );
            }
            const sent = upstreamBody(d, rest, model);
            const options = sent.headers === undefined ? call : { ...call, headers: sent.headers };
            const response = await embed(this.table.client(target), d, sent.body, options);
            await release();
            response.model = g === group && match.wildcard !== undefined ? body.model : g;
            return { result: { response, deploymentId: d.id }, tokens: response.usage?.total_tokens ?? 0 };
          },
        ),
    );
    return withFields(
      this.served(served, result.deploymentId, undefined, attempts, tried, upstreamMs, false),
      {
        response: result.response,
      },
    );
  }

  /**
   * A legacy completion (`POST /completions`), passed through to OpenAI-compatible upstreams with
   * the same planning (a semantic router reads the prompt), retries, cooldowns and fallbacks as
   * chat. A deployment whose wire format has no such endpoint (Anthropic) is the request's 400.
   */
  async completion(
    body: Record<string, unknown> & { model: string; prompt: string },
    options: RequestOptions = {},
  ): Promise<
    Served & ({ stream: false; response: Completion } | { stream: true; chunks: AsyncIterable<Completion> })
  > {
    const { tags, metadata, ...rest } = body as typeof body & { tags?: unknown; metadata?: unknown };
    checkExtraHeaders(rest);
    const prepared = prepareChat({ messages: [], tags, metadata }, options.tags);
    // Planned as a one-message chat: a semantic router routes the prompt like any user message.
    const plan = await this.planner.plan(
      { model: body.model, messages: [{ role: 'user', content: body.prompt }] },
      options,
    );
    const stream = body.stream === true;
    const deadline = this.deadline(options.timeoutMs);
    let attempts = 0;
    let upstreamMs = 0;
    const { result, group, tried } = await withFallbacks(
      { config: this.config, table: this.table, onFallback: (f, t, e) => this.events.fallback?.(f, t, e) },
      { group: plan.group, pool: plan.pool, allowedModels: options.allowedModels, attempts: () => attempts },
      (group) => {
        const wildcard = group === plan.group ? plan.wildcard : undefined;
        return withRetries(
          this.retryDeps,
          group,
          {
            tokens:
              Math.ceil(body.prompt.length / 4) +
              (typeof body.max_tokens === 'number' ? body.max_tokens : 16),
            prefer: plan.prefer,
            tags: prepared.tags,
            deadline,
            maxResponseBytes: this.config.max_response_bytes,
            signal: options.signal,
            timeoutOf: (d) => (stream ? d.streamTimeoutMs : d.timeoutMs) ?? this.config.timeout * 1000,
            requestTimeoutMs: options.timeoutMs,
            onAttempt: (ms) => {
              attempts++;
              upstreamMs += ms;
            },
          },
          async ({ deployment: d, call, release }) => {
            const { target, model } = this.table.target(d, wildcard);
            if (target.provider.wire === 'anthropic') {
              throw new SemrouteError(
                ErrorCode.INPUT_INVALID,
                `${group}: ${target.provider.name} has no legacy completions endpoint: use /v1/chat/completions`,
                { path: 'model', expected: 'a model group served by an OpenAI-compatible upstream' },
              );
            }
            const client = this.table.client(target);
            const sent = upstreamBody(d, rest, model);
            const call2 = sent.headers === undefined ? call : { ...call, headers: sent.headers };
            const label = group === plan.group && plan.wildcard !== undefined ? body.model : group;
            if (stream) {
              const opened = await openStream(client, d, '/completions', sent.body, call2, sseEvents);
              const chunks = relay(opened, label, release, (e) => toUpstreamError(e, d, call.signal));
              const streamed = chunks as AsyncIterable<unknown> as AsyncIterable<Completion>;
              return { result: { chunks: streamed, deploymentId: d.id } as CompletionResult, tokens: 0 };
            }
            const response = await postJson<Completion>(
              client,
              d,
              '/completions',
              withFields(sent.body, { stream: false }),
              call2,
              {
                field: 'choices',
                what: 'a completion',
              },
            );
            await release();
            response.model = label;
            return {
              result: { response, deploymentId: d.id } as CompletionResult,
              tokens: response.usage?.total_tokens ?? 0,
            };
          },
        );
      },
    );
    const served = this.served(group, result.deploymentId, plan.route, attempts, tried, upstreamMs, false);
    if ('chunks' in result) return withFields(served, { stream: true as const, chunks: result.chunks });
    return withFields(served, { stream: false as const, response: result.response });
  }

  /** What would serve this request: route, group and deployment, without calling upstream. */
  async explain(
    body: ChatBody & { model: string },
    options: RequestOptions = {},
  ): Promise<{ model: string; deploymentId: string | undefined; route: RouteResult | undefined }> {
    const plan = await this.planner.plan(body, options);
    const d = await this.picker
      .pick(plan.group, {
        tokens: estimateTokens(body).total,
        prefer: plan.prefer,
        signal: options.signal,
        reserve: false,
      })
      .catch(() => undefined);
    return { model: plan.group, deploymentId: d?.id, route: plan.route };
  }

  async close(): Promise<void> {
    await this.semantic.close();
    if (this.ownsEncoders) await this.encoders.close();
    if (this.ownsStore) await this.store.close();
  }
}

type ChatResult =
  | { response: ChatCompletion; deploymentId: string }
  | { chunks: AsyncIterable<ChatChunk>; deploymentId: string };

type CompletionResult =
  | { response: Completion; deploymentId: string }
  | { chunks: AsyncIterable<Completion>; deploymentId: string };
