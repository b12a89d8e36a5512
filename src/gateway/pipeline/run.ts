/**
 * The one request pipeline every endpoint runs through (chat, legacy completions, embeddings,
 * and the Responses and Messages dialects, which are chat underneath):
 *
 *   prepare (plan/request-body.ts: the request's own fields, before anything is routed)
 *     → plan (plan/resolve.ts: alias, semantic route, auto, allow-lists)
 *     → cache (call/cache.ts) → fallbacks (call/fallback.ts) → retries (call/retry.ts, with
 *       call/pick.ts) → the call (the operation's, over the deployment's wire)
 *
 * An endpoint declares only what differs (pipeline/operation.ts). Every step reports to the
 * lifecycle events (events.ts) with the request's context.
 */
import type { GatewayConfig } from '../../config/gateway-schema.js';
import { ErrorCode, SemrouteError, UpstreamError } from '../../errors.js';
import { withFields } from '../../internal/objects.js';
import type { ResponseCache } from '../call/cache.js';
import { withFallbacks } from '../call/fallback.js';
import { type GroupRequest, type RetryDeps, withRetries } from '../call/retry.js';
import type { StickySessions } from '../call/sticky.js';
import { upstreamBody } from '../call/upstream-body.js';
import { createContext, type RequestContext } from '../context.js';
import type { EventListeners, TokenUsage } from '../events.js';
import type { ModelTable } from '../models.js';
import {
  hoistOpenRouterFields,
  prepareRequest,
  requestedFallbacks,
  withoutAutoFields,
} from '../plan/request-body.js';
import type { Plan, Planner } from '../plan/resolve.js';
import type { ChatBody, ChatCompletion, RequestOptions, Served } from '../types.js';
import { replay } from '../upstream/stream.js';
import { type Capability, canServe, wireOf as wireFor } from '../upstream/wire.js';
import { cheapestPriced, costOf, mostCostly } from '../pricing.js';
import type { Ledger, Tab } from '../spend/ledger.js';
import type { CallResult, Operation } from './operation.js';

export type Outcome<Answer, Chunk> = Served &
  ({ stream: false; response: Answer } | { stream: true; chunks: AsyncIterable<Chunk> });

export interface PipelineDeps {
  config: GatewayConfig;
  table: ModelTable;
  planner: Planner;
  cache: ResponseCache;
  sticky: StickySessions;
  retry: RetryDeps;
  events: EventListeners;
  now: () => number;
  /** Budgets and a key's own limits (spend/ledger.ts). */
  ledger: Ledger;
  /** Headers each upstream call carries for the request's trace (`traceparent`), when traced. */
  traceHeaders?: ((ctx: RequestContext) => Record<string, string> | undefined) | undefined;
  /** Output tokens per second of a plain answer (OpenRouter's provider.sort: throughput). */
  recordThroughput?: ((deploymentId: string, tokensPerSecond: number) => void) | undefined;
}

export class Pipeline {
  constructor(private readonly deps: PipelineDeps) {}

  /** The request's context: the caller's, or one made now. */
  context(endpoint: string, options: RequestOptions): RequestContext {
    return (
      options.context ??
      createContext({
        endpoint,
        caller: { id: options.caller },
        signal: options.signal,
        now: this.deps.now,
      })
    );
  }

