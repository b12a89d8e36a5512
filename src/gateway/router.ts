/**
 * The gateway Router, LiteLLM-style: model groups of deployments, a balancing strategy,
 * retries with per-error policies, fallbacks, cooldowns and a response cache; `auto_router/…`
 * entries put a SemanticRouter in front, and `auto` picks from a pool by cost and quality.
 * Compose, don't nest: resolve → (cache) → group call with retries → fallbacks.
 */
import { createHash } from 'node:crypto';
import path from 'node:path';
import type { Dispatcher } from 'undici';
import type { Encoder } from '../embeddings/encoder.js';
import { ErrorCode, SemrouteError, UpstreamError } from '../errors.js';
import { withFields } from '../internal/objects.js';
import type { RouteResult } from '../semantic/semantic-router.js';
import { SemanticRouter } from '../semantic/semantic-router.js';
import { AUTO_MODELS, autoOptions, filterPool, profileGroup, rankByTradeoff, sessionKey } from './auto.js';
import { backoffDelay } from './backoff.js';
import {
  type GatewayConfig,
  type GatewayConfigInput,
  type ModelEntry,
  parseGatewayConfig,
  toDeployment,
} from './config.js';
import type { Deployment } from './deployment.js';
import { type CooldownEvent, Health } from './health.js';
import { fallsBack, retriesFor } from './retry-policy.js';
import { MemoryStateStore } from './state/memory.js';
import type { StateStore } from './state/state-store.js';
import { STRATEGIES } from './strategies/index.js';
import type { BalancingStrategy } from './strategies/strategy.js';
import { relay, replay } from './streams.js';
import {
  type ChatBody,
  type ChatChunk,
  type ChatCompletion,
  callChat,
  callEmbedding,
  createClient,
  type EmbeddingResponse,
  openChatStream,
  toUpstreamError,
  type UpstreamClient,
} from './upstream.js';

export interface RouterIO {
  store?: StateStore | undefined;
  /** HTTP for upstream calls (undici); default one shared keep-alive pool. */
  dispatcher?: Dispatcher | undefined;
  /** fetch for remote encoders (OpenAI embeddings through the SDK). */
  fetch?: typeof fetch | undefined;
  clock?: (() => number) | undefined;
  random?: (() => number) | undefined;
  sleep?: ((ms: number, signal?: AbortSignal) => Promise<void>) | undefined;
  /** Folder that relative paths (auto_router_config_path) resolve against. */
  baseDir?: string | undefined;
  /** Shared local encoder for semantic routers (one model load for all). */
  encoder?: Encoder | undefined;
  /** Custom strategies by name, next to the built-in ones. */
  strategies?: Record<string, (options: object) => BalancingStrategy> | undefined;
  /** Observability hooks (metrics, logs). */
  events?: Partial<RouterEvents> | undefined;
}

export interface RouterEvents {
  retry(group: string, deployment: Deployment, error: UpstreamError, delayMs: number): void;
  fallback(from: string, to: string, error: SemrouteError): void;
  cooldown(event: CooldownEvent): void;
  cacheHit(model: string): void;
  /** A semantic decision; `messages` is what was routed on (for logs that keep prompts). */
  route(model: string, result: RouteResult, messages: unknown): void;
}

export interface RequestOptions {
  signal?: AbortSignal | undefined;
  /** Timeout for each upstream call of this request, ms (body `timeout` in seconds sets it too). */
  timeoutMs?: number | undefined;
  /** x-session-id header for `auto` stickiness. */
  sessionId?: string | undefined;
  /** Model groups this caller may use (virtual keys); undefined = all. */
  allowedModels?: readonly string[] | undefined;
  /** Routes with this SemanticRouter instead of the model's own (the route page tries unsaved edits). */
  semanticRouter?: SemanticRouter | undefined;
}

export interface Served {
  /** The model group that answered. */
  model: string;
  deploymentId: string;
  /** The semantic decision, for auto_router entries and `auto`. */
  route: RouteResult | undefined;
  attempts: number;
  /** Groups tried before the one that answered. */
  fallbacksTried: string[];
  cached: boolean;
  /** Time spent waiting on upstreams (all attempts; to the first chunk for streams), ms. */
  upstreamMs: number;
}

