/**
 * A query's route scores. `dense`: the kNN score alone (the route's nearest utterances,
 * aggregated). `hybrid`: w_knn · kNN + w_centroid · centroid cosine + w_lexical · TF-IDF cosine,
 * over every route: a route none of whose utterances was retrieved gets the kNN floor (the
 * lowest retrieved score), as `top_k_mean` fills its missing hits. `head`: the hybrid scores,
 * ordered by the trained head's key instead of by score (the gate is still the score).
 *
 * What does not depend on the aggregation (the search, the centroid and lexical cosines) is
 * computed once per query in a `Probe`; `fit()` then tries aggregations on the same probes.
 */
import type { HybridWeights, RouterConfig } from '../config/router-config.js';
import { offerTop } from '../vector-index/top-k.js';
import type { SearchHits } from '../vector-index/vector-index.js';
import { aggregateHits, type RouteScore, type Scoring } from './aggregate.js';

export interface Probe {
  hits: SearchHits;
  /**
   * The routes the hybrid score is computed for (hybrid only): every route of a small router;
   * of a larger one, the routes with a retrieved utterance, the best lexical ones and any the
   * caller names (see `candidateRoutes`). Undefined: every route.
   */
  routes?: Int32Array | undefined;
  /** Cosine to each route's centroid (hybrid only; filled at `routes`). */
  centroid: Float64Array | undefined;
  /** TF-IDF cosine to each route (hybrid only; zeros when there was no text). */
  lexical: Float64Array | undefined;
  /** The trained head's order key of each route (`scoring: head` only, filled at `routes`; `head.ts`). */
  head?: Float64Array | undefined;
}

export interface ScoreTables {
  routeCount: number;
  routeOf(label: number): number;
  sizeOf(route: number): number;
}

/** The weights scaled to sum to 1, so that thresholds keep their scale whatever the mix. */
export function normalisedWeights(w: HybridWeights): HybridWeights {
  const sum = w.knn + w.centroid + w.lexical;
  return { knn: w.knn / sum, centroid: w.centroid / sum, lexical: w.lexical / sum };
}

/** Whether the router keeps the hybrid tables (centroids, lexical): `hybrid` and `head` do. */
export function isHybrid(config: RouterConfig): boolean {
  return config.scoring !== 'dense';
}

/** Route scores, best first, for one probed query. */
export function rank(
  probe: Probe,
  tables: ScoreTables,
  scoring: Scoring,
  weights: HybridWeights | undefined,
): RouteScore[] {
  const { hits } = probe;
  const dense = aggregateHits(
    hits.labels,
    hits.scores,
    (label) => tables.routeOf(label),
    scoring.aggregation,
    scoring.topK,
    (route) => tables.sizeOf(route),
  );
  if (weights === undefined || probe.centroid === undefined || probe.lexical === undefined) return dense;
  const floor = hits.scores.length > 0 ? hits.scores[hits.scores.length - 1]! : 0;
  const knn = new Float64Array(tables.routeCount).fill(floor);
  const best = new Int32Array(tables.routeCount).fill(-1);
  for (const d of dense) {
    knn[d.route] = d.score;
    best[d.route] = d.best;
  }
  const routes = probe.routes;
  const count = routes === undefined ? tables.routeCount : routes.length;
  const out: RouteScore[] = new Array(count);
  const head = probe.head;
  for (let i = 0; i < count; i++) {
    const r = routes === undefined ? i : routes[i]!;
    const components: NonNullable<RouteScore['components']> = {
      knn: knn[r]!,
      centroid: probe.centroid[r]!,
      lexical: probe.lexical[r]!,
    };
    if (head !== undefined) components.head = head[r]!;
    out[i] = {
      route: r,
      score:
        weights.knn * components.knn +
        weights.centroid * components.centroid +
        weights.lexical * components.lexical,
      best: best[r]!,
      components,
    };
  }
  if (head !== undefined) out.sort((x, y) => head[y.route]! - head[x.route]! || x.route - y.route);
  else out.sort((x, y) => y.score - x.score || x.route - y.route);
  return out;
}

/** Routers up to this many routes score every route (as cheap as choosing which). */
export const ALL_ROUTES_BELOW = 64;
/** The best lexical routes scored besides those with a retrieved utterance. */
export const LEXICAL_CANDIDATES = 8;

/**
 * Which routes a large router computes the hybrid score for: those with an utterance among the
 * nearest `search_k`, the `LEXICAL_CANDIDATES` best by TF-IDF cosine (above 0), and `extra`.
 * A route outside all three has the kNN floor, a centroid no nearer than the retrieved
 * utterances' and no word in common worth naming: on CLINC150 (150 routes, K=1/3/10, 16,500
 * test queries) the full ranking's winner was among them every time. This bounds the centroid
 * and head work by the candidates, not by the routes. Sorted ascending.
 */
export function candidateRoutes(
  hits: SearchHits,
  routeOf: (label: number) => number,
  lexical: Float64Array,
  routeCount: number,
  extra?: Iterable<number>,
): Int32Array | undefined {
  if (routeCount < ALL_ROUTES_BELOW) return undefined;
  const seen = new Uint8Array(routeCount);
  for (const label of hits.labels) {
    const r = routeOf(label);
    if (r >= 0 && r < routeCount) seen[r] = 1;
  }
  // Filled with 0: only a lexical score above 0 is taken.
  const best = new Int32Array(LEXICAL_CANDIDATES).fill(-1);
  const bestScore = new Float64Array(LEXICAL_CANDIDATES);
  for (let r = 0; r < routeCount; r++) offerTop(bestScore, best, lexical[r]!, r);
  for (const r of best) if (r >= 0) seen[r] = 1;
  if (extra !== undefined) for (const r of extra) if (r >= 0 && r < routeCount) seen[r] = 1;
  let n = 0;
  for (let r = 0; r < routeCount; r++) n += seen[r]!;
  const out = new Int32Array(n);
  let at = 0;
  for (let r = 0; r < routeCount; r++) if (seen[r] === 1) out[at++] = r;
  return out;
}