  async run<B extends Record<string, unknown>, A, C>(
    op: Operation<B, A, C>,
    sent: B & { model: string },
    given: RequestOptions = {},
  ): Promise<Outcome<A, C>> {
    const { events } = this.deps;
    const body = hoistOpenRouterFields(sent);
    const ctx = this.context(op.endpoint, given);
    const options: RequestOptions = given.context === ctx ? given : { ...given, context: ctx };
    events.received?.(ctx, {
      model: body.model,
      stream: body.stream === true,
      messages: op.routingMessages?.(body),
    });
    let tab: Tab | undefined;
    try {
      // The key's own limits first: a refused request routes, embeds and holds nothing.
      const { ledger } = this.deps;
      if (ledger.tracks(options.account)) tab = await ledger.open(options.account, op.estimate(body).total);
      const outcome = await this.serve(op, body, options, ctx, tab);
      if (!outcome.stream) {
        const usage = this.usageOf(op, body, op.usage(outcome.response));
        if (!usage.estimated && usage.completion > 0 && outcome.upstreamMs > 0 && !outcome.cached)
          this.deps.recordThroughput?.(outcome.deploymentId, usage.completion / (outcome.upstreamMs / 1000));
        const money = this.money(outcome, usage);
        if (money.costUsd !== undefined) outcome.costUsd = money.costUsd;
        if (money.savedUsd !== undefined) outcome.savedUsd = money.savedUsd;
        if (tab !== undefined) {
          await tab.settle(money.costUsd ?? 0, outcome.model, usage.total);
          this.spendOf(outcome, tab);
        }
        this.succeeded(
          ctx,
          body.model,
          outcome,
          usage,
          op.answerText?.(outcome.response)?.slice(0, ANSWER_CHARS),
        );
        return outcome;
      }
      // A stream succeeds (and reports its usage) when its last chunk has gone.
      if (tab !== undefined) this.spendOf(outcome, tab);
      return withFields(outcome, { chunks: this.watch(op, body, ctx, outcome, tab) });
    } catch (error) {
      // A refused or failed request spent nothing: its hold goes back.
      await tab?.settle(0, undefined).catch(() => {});
      events.failed?.(ctx, error);
      events.finished?.(ctx, {
        model: body.model,
        error,
        served: undefined,
        ms: performance.now() - ctx.startedAt,
      });
      throw error;
    }
  }

  /** The key's spend and budget, for the answer's headers. */
  private spendOf(served: Served, tab: Tab): void {
    if (tab.keySpentUsd !== undefined) served.keySpendUsd = tab.keySpentUsd;
    if (tab.keyBudgetUsd !== undefined) served.keyBudgetUsd = tab.keyBudgetUsd;
  }

  /**
   * The most a call to `group` can cost: its priciest deployment, the prompt at twice the usual
   * four-characters-a-token estimate plus the chat format's overhead (tokenizers differ; a hold
   * that is too small lets concurrent requests overshoot), and the answer at its cap (the
   * request's max_tokens, else the model's max_output_tokens, else 4,096). A request that costs
   * no more than its hold keeps a budget's overshoot within one request.
   */
  private mostCost(group: string, inputTokens: number, body: Record<string, unknown>): number {
    const cap = [body.max_tokens, body.max_completion_tokens, body.max_output_tokens].find(
      (v): v is number => typeof v === 'number' && v > 0,
    );
    const input = inputTokens * 2 + FORMAT_TOKENS;
    return mostCostly(this.deps.table.deployments(group), input, cap, DEFAULT_OUTPUT_CAP);
  }

  /** The cost of an answer, and a decision's saving against its baseline. */
  private money(
    served: Served,
    usage: TokenUsage,
  ): { costUsd: number | undefined; savedUsd: number | undefined } {
    const { table } = this.deps;
    const d = table.deployments(served.model).find((x) => x.id === served.deploymentId);
    // A cache hit reached no upstream: it cost nothing.
    const costUsd = served.cached ? 0 : costOf(d, usage);
    const decision = served.decision;
    if (decision === undefined || costUsd === undefined || served.cached)
      return { costUsd, savedUsd: undefined };
    const baseline = costOf(cheapestPriced(table.deployments(decision.baseline)), usage);
    return { costUsd, savedUsd: baseline === undefined ? undefined : Math.max(0, baseline - costUsd) };
  }