export type ChatOutcome = Served &
  ({ stream: false; response: ChatCompletion } | { stream: true; chunks: AsyncIterable<ChatChunk> });

type GroupResult =
  | { kind: 'json'; response: ChatCompletion; deploymentId: string }
  | { kind: 'stream'; chunks: AsyncIterable<ChatChunk>; deploymentId: string };

interface SemanticEntry {
  router: SemanticRouter;
  defaultModel: string;
}

interface Plan {
  /** Groups to try in order before fallbacks. */
  group: string;
  route: RouteResult | undefined;
  /** Deployment pinned by a sticky session. */
  prefer: string | undefined;
  sticky: string | undefined;
  pool: string[] | undefined;
}

/**
 * Waits ms, or rejects when the signal fires first. The listener is removed when the wait ends:
 * the proxy's signal lives as long as the client's connection, across many requests.
 */
const defaultSleep = (ms: number, signal?: AbortSignal) =>
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

export class Router {
  readonly config: GatewayConfig;
  private readonly groups = new Map<string, Deployment[]>();
  private readonly entries = new Map<string, ModelEntry>();
  private readonly clients = new Map<string, UpstreamClient>();
  private readonly semantic = new Map<string, SemanticEntry>();
  private autoSemantic: SemanticRouter | undefined;
  private readonly store: StateStore;
  /** Whether close() closes the store (false when the caller passed one in, e.g. across hot reloads). */
  private readonly ownsStore: boolean;
  private readonly health: Health;
  private readonly strategy: BalancingStrategy;
  private readonly now: () => number;
  private readonly random: () => number;
  private readonly sleep: (ms: number, signal?: AbortSignal) => Promise<void>;
  private readonly events: Partial<RouterEvents>;

  private constructor(
    config: GatewayConfig,
    private readonly io: RouterIO,
  ) {
    this.config = config;
    this.store = io.store ?? new MemoryStateStore(io.clock);
    this.ownsStore = io.store === undefined;
    this.now = io.clock ?? Date.now;
    this.random = io.random ?? Math.random;
    this.sleep = io.sleep ?? defaultSleep;
    this.events = io.events ?? {};
    this.health = new Health(config, this.store, this.now, (e) => this.events.cooldown?.(e));
    const factory = io.strategies?.[config.routing_strategy] ?? STRATEGIES[config.routing_strategy];
    if (factory === undefined) {
      throw new SemrouteError(
        ErrorCode.CONFIG_INVALID,
        `routing_strategy "${config.routing_strategy}" is unknown`,
        {
          path: 'routing_strategy',
          expected: [...Object.keys(STRATEGIES), ...Object.keys(io.strategies ?? {})].join(' | '),
        },
      );
    }
    this.strategy = factory({
      ttlMs: (config.routing_strategy_args?.ttl ?? 60) * 1000,
      lowestLatencyBuffer: config.routing_strategy_args?.lowest_latency_buffer,
    });
    for (const entry of config.model_list) {
      if (entry.litellm_params.model.startsWith('auto_router/')) continue;
      const d = toDeployment(entry);
      if (this.entries.has(d.id)) {
        throw new SemrouteError(
          ErrorCode.CONFIG_INVALID,
          `Two deployments share the id ${d.id} (${d.group})`,
          {
            path: 'model_list',
            expected: 'distinct model_info.id or parameters',
          },
        );
      }
      this.entries.set(d.id, entry);
      this.clients.set(d.id, createClient(entry, io.dispatcher));
      this.groups.set(d.group, [...(this.groups.get(d.group) ?? []), d]);
    }
  }

  /** Validates the config and compiles every semantic router now, not on the first request. */
  static async create(config: GatewayConfigInput | GatewayConfig, io: RouterIO = {}): Promise<Router> {
    const router = new Router(parseGatewayConfig(config), io);
    await router.compileSemantic();
    return router;
  }

