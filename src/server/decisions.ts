/**
 * Recent routing decisions for the route page: the last N (route, score, threshold, model) and
 * counts per router and route since start. Prompt text is kept only when
 * `general_settings.log_prompts` is on: prompts are the users' data, not ours.
 */
import type { EventListeners } from '../gateway/events.js';
import type { RouteResult } from '../semantic/semantic-router.js';

export interface Decision {
  at: string;
  /** The model asked for: an `auto_router/…` entry's name, or `auto`. */
  router: string;
  route: string | null;
  score: number;
  threshold: number;
  reason: RouteResult['reason'];
  ms: number;
  prompt?: string | undefined;
}

export class DecisionLog {
  private readonly recent: Decision[] = [];
  private readonly counts = new Map<string, Map<string, number>>();

  constructor(
    private readonly capacity = 50,
    private readonly now: () => number = Date.now,
  ) {}

  record(router: string, result: RouteResult, prompt: string | undefined): void {
    this.recent.push({
      at: new Date(this.now()).toISOString(),
      router,
      route: result.name,
      score: result.score,
      threshold: result.threshold,
      reason: result.reason,
      ms: result.timing.totalMs,
      ...(prompt === undefined ? {} : { prompt }),
    });
    if (this.recent.length > this.capacity) this.recent.shift();
    const byRoute = this.counts.get(router) ?? new Map<string, number>();
    const key = result.name ?? '(default)';
    byRoute.set(key, (byRoute.get(key) ?? 0) + 1);
    this.counts.set(router, byRoute);
  }

  /** Router events that feed this log; prompts only while `keepPrompts()` says so. */
  events(keepPrompts: () => boolean): EventListeners {
    return {
      // The text the router embedded, exactly: never extracted again here with other options.
      route: (_ctx, router, result) =>
        this.record(router, result, keepPrompts() ? (result.query ?? undefined) : undefined),
    };
  }

  snapshot(): { recent: Decision[]; counts: Record<string, Record<string, number>> } {
    return {
      recent: [...this.recent].reverse(),
      counts: Object.fromEntries([...this.counts].map(([r, m]) => [r, Object.fromEntries(m)])),
    };
  }
}