  private succeeded(
    ctx: RequestContext,
    model: string,
    served: Served,
    usage: TokenUsage,
    answer?: string,
  ): void {
    const { costUsd, savedUsd } =
      served.costUsd !== undefined
        ? { costUsd: served.costUsd, savedUsd: served.savedUsd }
        : this.money(served, usage);
    this.deps.events.succeeded?.(ctx, { served, usage, costUsd, savedUsd, answer });
    this.deps.events.finished?.(ctx, {
      model,
      error: undefined,
      served,
      ms: performance.now() - ctx.startedAt,
    });
  }

  /** The chunks, passed on as they come; at the end the request succeeds or fails. */
  private async *watch<B extends Record<string, unknown>, A, C>(
    op: Operation<B, A, C>,
    body: B & { model: string },
    ctx: RequestContext,
    outcome: Served & { chunks: AsyncIterable<C> },
    tab: Tab | undefined,
  ): AsyncGenerator<C> {
    let reported: Partial<TokenUsage> | undefined;
    let failure: unknown;
    let text = '';
    /** Characters answered, for a stream whose upstream reports no usage. */
    let chars = 0;
    try {
      for await (const chunk of outcome.chunks) {
        reported = op.chunkUsage?.(chunk) ?? reported;
        const piece = op.chunkText?.(chunk) ?? '';
        chars += piece.length;
        if (text.length < ANSWER_CHARS) text += piece;
        yield chunk;
      }
    } catch (error) {
      failure = error;
      throw error;
    } finally {
      const served: Served = {
        model: outcome.model,
        deploymentId: outcome.deploymentId,
        route: outcome.route,
        ...(outcome.decision === undefined ? {} : { decision: outcome.decision }),
        attempts: outcome.attempts,
        fallbacksTried: outcome.fallbacksTried,
        cached: outcome.cached,
        upstreamMs: outcome.upstreamMs,
      };
      // Ended, closed by the client or broken: what was streamed was generated, and is spent
      // (else a stream broken on purpose would cost its key nothing).
      const usage = this.usageOf(op, body, reported, chars);
      const money = this.money(served, usage);
      await tab?.settle(money.costUsd ?? 0, served.model, usage.total).catch(() => {});
      if (failure === undefined) {
        if (money.costUsd !== undefined) served.costUsd = money.costUsd;
        if (money.savedUsd !== undefined) served.savedUsd = money.savedUsd;
        this.succeeded(ctx, body.model, served, usage, text.slice(0, ANSWER_CHARS));
      } else {
        this.deps.events.failed?.(ctx, failure);
        this.deps.events.finished?.(ctx, {
          model: body.model,
          error: failure,
          served,
          ms: performance.now() - ctx.startedAt,
        });
      }
    }
  }

  /**
   * The upstream's count, or an estimate: the prompt's, and for a stream the answer's from its
   * length (about four characters a token).
   */
  private usageOf<B extends Record<string, unknown>>(
    op: Operation<B, unknown, unknown>,
    body: B,
    reported: Partial<TokenUsage> | undefined,
    answerChars = 0,
  ): TokenUsage {
    if (reported?.total !== undefined && reported.total > 0)
      return {
        prompt: reported.prompt ?? 0,
        completion: reported.completion ?? 0,
        total: reported.total,
        estimated: false,
      };
    const { input } = op.estimate(body);
    const completion = Math.ceil(answerChars / 4);
    return { prompt: input, completion, total: input + completion, estimated: true };
  }