  private async compileSemantic(): Promise<void> {
    const base = this.io.baseDir ?? process.cwd();
    for (const entry of this.config.model_list) {
      const p = entry.litellm_params;
      if (!p.model.startsWith('auto_router/')) continue;
      if (p.auto_router_config_path === undefined && p.auto_router_config === undefined) {
        throw new SemrouteError(
          ErrorCode.CONFIG_INVALID,
          `${entry.model_name}: auto_router needs auto_router_config_path`,
          {
            path: 'litellm_params.auto_router_config_path',
          },
        );
      }
      const options = { encoder: await this.encoderFor(p.auto_router_embedding_model), fetch: this.io.fetch };
      const router =
        p.auto_router_config !== undefined
          ? await SemanticRouter.fromConfig(p.auto_router_config, options)
          : await SemanticRouter.fromFile(path.resolve(base, p.auto_router_config_path!), options);
      this.semantic.set(entry.model_name, {
        router,
        defaultModel: p.auto_router_default_model ?? router.routerConfig.default_route ?? '',
      });
    }
    if (this.config.auto_router_config_path !== undefined) {
      this.autoSemantic = await SemanticRouter.fromFile(
        path.resolve(base, this.config.auto_router_config_path),
        {
          encoder: await this.encoderFor(undefined),
        },
      );
    }
  }

  /**
   * Compiles a router.json for one of this router's semantic models (an `auto_router/…` entry or
   * `auto`) with the encoder that model uses, without installing it: the route page tries
   * unsaved edits with it (`RequestOptions.semanticRouter`).
   */
  async compileDraft(model: string, config: unknown): Promise<SemanticRouter> {
    const entry = this.config.model_list.find(
      (e) => e.model_name === model && e.litellm_params.model.startsWith('auto_router/'),
    );
    if (entry === undefined && model !== 'auto') {
      throw new SemrouteError(ErrorCode.MODEL_NOT_FOUND, `"${model}" is not a semantic router`, {
        details: { status: 404 },
      });
    }
    const encoder = await this.encoderFor(entry?.litellm_params.auto_router_embedding_model);
    return SemanticRouter.fromConfig(config, { encoder, fetch: this.io.fetch });
  }

  /**
   * The encoder of an auto_router: a model_list group serving embeddings (called like any
   * OpenAI-compatible endpoint), or the shared local encoder. Never an implicit network one.
   */
  private async encoderFor(name: string | undefined): Promise<Encoder | undefined> {
    const group = name === undefined ? undefined : this.groups.get(name);
    if (group !== undefined) {
      const { OpenAIEncoder } = await import('../embeddings/openai.js');
      const entry = this.entries.get(group[0]!.id)!;
      return OpenAIEncoder.load({
        model: group[0]!.model,
        apiKey: entry.litellm_params.api_key ?? 'sk-no-key',
        baseURL: entry.litellm_params.api_base,
        fetch: this.io.fetch,
      });
    }
    return this.io.encoder;
  }

  /** Names a client may ask for: groups, aliases, auto_router entries and `auto`. */
  listModels(): Array<{ id: string; kind: 'group' | 'alias' | 'auto_router' | 'auto'; target?: string }> {
    const out: Array<{ id: string; kind: 'group' | 'alias' | 'auto_router' | 'auto'; target?: string }> = [];
    for (const g of this.groups.keys()) out.push({ id: g, kind: 'group' });
    for (const [alias, target] of Object.entries(this.config.model_group_alias)) {
      if (typeof target === 'object' && target.hidden) continue;
      out.push({ id: alias, kind: 'alias', target: typeof target === 'string' ? target : target.model });
    }
    for (const g of this.semantic.keys()) out.push({ id: g, kind: 'auto_router' });
    out.push({ id: 'auto', kind: 'auto' });
    return out;
  }

  private aliasTarget(model: string): string {
    const target = this.config.model_group_alias[model];
    return target === undefined ? model : typeof target === 'string' ? target : target.model;
  }

  private chatGroups(): string[] {
    return [...this.groups.keys()].filter(
      (g) => this.entries.get(this.groups.get(g)![0]!.id)?.model_info?.mode !== 'embedding',
    );
  }

  private checkAllowed(group: string, options: RequestOptions): void {
    if (options.allowedModels !== undefined && !options.allowedModels.includes(group)) {
      throw new SemrouteError(ErrorCode.MODEL_NOT_FOUND, `This key may not use model "${group}"`, {
        details: { status: 403 },
      });
    }
  }

