/** The body of a routing explanation (`POST /v1/route` and the route page's tries): one shape for both. */
import type { CostDecision } from '../gateway/plan/complexity.js';
import type { RouteResult } from '../semantic/semantic-router.js';

export interface Explained {
  model: string;
  deploymentId: string | undefined;
  route: RouteResult | undefined;
  decision?: CostDecision | undefined;
  /** Per candidate group: its price (USD per input / output token, cheapest deployment). */
  prices?: Record<string, { input: number | undefined; output: number | undefined }> | undefined;
}

/** The cost-quality part of an explanation: tier, difficulty, and each candidate's quality and price. */
function costQuality(explained: Explained) {
  const d = explained.decision;
  if (d === undefined) return null;
  return {
    router: d.router,
    kind: d.kind,
    tier: d.tier ?? null,
    tier_label: d.tierLabel ?? null,
    cause: d.cause ?? null,
    score: d.score ?? null,
    signals: d.signals ?? [],
    difficulty: d.difficulty ?? null,
    threshold: d.threshold ?? null,
    chosen: d.chosen,
    baseline: d.baseline,
    tradeoff: d.tradeoff ?? null,
    candidates: d.candidates.map((group) => {
      const ranked = d.ranking?.find((r) => r.group === group);
      return {
        model: group,
        predicted_quality: d.quality?.[group] ?? null,
        quality: ranked?.quality ?? null,
        tradeoff_score: ranked?.score ?? null,
        input_cost_per_token: explained.prices?.[group]?.input ?? null,
        output_cost_per_token: explained.prices?.[group]?.output ?? null,
      };
    }),
  };
}

export function explanationBody(explained: Explained, startedAt: number) {
  const r = explained.route;
  return {
    model: explained.model,
    deployment: explained.deploymentId ?? null,
    route: r?.name ?? null,
    score: r?.score ?? null,
    threshold: r?.threshold ?? null,
    matched: r?.matched ?? null,
    candidates: r?.candidates ?? [],
    reason: r?.reason ?? null,
    language: r?.language ?? null,
    coverage: r?.coverage ?? null,
    cost_quality: costQuality(explained),
    timing_ms: performance.now() - startedAt,
  };
}