  private async serve<B extends Record<string, unknown>, A, C>(
    op: Operation<B, A, C>,
    body: B & { model: string },
    options: RequestOptions,
    ctx: RequestContext,
    tab: Tab | undefined,
  ): Promise<Outcome<A, C>> {
    const { config, table, planner, cache, sticky, events } = this.deps;
    // 1. The request's own fields, checked before anything is routed or embedded.
    const prepared = prepareRequest(body, options.tags);
    // 2. Where it goes.
    const messages = op.routingMessages?.(body);
    const planning = prepared.provider === undefined ? options : { ...options, provider: prepared.provider };
    const plan: Plan =
      messages === undefined
        ? planner.planModel(body.model, planning)
        : await planner.plan({ ...body, messages } as ChatBody & { model: string }, planning);
    events.planned?.(ctx, {
      model: body.model,
      group: plan.group,
      route: plan.route,
      pool: plan.pool,
      decision: plan.decision,
    });
    // OpenRouter's `models` beside a named model is that request's fallback list (its pool when
    // the model is `auto`); neither is sent upstream.
    const requestFallbacks =
      plan.pool === undefined ? requestedFallbacks(body as { models?: unknown }, table) : undefined;
    const upstream = (plan.pool === undefined && requestFallbacks === undefined
      ? prepared.body
      : withoutAutoFields(prepared.body as unknown as ChatBody)) as unknown as B;
    const { stream } = prepared;
    // A wildcard answers with the name asked for (as LiteLLM does), a group with its own name.
    const label = (group: string) =>
      group === plan.group && plan.wildcard !== undefined ? body.model : group;
    // 3. The budgets: spent ones refuse here, before the cache (LiteLLM checks them first too).
    const estimate = op.estimate(upstream);
    await tab?.cover(this.mostCost(plan.group, estimate.input, upstream));
    // 4. The cache.
    const cacheKey = op.cacheable
      ? cache.key(plan.group, body as unknown as ChatBody, stream, ctx.caller.id)
      : undefined;
    const hit = cacheKey === undefined ? undefined : await cache.get(cacheKey);
    if (hit !== undefined) {
      await tab?.settle(0, undefined);
      events.cacheHit?.(ctx, plan.group);
      const served = this.served(plan.group, hit.deploymentId, plan, 0, [], 0, true);
      return (
        stream
          ? withFields(served, { stream: true as const, chunks: replay(hit.response) as AsyncIterable<C> })
          : withFields(served, { stream: false as const, response: hit.response as A })
      ) as Outcome<A, C>;
    }
    // 5. Fallbacks, retries, the call.
    let attempts = 0;
    let upstreamMs = 0;
    const deadline = this.deadline(prepared.timeoutMs ?? options.timeoutMs);
    const groupRequest = (group: string, first: boolean): GroupRequest => ({
      tokens: estimate.total,
      deadline,
      maxResponseBytes: config.max_response_bytes,
      maxStreamMs: config.max_stream_seconds * 1000,
      // A session's pinned deployment belongs to the planned group, never to a fallback.
      prefer: first ? plan.prefer : undefined,
      tags: prepared.tags,
      provider: prepared.provider,
      signal: options.signal,
      timeoutOf: (d) => (stream ? d.streamTimeoutMs : d.timeoutMs) ?? config.timeout * 1000,
      requestTimeoutMs: prepared.timeoutMs ?? options.timeoutMs,
      onAttemptStart: (d) => events.attemptStart?.(ctx, { group, deployment: d, n: attempts + 1 }),
      onAttemptEnd: (d, ms, error) => {
        attempts++;
        upstreamMs += ms;
        events.attemptEnd?.(ctx, { group, deployment: d, n: attempts, ms, error });
      },
      onRetry: (d, error, delay) => events.retry?.(ctx, group, d, error, delay),
    });
    const { result, group, tried } = await withFallbacks(
      { config, table, onFallback: (f, t, e) => events.fallback?.(ctx, f, t, e) },
      {
        group: plan.group,
        pool: plan.pool,
        aliases: plan.aliases,
        allowedModels: options.allowedModels,
        // OpenRouter's allow_fallbacks: false: the planned group's deployments, nothing else.
        fallbacks: prepared.provider?.allowFallbacks !== false,
        requested: requestFallbacks,
        attempts: () => attempts,
      },
      async (group, first) => {
        this.checkContextWindow(group, estimate.input);
        // A fallback may cost more than the planned group: its hold grows to cover it.
        if (!first) await tab?.cover(this.mostCost(group, estimate.input, upstream));
        const wildcard = group === plan.group ? plan.wildcard : undefined;
        return withRetries(
          this.deps.retry,
          group,
          groupRequest(group, first),
          async ({ deployment: d, call, release }) => {
            const { target, model } = table.target(d, wildcard);
            if (!canServe(target, op.capability)) {
              throw new SemrouteError(
                ErrorCode.INPUT_INVALID,
                `${group}: ${target.provider.name} has no ${CAPABILITY_NAMES[op.capability]}`,
                { path: 'model', expected: `a model group whose provider has a ${op.capability} endpoint` },
              );
            }
            // A complexity tier's own litellm_params (reasoning_effort, …) go with its group only.
            const own =
              group === plan.group && plan.params !== undefined ? { ...plan.params, ...upstream } : upstream;
            const sent = upstreamBody(d, own, model);
            const traced = this.deps.traceHeaders?.(ctx);
            const headers = traced === undefined ? sent.headers : { ...sent.headers, ...traced };
            const called: CallResult<A, C> = await op.call({
              wire: wireFor(target),
              client: table.client(target),
              deployment: d,
              body: sent.body,
              call: headers === undefined ? call : { ...call, headers },
              drop: d.dropParams ?? config.drop_params,
              label: label(group),
              release,
            });
            return { result: { called, deploymentId: d.id }, tokens: called.tokens };
          },
        );
      },
    );
    // Pin (or refresh) only when the planned model answered: an error never moves a session.
    if (plan.sticky !== undefined && tried.length === 0)
      await sticky.pin(plan.sticky, { group, deployment: result.deploymentId });
    const served = this.served(group, result.deploymentId, plan, attempts, tried, upstreamMs, false);
    const { called } = result;
    if (called.stream) return withFields(served, { stream: true as const, chunks: called.chunks });
    if (cacheKey !== undefined)
      await cache.set(cacheKey, {
        response: called.response as ChatCompletion,
        deploymentId: result.deploymentId,
      });
    return withFields(served, { stream: false as const, response: called.response });
  }