  /** Decides where a chat request goes, without calling anything. */
  async plan(body: ChatBody & { model?: unknown }, options: RequestOptions = {}): Promise<Plan> {
    if (typeof body.model !== 'string' || body.model === '') {
      throw new SemrouteError(ErrorCode.INPUT_INVALID, 'model is required', {
        path: 'model',
        expected: 'a model name',
      });
    }
    const requested = this.aliasTarget(body.model);
    const semantic = this.semantic.get(requested);
    if (semantic !== undefined) {
      this.checkAllowed(requested, options);
      const router = options.semanticRouter ?? semantic.router;
      const route = await router.route(body.messages as never, { signal: options.signal });
      // Tries of unsaved edits are not decisions: they stay out of metrics and logs.
      if (options.semanticRouter === undefined) this.events.route?.(requested, route, body.messages);
      const target = route.name !== null && this.groups.has(route.name) ? route.name : semantic.defaultModel;
      return {
        group: this.aliasTarget(target),
        route,
        prefer: undefined,
        sticky: undefined,
        pool: undefined,
      };
    }
    if (AUTO_MODELS.has(requested)) return this.planAuto(body, options);
    if (!this.groups.has(requested)) {
      throw new SemrouteError(ErrorCode.MODEL_NOT_FOUND, `The model "${body.model}" does not exist`, {
        path: 'model',
        expected: this.listModels()
          .map((m) => m.id)
          .join(', '),
        details: { status: 404 },
      });
    }
    this.checkAllowed(requested, options);
    return { group: requested, route: undefined, prefer: undefined, sticky: undefined, pool: undefined };
  }

  private async planAuto(body: ChatBody, options: RequestOptions): Promise<Plan> {
    const auto = autoOptions(body);
    let pool = filterPool(this.chatGroups(), auto.allowedModels);
    if (options.allowedModels !== undefined) pool = pool.filter((g) => options.allowedModels!.includes(g));
    if (pool.length === 0) {
      throw new SemrouteError(
        ErrorCode.MODEL_NOT_FOUND,
        'No model matches the auto-router pool (allowed_models / models)',
        {
          path: 'plugins[].allowed_models',
          details: { status: 400 },
        },
      );
    }
    const key = sessionKey(body, options.sessionId);
    if (key !== undefined) {
      const pinned = await this.store.getSticky(`sticky:${key}`);
      if (pinned !== undefined) {
        const { group, deployment } = JSON.parse(pinned) as { group: string; deployment: string };
        if (pool.includes(group)) return { group, route: undefined, prefer: deployment, sticky: key, pool };
      }
    }
    let route: RouteResult | undefined;
    let candidates = pool;
    let routeQuality: Record<string, number> = {};
    const semantic = options.semanticRouter ?? this.autoSemantic;
    if (semantic !== undefined) {
      route = await semantic.route(body.messages as never, { signal: options.signal });
      if (options.semanticRouter === undefined) this.events.route?.('auto', route, body.messages);
      const chosen = route.name === null ? undefined : semantic.routes.find((r) => r.name === route!.name);
      const meta = (chosen?.metadata ?? {}) as { models?: unknown; quality?: unknown };
      const patterns = Array.isArray(meta.models)
        ? meta.models.filter((m): m is string => typeof m === 'string')
        : chosen
          ? [chosen.name]
          : undefined;
      const narrowed = patterns === undefined ? [] : filterPool(pool, patterns);
      if (narrowed.length > 0) candidates = narrowed;
      if (typeof meta.quality === 'object' && meta.quality !== null)
        routeQuality = meta.quality as Record<string, number>;
    }
    const ranked = rankByTradeoff(
      candidates.map((g) => profileGroup(g, this.groups.get(g)!, routeQuality[g])),
      auto.tradeoff ?? this.config.cost_quality_tradeoff,
    );
    return { group: ranked[0]!.group, route, prefer: undefined, sticky: key, pool };
  }

