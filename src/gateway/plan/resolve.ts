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
import { autoOptions, filterPool, profileGroup, rankByTradeoff } from './auto.js';
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
}

export interface PlannerDeps {
  config: GatewayConfig;
  table: ModelTable;
  semantic: SemanticRouters;
  sticky: StickySessions;
  events: EventListeners;
}

export class Planner {
  constructor(private readonly deps: PlannerDeps) {}

  async plan(body: ChatBody & { model: string }, options: RequestOptions = {}): Promise<Plan> {
    const { table, semantic: routers, events } = this.deps;
    const requested = table.aliasTarget(body.model);
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
    if (AUTO_MODELS.has(requested)) return this.planAuto(body, options, undefined);
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
        return {
          group: pinned.group,
          wildcard: undefined,
          route: undefined,
          prefer: pinned.deployment,
          sticky: key,
          pool,
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
    const ranked = rankByTradeoff(
      candidates.map((g) => profileGroup(g, table.deployments(g), routeQuality[g])),
      auto.tradeoff ?? config.cost_quality_tradeoff,
    );
    return { group: ranked[0]!.group, wildcard: undefined, route, prefer: undefined, sticky: key, pool };
  }
}
