/**
 * Where a request goes, decided before anything is called: an alias resolves to its group; a
 * semantic router (`auto_router/…`) routes the prompt and sends it to the group its route names
 * (or the default); `auto` picks from its pool (sticky session first, then the semantic route,
 * then cost and quality); a group is itself. Virtual-key allow-lists are checked here.
 */
import type { GatewayConfig } from '../../config/gateway-schema.js';
import { ErrorCode, SemrouteError } from '../../errors.js';
import type { RouteResult } from '../../semantic/semantic-router.js';
import { sessionKey, type StickySessions } from '../call/sticky.js';
import { AUTO_MODELS, type GroupMatch, type ModelTable } from '../models.js';
import type { EventListeners } from '../events.js';
import type { ChatBody, RequestOptions } from '../types.js';
import type { Encoder } from '../../embeddings/encoder.js';
import { askOf } from '../../difficulty/features.js';
import type { DifficultyModel } from '../../difficulty/model.js';
import {
  autoOptions,
  filterPool,
  type GroupProfile,
  profileGroup,
  rankByTradeoff,
  scoreByTradeoff,
} from './auto.js';
import type { ProviderSort } from './provider-preferences.js';

/** A scored pool as a decision reports it. */
const rankingOf = (scored: ReturnType<typeof scoreByTradeoff>) =>
  scored.map((s) => ({
    group: s.profile.group,
    quality: s.profile.quality,
    cost: s.profile.cost,
    score: s.score,
  }));

/** The most expensive candidate (savings are measured against it). */
const dearest = (profiles: readonly GroupProfile[]) =>
  [...profiles].sort((a, b) => (b.cost ?? 0) - (a.cost ?? 0))[0]!.group;
import type { ComplexityRouters, CostDecision } from './complexity.js';
import type { SemanticRouters } from './semantic.js';

export interface Plan {
  /** The group tried first. */
  group: string;
  /** A wildcard group: the name asked for and what its `*`s matched. */
  wildcard: GroupMatch['wildcard'];
  route: RouteResult | undefined;
  /** Deployment pinned by a sticky session. */
  prefer: string | undefined;
  /** The session to pin once the planned group answers. */
  sticky: string | undefined;
  /** `auto`'s pool: fallbacks stay within it when no list says otherwise. */
  pool: string[] | undefined;
  /** A cost-quality decision (complexity routers, `auto`): tier, difficulty, candidates. */
  decision?: CostDecision | undefined;
  /** The tier's own litellm_params, merged into the request for the planned group. */
  params?: Readonly<Record<string, unknown>> | undefined;
  /** Names whose fallback lists apply after the planned group's own (the router asked for). */
  aliases?: readonly string[] | undefined;
}

/** The difficulty model `auto` decides with, loaded on its first request. */
export type AutoDifficulty = () => Promise<{ model: DifficultyModel; encoder: Encoder } | undefined>;

export interface PlannerDeps {
  config: GatewayConfig;
  table: ModelTable;
  semantic: SemanticRouters;
  complexity: ComplexityRouters;
  autoDifficulty: AutoDifficulty;
  /** Per group, its best measured latency (ms) or throughput (tokens/s) (provider.sort). */
  measure: (groups: readonly string[], sort: 'latency' | 'throughput') => Promise<Map<string, number>>;
  sticky: StickySessions;
  events: EventListeners;
}

export class Planner {
  constructor(private readonly deps: PlannerDeps) {}

