/** The body of a routing explanation (`POST /v1/route` and the route page's tries): one shape for both. */
import type { RouteResult } from '../semantic/semantic-router.js';

export interface Explained {
  model: string;
  deploymentId: string | undefined;
  route: RouteResult | undefined;
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
    coverage: r?.coverage ?? null,
    timing_ms: performance.now() - startedAt,
  };
}
