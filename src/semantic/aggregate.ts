/**
 * From utterance hits to route scores, and from route scores to a decision. Pure functions:
 * `route()`, `evaluate()` and `fit()` all decide through `decide()`, so what fit optimises is
 * exactly what route does.
 */
import type { Aggregation } from '../config/router-config.js';

/** How a route's utterance hits combine into its score. */
export interface Scoring {
  aggregation: Aggregation;
  topK: number;
}

export interface RouteScore {
  /** Route index. */
  route: number;
  score: number;
  /** The best utterance label of this route among the hits; -1 when none of its utterances was retrieved. */
  best: number;
  /**
   * The parts of a hybrid score, each a cosine: kNN (aggregated), centroid, lexical; with
   * `scoring: head`, also the head's key that ordered the candidates (not a cosine).
   */
  components?: { knn: number; centroid: number; lexical: number; head?: number } | undefined;
}

/**
 * Aggregates hits (best first) per route. `max`: the route's best hit; `mean`: mean of its
 * hits; `top_k_mean`: mean of its best `topK` hits. Routes without hits are absent.
 */
export function aggregateHits(
  labels: readonly number[],
  scores: readonly number[],
  routeOf: (label: number) => number,
  aggregation: Aggregation,
  topK: number,
  /** Utterances a route has in all; a route with fewer than topK averages over what it has. */
  routeSize: (route: number) => number = () => topK,
): RouteScore[] {
  const acc = new Map<number, { sum: number; n: number; best: number; max: number }>();
  for (let i = 0; i < labels.length; i++) {
    const route = routeOf(labels[i]!);
    if (route < 0) continue;
    const score = scores[i]!;
    let a = acc.get(route);
    if (a === undefined) {
      a = { sum: 0, n: 0, best: labels[i]!, max: score };
      acc.set(route, a);
    }
    if (aggregation === 'top_k_mean' && a.n >= topK) continue;
    a.sum += score;
    a.n += 1;
  }
  // A route with fewer than topK hits among those retrieved has its missing hits scored at
  // the last retrieved score: an upper bound on them, so one lucky hit is not averaged alone.
  // A route with fewer than topK utterances in all averages over the ones it has.
  const floor = scores.length > 0 ? scores[scores.length - 1]! : 0;
  const out: RouteScore[] = [];
  for (const [route, a] of acc) {
    let score = a.max;
    if (aggregation === 'mean') score = a.sum / a.n;
    else if (aggregation === 'top_k_mean') {
      const k = Math.max(a.n, Math.min(topK, routeSize(route)));
      score = (a.sum + (k - a.n) * floor) / k;
    }
    out.push({ route, score, best: a.best });
  }
  out.sort((x, y) => y.score - x.score || x.route - y.route);
  return out;
}

/** The first candidate (best first) whose score reaches its route's threshold, or -1. */
export function decide(candidates: readonly RouteScore[], thresholds: ArrayLike<number>): number {
  for (let i = 0; i < candidates.length; i++) {
    const c = candidates[i]!;
    if (c.score >= thresholds[c.route]!) return i;
  }
  return -1;
}
