/**
 * Recent routing decisions for the route page: the last N (route, score, threshold, model) and
 * counts per router and route since start. Prompt text is kept only when
 * `general_settings.log_prompts` is on: prompts are the users' data, not ours.
 */
import type { EventListeners } from '../gateway/events.js';
import type { CostDecision } from '../gateway/plan/complexity.js';
import type { RouteResult } from '../semantic/semantic-router.js';

export interface Decision {
  at: string;
  /** The model asked for: an `auto_router/…` entry's name, a complexity router's, or `auto`. */
  router: string;
  /** `semantic` (a route), or `cost-quality` (a tier or a difficulty). */
  kind: 'semantic' | 'cost-quality';
  /** The route (semantic), or the tier (complexity router). */
  route: string | null;
  score: number;
  threshold: number;
  reason: RouteResult['reason'] | string;
  ms: number;
  prompt?: string | undefined;
  /** Cost-quality: the difficulty (0–1), the model that answered, what it cost and saved (USD). */
  difficulty?: number | undefined;
  model?: string | undefined;
  costUsd?: number | undefined;
  savedUsd?: number | undefined;
}

export class RecentDecisions {
  private readonly recent: Decision[] = [];
  private readonly counts = new Map<string, Map<string, number>>();

  constructor(
    private readonly capacity = 50,
    private readonly now: () => number = Date.now,
  ) {}

  private readonly saved = new Map<string, number>();

  record(router: string, result: RouteResult, prompt: string | undefined): void {
    this.push({
      at: new Date(this.now()).toISOString(),
      router,
      kind: 'semantic',
      route: result.name,
      score: result.score,
      threshold: result.threshold,
      reason: result.reason,
      ms: result.timing.totalMs,
      ...(prompt === undefined ? {} : { prompt }),
    });
  }

  /** A cost-quality decision that was served: its tier (or chosen model), difficulty and savings. */
  recordCost(
    decision: CostDecision,
    served: { model: string },
    costUsd: number | undefined,
    savedUsd: number | undefined,
  ): void {
    this.push({
      at: new Date(this.now()).toISOString(),
      router: decision.router,
      kind: 'cost-quality',
      route: decision.tier ?? decision.chosen,
      score: decision.difficulty ?? decision.score ?? 0,
      threshold: decision.threshold ?? 0,
      reason: decision.cause ?? 'difficulty',
      ms: 0,
      difficulty: decision.difficulty,
      model: served.model,
      costUsd,
      savedUsd,
    });
    if (savedUsd !== undefined)
      this.saved.set(decision.router, (this.saved.get(decision.router) ?? 0) + savedUsd);
  }

  private push(d: Decision): void {
    this.recent.push(d);
    if (this.recent.length > this.capacity) this.recent.shift();
    const byRoute = this.counts.get(d.router) ?? new Map<string, number>();
    const key = d.route ?? '(default)';
    byRoute.set(key, (byRoute.get(key) ?? 0) + 1);
    this.counts.set(d.router, byRoute);
  }

  /** Router events that feed this log; prompts only while `keepPrompts()` says so. */
  events(keepPrompts: () => boolean): EventListeners {
    return {
      // The text the router embedded, exactly: never extracted again here with other options.
      route: (_ctx, router, result) =>
        this.record(router, result, keepPrompts() ? (result.query ?? undefined) : undefined),
      succeeded: (_ctx, s) => {
        if (s.served.decision !== undefined)
          this.recordCost(s.served.decision, s.served, s.costUsd, s.savedUsd);
      },
    };
  }

  snapshot(): {
    recent: Decision[];
    counts: Record<string, Record<string, number>>;
    savedUsd: Record<string, number>;
  } {
    return {
      recent: [...this.recent].reverse(),
      counts: Object.fromEntries([...this.counts].map(([r, m]) => [r, Object.fromEntries(m)])),
      savedUsd: Object.fromEntries(this.saved),
    };
  }
}