  /** A chat completion, streamed or not, with retries, fallbacks, cooldowns and cache. */
  async chatCompletion(
    body: ChatBody & { model?: unknown },
    options: RequestOptions = {},
  ): Promise<ChatOutcome> {
    const plan = await this.plan(body, options);
    const stream = body.stream === true;
    const { upstreamBody, timeoutMs } = prepareBody(body, plan.pool !== undefined);
    const cacheKey = this.cacheKey(plan.group, body, stream);
    if (cacheKey !== undefined) {
      const hit = await this.store.getCached(cacheKey);
      if (hit !== undefined) {
        this.events.cacheHit?.(plan.group);
        const cached = JSON.parse(hit) as { response: ChatCompletion; deploymentId: string };
        const served = {
          model: plan.group,
          deploymentId: cached.deploymentId,
          route: plan.route,
          attempts: 0,
          fallbacksTried: [],
          cached: true,
          upstreamMs: 0,
        };
        return stream
          ? withFields(served, { stream: true as const, chunks: replay(cached.response) })
          : withFields(served, { stream: false as const, response: cached.response });
      }
    }
    const tried: string[] = [];
    /** Why each group failed, for the error when none is left. */
    const failures: string[] = [];
    let chain: string[] | undefined;
    let group = plan.group;
    let prefer = plan.prefer;
    let attempts = 0;
    let upstreamMs = 0;
    for (;;) {
      try {
        const result = await this.callGroup(
          group,
          upstreamBody,
          stream,
          prefer,
          withFields(options, { timeoutMs }),
          (n, ms) => {
            attempts += n;
            upstreamMs += ms;
          },
        );
        // Pin (or refresh) only when the planned model answered: an error never moves a session.
        if (plan.sticky !== undefined && tried.length === 0) {
          await this.store.setSticky(
            `sticky:${plan.sticky}`,
            JSON.stringify({ group, deployment: result.deploymentId }),
            this.config.sticky_session_ttl * 1000,
          );
        }
        const served = {
          model: group,
          deploymentId: result.deploymentId,
          route: plan.route,
          attempts,
          fallbacksTried: tried,
          cached: false,
          upstreamMs,
        };
        if (result.kind === 'stream')
          return withFields(served, { stream: true as const, chunks: result.chunks });
        result.response.model = group;
        if (cacheKey !== undefined) {
          await this.store.setCached(
            cacheKey,
            JSON.stringify({ response: result.response, deploymentId: result.deploymentId }),
            this.config.default_cache_time_seconds * 1000,
          );
        }
        return withFields(served, { stream: false as const, response: result.response });
      } catch (error) {
        if (!(error instanceof SemrouteError) || error.code === ErrorCode.ABORTED) throw error;
        if (error instanceof UpstreamError && !fallsBack(error.kind)) throw error;
        chain ??= this.fallbacksFor(plan.group, error, plan.pool);
        tried.push(group);
        failures.push(`${group}: ${error instanceof UpstreamError ? `${error.kind}: ` : ''}${error.message}`);
        const next = chain.find(
          (g) =>
            !tried.includes(g) && (options.allowedModels === undefined || options.allowedModels.includes(g)),
        );
        if (next === undefined)
          throw failures.length > 1 ? everyGroupFailed(error, failures, attempts) : error;
        this.events.fallback?.(group, next, error);
        group = next;
        prefer = undefined;
      }
    }
  }

  private fallbacksFor(group: string, error: SemrouteError, pool: string[] | undefined): string[] {
    const from = (list: GatewayConfig['fallbacks']) => list.find((f) => f[group] !== undefined)?.[group];
    const kind = error instanceof UpstreamError ? error.kind : undefined;
    const specific =
      kind === 'ContextWindowExceededError'
        ? from(this.config.context_window_fallbacks)
        : kind === 'ContentPolicyViolationError'
          ? from(this.config.content_policy_fallbacks)
          : undefined;
    const chain = (specific ?? from(this.config.fallbacks) ?? this.config.default_fallbacks).map((g) =>
      this.aliasTarget(g),
    );
    // `auto` falls back within its own pool when no list says otherwise.
    return chain.length > 0 || pool === undefined ? chain : pool.filter((g) => g !== group);
  }

  private estimateTokens(body: ChatBody): { input: number; total: number } {
    let chars = 0;
    for (const m of body.messages as Array<{ content?: unknown }>) {
      const c = m?.content;
      chars += typeof c === 'string' ? c.length : JSON.stringify(c ?? '').length;
    }
    // ~4 characters a token for English; enough for limits and pre-call context checks.
    const input = Math.ceil(chars / 4);
    const maxTokens =
      typeof body.max_tokens === 'number'
        ? body.max_tokens
        : typeof body.max_completion_tokens === 'number'
          ? body.max_completion_tokens
          : 256;
    return { input, total: input + maxTokens };
  }