  async plan(body: ChatBody & { model: string }, options: RequestOptions = {}): Promise<Plan> {
    const { table, semantic: routers, events, complexity } = this.deps;
    const requested = table.aliasTarget(body.model);
    if (complexity.has(requested)) {
      table.checkAllowed([body.model, requested], options.allowedModels);
      const { decision, group, params } = await complexity.decide(
        requested,
        askOf(body.messages),
        options.signal,
      );
      return {
        group,
        wildcard: undefined,
        route: undefined,
        prefer: undefined,
        sticky: undefined,
        pool: undefined,
        decision,
        params,
        // LiteLLM #38832: the tier's own fallbacks first, then the router's.
        aliases: [requested],
      };
    }
    const semantic = routers.get(requested);
    if (semantic !== undefined && semantic.spec.kind === 'auto_router') {
      table.checkAllowed([body.model, requested], options.allowedModels);
      const router = options.semanticRouter ?? semantic.router;
      const route = await router.route(body.messages as never, { signal: options.signal });
      // Tries of unsaved edits are not decisions: they stay out of metrics and logs.
      if (options.semanticRouter === undefined && options.context)
        events.route?.(options.context, requested, route);
      const target = route.name !== null && table.hasGroup(route.name) ? route.name : semantic.defaultModel;
      return {
        group: table.aliasTarget(target),
        wildcard: undefined,
        route,
        prefer: undefined,
        sticky: undefined,
        pool: undefined,
      };
    }
    const adaptive = table.adaptiveRouter(requested);
    if (adaptive !== undefined) {
      table.checkAllowed([body.model, requested], options.allowedModels);
      const pool = adaptive.pool.map((g) => table.aliasTarget(g));
      return this.planAuto(body, options, { pool, tradeoff: adaptive.tradeoff, semantic: false });
    }
    if (AUTO_MODELS.has(requested)) {
      // `auto` is a name a key's list must hold, like any other: its pool is not a way around it
      // (`openrouter/auto` is the same thing, so either name in the list allows both).
      table.checkAllowed([body.model, ...AUTO_MODELS], options.allowedModels);
      return this.planAuto(body, options, undefined);
    }
    const match = table.match(requested);
    if (match === undefined) throw table.notFound(body.model);
    table.checkAllowed([body.model, requested, match.group], options.allowedModels);
    return {
      group: match.group,
      wildcard: match.wildcard,
      route: undefined,
      prefer: undefined,
      sticky: undefined,
      pool: undefined,
    };
  }

  /** A model by name only (an alias, a group or a wildcard), never routed: embeddings. */
  planModel(model: string, options: RequestOptions = {}): Plan {
    const { table } = this.deps;
    const requested = table.aliasTarget(model);
    const match = table.match(requested);
    if (match === undefined) throw table.notFound(model);
    table.checkAllowed([model, requested, match.group], options.allowedModels);
    return {
      group: match.group,
      wildcard: match.wildcard,
      route: undefined,
      prefer: undefined,
      sticky: undefined,
      pool: undefined,
    };
  }

