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
import type { SearchHits } from '../vector-index/vector-index.js';
import { aggregateHits, type RouteScore, type Scoring } from './aggregate.js';

export interface Probe {
  hits: SearchHits;
  /** Cosine to each route's centroid (hybrid only). */
  centroid: Float64Array | undefined;
  /** TF-IDF cosine to each route (hybrid only; zeros when there was no text). */
  lexical: Float64Array | undefined;
  /** The trained head's order key of each route (`scoring: head` only; `head.ts`). */
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
  const out: RouteScore[] = new Array(tables.routeCount);
  const head = probe.head;
  for (let r = 0; r < tables.routeCount; r++) {
    const components: NonNullable<RouteScore['components']> = {
      knn: knn[r]!,
      centroid: probe.centroid[r]!,
      lexical: probe.lexical[r]!,
    };
    if (head !== undefined) components.head = head[r]!;
    out[r] = {
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