  /**
   * Picks a deployment of the group and, unless `reserve` is false, counts the request against
   * its rpm/tpm window in the same atomic step that checks the limit; a deployment that filled
   * up meanwhile (here or on another instance) is set aside and the pick repeated.
   */
  private async pickDeployment(
    group: string,
    tokens: number,
    prefer: string | undefined,
    exclude: ReadonlySet<string>,
    signal: AbortSignal | undefined,
    reserve = true,
  ): Promise<Deployment> {
    const all = this.groups.get(group);
    if (all === undefined)
      throw new SemrouteError(ErrorCode.MODEL_NOT_FOUND, `The model "${group}" does not exist`, {
        details: { status: 404 },
      });
    const full = new Set<string>();
    for (;;) {
      const { healthy, earliestReturn } = await this.health.available(all);
      if (healthy.length > 0) {
        const open = healthy.filter((d) => !full.has(d.id));
        const chosen = open.length === 0 ? undefined : await this.choose(open, tokens, prefer, exclude);
        if (chosen === undefined) {
          throw new UpstreamError(
            'RateLimitError',
            `${group}: every deployment is at its rpm/tpm limit`,
            429,
            {
              'retry-after': String(Math.ceil((60_000 - (this.now() % 60_000)) / 1000)),
            },
          );
        }
        if (!reserve || (await this.store.reserve(chosen.id, tokens, chosen))) return chosen;
        full.add(chosen.id);
        continue;
      }
      const wait = (earliestReturn ?? this.now()) - this.now();
      if (wait > 0 && wait <= this.config.wait_for_cooldown_seconds * 1000) {
        await this.sleep(wait, signal);
        continue;
      }
      const at = new Date(earliestReturn ?? this.now()).toISOString();
      throw new SemrouteError(
        ErrorCode.NO_DEPLOYMENT_AVAILABLE,
        `All ${all.length} deployment(s) of "${group}" are cooling down; the first returns in ${Math.max(0, wait / 1000).toFixed(1)} s (${at})`,
        { details: { status: 429, group, retryAt: earliestReturn } },
      );
    }
  }

  /** The strategy's choice among healthy deployments: untried ones first, lowest `order` first, a sticky one if it is there. */
  private async choose(
    healthy: readonly Deployment[],
    tokens: number,
    prefer: string | undefined,
    exclude: ReadonlySet<string>,
  ): Promise<Deployment | undefined> {
    const fresh = healthy.filter((d) => !exclude.has(d.id));
    let pool = fresh.length > 0 ? fresh : healthy;
    const lowestOrder = Math.min(...pool.map((d) => d.order ?? 1));
    pool = pool.filter((d) => (d.order ?? 1) === lowestOrder);
    const preferred = prefer === undefined ? undefined : pool.find((d) => d.id === prefer);
    if (preferred) return preferred;
    const ids = pool.map((d) => d.id);
    const needs = this.strategy.needs;
    const [usage, latency, inFlight] = await Promise.all([
      needs.usage ? this.store.usage(ids) : new Map(),
      needs.latency
        ? this.store.latencies(ids, (this.config.routing_strategy_args?.ttl ?? 60) * 1000)
        : new Map(),
      needs.inFlight ? this.store.inFlight(ids) : new Map(),
    ]);
    return this.strategy.pick({
      candidates: pool,
      estimatedTokens: tokens,
      usage,
      latency,
      inFlight,
      random: this.random,
    });
  }