  /**
   * `auto`, or an adaptive router (`fixed`: its own pool and tradeoff, no semantic narrowing):
   * a sticky session first, then the semantic route, then cost and quality.
   */
  private async planAuto(
    body: ChatBody,
    options: RequestOptions,
    fixed: { pool: string[]; tradeoff: number | undefined; semantic: false } | undefined,
  ): Promise<Plan> {
    const { config, table, semantic: routers, sticky, events } = this.deps;
    const auto =
      fixed === undefined ? autoOptions(body) : { allowedModels: undefined, tradeoff: fixed.tradeoff };
    // The key's allow-list first: a client's patterns are only ever matched against what it may use.
    const allowed = options.allowedModels;
    const usable = (groups: string[]) =>
      allowed === undefined ? groups : groups.filter((g) => allowed.includes(g));
    const pool =
      fixed !== undefined ? usable(fixed.pool) : filterPool(usable(table.chatGroups()), auto.allowedModels);
    if (pool.length === 0) {
      throw new SemrouteError(
        ErrorCode.POOL_EMPTY,
        'No model matches the auto-router pool (allowed_models / models)',
        {
          path: 'plugins[].allowed_models',
        },
      );
    }
    const key = sessionKey(body, options.sessionId, options.caller);
    if (key !== undefined) {
      const pinned = await sticky.get(key);
      if (pinned !== undefined && pool.includes(pinned.group)) {
        // Said as a decision too, so an explanation shows the pool and why this one.
        const tradeoff = auto.tradeoff ?? config.cost_quality_tradeoff;
        const profiles = pool.map((g) => profileGroup(g, table.deployments(g), undefined));
        return {
          group: pinned.group,
          wildcard: undefined,
          route: undefined,
          prefer: pinned.deployment,
          sticky: key,
          pool,
          decision: {
            router: 'auto',
            kind: 'auto',
            cause: 'session: the conversation stays on the model that began it',
            candidates: pool,
            chosen: pinned.group,
            baseline: dearest(profiles),
            tradeoff,
            ranking: rankingOf(scoreByTradeoff(profiles, tradeoff)),
          },
        };
      }
    }
    let route: RouteResult | undefined;
    let candidates = pool;
    let routeQuality: Record<string, number> = {};
    const semantic =
      fixed === undefined ? (options.semanticRouter ?? routers.get('auto')?.router) : undefined;
    if (semantic !== undefined) {
      route = await semantic.route(body.messages as never, { signal: options.signal });
      if (options.semanticRouter === undefined && options.context)
        events.route?.(options.context, 'auto', route);
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
    const tradeoff = auto.tradeoff ?? config.cost_quality_tradeoff;
    const profiles = candidates.map((g) => profileGroup(g, table.deployments(g), routeQuality[g]));
    const scored = scoreByTradeoff(profiles, tradeoff);
    const ranking = rankingOf(scored);
    const sort = options.provider?.sort;
    // OpenRouter's provider.sort decides outright; else `auto` is prompt-aware; an adaptive
    // router ranks its own pool by its weights (LiteLLM's, learning aside).
    let decision =
      sort !== undefined
        ? await this.sortPick(profiles, sort)
        : fixed === undefined
          ? await this.difficultyPick(body, profiles, tradeoff, route, options)
          : undefined;
    if (decision === undefined && fixed === undefined) {
      decision = {
        router: 'auto',
        kind: 'auto',
        cause: 'tradeoff',
        candidates: profiles.map((p) => p.group),
        chosen: scored[0]!.profile.group,
        baseline: dearest(profiles),
      };
    }
    if (decision !== undefined) decision = { ...decision, tradeoff, ranking };
    const group = decision?.chosen ?? scored[0]!.profile.group;
    return { group, wildcard: undefined, route, prefer: undefined, sticky: key, pool, decision };
  }

  /** `auto` with OpenRouter's provider.sort: the cheapest candidate, or the fastest as measured. */
  private async sortPick(profiles: GroupProfile[], sort: ProviderSort): Promise<CostDecision> {
    let chosen: string;
    if (sort === 'price')
      chosen = [...profiles].sort(
        (a, b) => (a.cost ?? Number.POSITIVE_INFINITY) - (b.cost ?? Number.POSITIVE_INFINITY),
      )[0]!.group;
    else {
      const measured = await this.deps.measure(
        profiles.map((p) => p.group),
        sort,
      );
      chosen = [...profiles].sort((a, b) => {
        const va = measured.get(a.group);
        const vb = measured.get(b.group);
        if (va === undefined || vb === undefined)
          return (va === undefined ? 1 : 0) - (vb === undefined ? 1 : 0);
        return sort === 'latency' ? va - vb : vb - va;
      })[0]!.group;
    }
    return {
      router: 'auto',
      kind: 'auto',
      cause: `provider.sort: ${sort}`,
      candidates: profiles.map((p) => p.group),
      chosen,
      baseline: dearest(profiles),
    };
  }

  /**
   * `auto`, prompt-aware: between the cheapest candidate (rank at tradeoff 10) and the best
   * (tradeoff 0), the best when the prompt's difficulty reaches tradeoff / 10. At the default 7,
   * the hardest 30% of prompts (as the difficulty model places them) get the best candidate.
   * Undefined when there is nothing to choose between, or no difficulty model.
   */
  private async difficultyPick(
    body: ChatBody,
    profiles: GroupProfile[],
    tradeoff: number,
    route: RouteResult | undefined,
    options: RequestOptions,
  ): Promise<CostDecision | undefined> {
    const cheapest = rankByTradeoff(profiles, 10)[0]!.group;
    // The best by quality; where qualities are equal (or unknown), the dearer one.
    const topQuality = Math.max(...profiles.map((p) => p.quality ?? 5));
    const best = profiles
      .filter((p) => (p.quality ?? 5) === topQuality)
      .reduce((a, b) => ((b.cost ?? 0) > (a.cost ?? 0) ? b : a)).group;
    if (cheapest === best) return undefined;
    const scorer = await this.deps.autoDifficulty();
    if (scorer === undefined) return undefined;
    const ask = askOf(body.messages);
    if (ask.text === '') return undefined;
    // The text the semantic router embedded, when it did: the encoder's cache answers it.
    const [embedding] = await scorer.encoder.embed([route?.query ?? ask.text], { signal: options.signal });
    const prediction = scorer.model.predict(ask, embedding);
    const threshold = Math.min(1, Math.max(0, tradeoff / 10));
    const costOf = (g: string) => profiles.find((p) => p.group === g)?.cost ?? 0;
    const baseline = [...profiles].sort((a, b) => (b.cost ?? 0) - (a.cost ?? 0))[0]!.group;
    return {
      router: 'auto',
      kind: 'auto',
      cause: 'difficulty',
      difficulty: prediction.difficulty,
      threshold,
      quality: {
        [cheapest]: prediction.quality[scorer.model.cheapest]!,
        [best]: prediction.quality[scorer.model.strongest]!,
      },
      candidates: profiles.map((p) => p.group),
      chosen: prediction.difficulty >= threshold ? best : cheapest,
      baseline: costOf(baseline) > 0 ? baseline : best,
    };
  }
}