  /**
   * When a request must be answered: `request_timeout` (LiteLLM's, the whole request's budget;
   * default the larger of 600 s and the per-call `timeout`), or the request's own timeout when
   * shorter. Retries, Retry-After waits and fallbacks all fit in it.
   */
  private deadline(requestMs: number | undefined): number {
    const budget = this.deps.config.request_timeout ?? Math.max(600, this.deps.config.timeout);
    return this.deps.now() + Math.min(requestMs ?? Infinity, budget * 1000);
  }

  /** Before any call: a request longer than every deployment's max_input_tokens goes to context_window_fallbacks. */
  private checkContextWindow(group: string, inputTokens: number): void {
    const all = this.deps.table.deployments(group);
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
    plan: Plan,
    attempts: number,
    fallbacksTried: string[],
    upstreamMs: number,
    cached: boolean,
  ): Served {
    return {
      model,
      deploymentId,
      route: plan.route,
      ...(plan.decision === undefined ? {} : { decision: plan.decision }),
      attempts,
      fallbacksTried,
      cached,
      upstreamMs,
    };
  }
}

/** Output tokens a hold assumes when neither the request nor the model caps them. */
const DEFAULT_OUTPUT_CAP = 4_096;
/** Tokens a chat format adds around the messages (roles, separators), held for on top. */
const FORMAT_TOKENS = 16;

/** The answer text listeners get (shadow grading), at most. */
const ANSWER_CHARS = 64 * 1024;

const CAPABILITY_NAMES = {
  chat: 'chat completions API semroute can call',
  completion: 'legacy completions endpoint: use /v1/chat/completions',
  embedding: 'embeddings API semroute can call',
  rerank: 'rerank endpoint semroute can call (Cohere, or a host with /rerank such as vLLM)',
} as const satisfies Record<Capability, string>;