  private async callGroup(
    group: string,
    body: ChatBody,
    stream: boolean,
    prefer: string | undefined,
    options: RequestOptions,
    countAttempts: (n: number, upstreamMs: number) => void,
  ): Promise<GroupResult> {
    const tokens = this.estimateTokens(body);
    const all = this.groups.get(group) ?? [];
    if (
      all.length > 0 &&
      all.every((d) => d.info.maxInputTokens !== undefined && tokens.input > d.info.maxInputTokens)
    ) {
      throw new UpstreamError(
        'ContextWindowExceededError',
        `${group}: about ${tokens.input} input tokens exceed max_input_tokens`,
        undefined,
      );
    }
    return this.withRetries<GroupResult>(
      group,
      tokens.total,
      prefer,
      options,
      countAttempts,
      async (d, call, release) => {
        const client = this.clients.get(d.id)!;
        if (stream) {
          const opened = await openChatStream(client, d, body, call);
          return {
            result: {
              kind: 'stream' as const,
              chunks: relay(opened, group, release, (e) => toUpstreamError(e, d, call.signal)),
              deploymentId: d.id,
            },
            tokens: tokens.total,
          };
        }
        const response = await callChat(client, d, body, call);
        await release();
        return {
          result: { kind: 'json' as const, response, deploymentId: d.id },
          tokens: response.usage?.total_tokens ?? tokens.total,
        };
      },
    );
  }

  /**
   * One call with retries inside a group: pick a deployment (another one after a failure when
   * the group has one), track it in flight, count success or failure (cooldowns), and back off
   * before the next attempt as the retry policy for the failure's kind allows.
   */
  private async withRetries<T>(
    group: string,
    tokens: number,
    prefer: string | undefined,
    options: RequestOptions,
    countAttempts: ((n: number, upstreamMs: number) => void) | undefined,
    run: (
      d: Deployment,
      call: { signal: AbortSignal | undefined; timeoutMs: number },
      release: () => Promise<void>,
    ) => Promise<{ result: T; tokens: number }>,
  ): Promise<T> {
    const failed = new Set<string>();
    for (let attempt = 0; ; attempt++) {
      const d = await this.pickDeployment(
        group,
        tokens,
        attempt === 0 ? prefer : undefined,
        failed,
        options.signal,
      );
      // The tightest of: the request's own timeout, the deployment's, the router's.
      const call = {
        signal: options.signal,
        timeoutMs: Math.min(options.timeoutMs ?? Infinity, d.timeoutMs ?? this.config.timeout * 1000),
      };
      const started = performance.now();
      await this.store.addInFlight(d.id, 1);
      let released = false;
      // Streams release when the reader finishes, so release is handed to `run`.
      const release = async () => {
        if (released) return;
        released = true;
        await this.store.addInFlight(d.id, -1);
      };
      try {
        const { result, tokens: used } = await run(d, call, release);
        const ms = performance.now() - started;
        countAttempts?.(1, ms);
        await this.succeeded(d, ms, used - tokens);
        return result;
      } catch (error) {
        countAttempts?.(1, performance.now() - started);
        await release();
        if (!(error instanceof UpstreamError)) throw error;
        failed.add(d.id);
        await this.health.failed(d, error.kind, error.status);
        if (attempt >= retriesFor(this.config, group, error.kind)) throw error;
        const delay = backoffDelay(
          attempt + 1,
          error.headers,
          { minMs: this.config.retry_after * 1000 },
          this.random,
          this.now(),
        );
        this.events.retry?.(group, d, error, delay);
        await this.sleep(delay, options.signal);
      }
    }
  }

  /** The request was counted when it was picked; here only the token estimate is corrected. */
  private async succeeded(d: Deployment, ms: number, tokenCorrection: number): Promise<void> {
    await Promise.all([
      tokenCorrection === 0 ? undefined : this.store.addUsage(d.id, 0, tokenCorrection),
      this.store.recordLatency(d.id, ms),
    ]);
  }

  /** Embeddings through a group (retries and cooldowns as for chat; no semantic routing). */
  async embedding(
    body: Record<string, unknown> & { model?: unknown },
    options: RequestOptions = {},
  ): Promise<Served & { response: EmbeddingResponse }> {
    if (typeof body.model !== 'string')
      throw new SemrouteError(ErrorCode.INPUT_INVALID, 'model is required', { path: 'model' });
    const group = this.aliasTarget(body.model);
    if (!this.groups.has(group))
      throw new SemrouteError(ErrorCode.MODEL_NOT_FOUND, `The model "${body.model}" does not exist`, {
        details: { status: 404 },
      });
    this.checkAllowed(group, options);
    let attempts = 0;
    let upstreamMs = 0;
    const served = await this.withRetries(
      group,
      0,
      undefined,
      options,
      (n, ms) => {
        attempts += n;
        upstreamMs += ms;
      },
      async (d, call, release) => {
        const response = await callEmbedding(this.clients.get(d.id)!, d, body, call);
        await release();
        response.model = group;
        return { result: { response, deploymentId: d.id }, tokens: response.usage?.total_tokens ?? 0 };
      },
    );
    return {
      model: group,
      route: undefined,
      fallbacksTried: [],
      cached: false,
      attempts,
      upstreamMs,
      ...served,
    };
  }

  /** What would serve this request: route, group and deployment, without calling upstream. */
  async explain(
    body: ChatBody & { model?: unknown },
    options: RequestOptions = {},
  ): Promise<{ model: string; deploymentId: string | undefined; route: RouteResult | undefined }> {
    const plan = await this.plan(body, options);
    const d = await this.pickDeployment(
      plan.group,
      this.estimateTokens(body).total,
      plan.prefer,
      new Set(),
      options.signal,
      false,
    ).catch(() => undefined);
    return { model: plan.group, deploymentId: d?.id, route: plan.route };
  }

  private cacheKey(group: string, body: ChatBody, stream: boolean): string | undefined {
    if (!this.config.cache_responses || (stream && !this.config.cache_streams)) return undefined;
    const {
      stream: _s,
      user: _u,
      metadata: _m,
      cache,
      ...rest
    } = body as ChatBody & { user?: unknown; metadata?: unknown; cache?: { 'no-cache'?: boolean } };
    if (cache?.['no-cache']) return undefined;
    return `cache:${createHash('sha256')
      .update(JSON.stringify([group, sortKeys(rest)]))
      .digest('hex')}`;
  }

  deployments(group: string): readonly Deployment[] {
    return this.groups.get(group) ?? [];
  }

  semanticRouter(model: string): SemanticRouter | undefined {
    return model === 'auto' ? this.autoSemantic : this.semantic.get(model)?.router;
  }

  async close(): Promise<void> {
    await Promise.all([...this.semantic.values()].map((s) => s.router.close()));
    await this.autoSemantic?.close();
    if (this.ownsStore) await this.store.close();
  }
}

/** The error when the group and every fallback failed: the last one's kind and status, every group's reason. */
function everyGroupFailed(last: SemrouteError, failures: string[], attempts: number): SemrouteError {
  const message = `every model failed (${failures.length} groups, ${attempts} upstream calls): ${failures.join(' | ')}`;
  if (last instanceof UpstreamError)
    return new UpstreamError(last.kind, message, last.status, last.headers, { cause: last });
  return new SemrouteError(last.code, message, { cause: last, details: last.details });
}

/** Parameters semroute consumes (LiteLLM's `timeout`; OpenRouter's auto fields) are not sent upstream. */
function prepareBody(
  body: ChatBody & { model?: unknown },
  auto: boolean,
): { upstreamBody: ChatBody; timeoutMs: number | undefined } {
  const { timeout, request_timeout, ...rest } = body as ChatBody & {
    timeout?: unknown;
    request_timeout?: unknown;
  };
  const [key, seconds] = timeout !== undefined ? ['timeout', timeout] : ['request_timeout', request_timeout];
  // A client's timeout is seconds, as LiteLLM takes it; one under a millisecond can only time out.
  if (
    seconds !== undefined &&
    seconds !== null &&
    !(typeof seconds === 'number' && seconds >= 0.001 && seconds <= 86_400)
  ) {
    throw new SemrouteError(
      ErrorCode.INPUT_INVALID,
      `${key} must be a number of seconds from 0.001 to 86400`,
      {
        path: key,
        expected: 'seconds, 0.001 to 86400',
      },
    );
  }
  if (auto) {
    delete (rest as Record<string, unknown>).models;
    delete (rest as Record<string, unknown>).plugins;
    delete (rest as Record<string, unknown>).session_id;
  }
  return {
    upstreamBody: rest as ChatBody,
    timeoutMs: typeof seconds === 'number' ? seconds * 1000 : undefined,
  };
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(
      Object.keys(value)
        .sort()
        .map((k) => [k, sortKeys((value as Record<string, unknown>)[k])]),
    );
  }
  return value;
}
