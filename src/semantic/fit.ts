/**
 * fit(): chooses the aggregation and the thresholds from labelled rows (their `null` rows
 * included, so abstaining is rewarded), then applies them and saves them with the artefact.
 *
 * Better than a random walk over thresholds: for each aggregation, the best global threshold
 * is found exactly by one sweep over the sorted top scores; then per-route thresholds are
 * refined by coordinate search over a 0.005 grid around the global threshold, each move kept
 * only when it strictly increases the number of right answers, and shrunk toward the global
 * threshold by as much as two-fold cross-validation says generalises.
 */
import type { Aggregation } from '../config/router-config.js';
import { decide, type RouteScore } from './aggregate.js';
import type { FitRecord } from './artefact.js';
import { embedRows, type LabelledRow, type Metrics, metricsFrom, probeAll, rankAll } from './evaluate.js';
import type { SemanticRouter } from './semantic-router.js';

export interface FitOptions {
  /** `global`: one threshold for all routes; `per-route` (default): refined per route. */
  thresholds?: 'global' | 'per-route' | undefined;
  /** Try other aggregations too (default true); false keeps the router's. */
  searchAggregation?: boolean | undefined;
  /** How far a route's threshold may move from the global one. Default 0.15. */
  maxDeviation?: number | undefined;
  /** Coordinate-search sweeps. Default 3. */
  sweeps?: number | undefined;
  /**
   * What is maximised. `accuracy` (default): right answers over all rows. `balanced`: the mean
   * of in-scope accuracy and out-of-scope recall, for labelled sets whose share of
   * out-of-scope rows is smaller than live traffic's.
   */
  objective?: 'accuracy' | 'balanced' | undefined;
  /** Save the fit beside the compiled artefact (default true). */
  save?: boolean | undefined;
}

export interface FitResult {
  aggregation: Aggregation;
  topK: number;
  /** The best single threshold for the chosen aggregation. */
  globalThreshold: number;
  /** 0 = global threshold only … 1 = per-route thresholds as refined (chosen by cross-validation). */
  shrinkage: number;
  thresholds: Record<string, number>;
  before: Metrics;
  after: Metrics;
  record: FitRecord;
}

const CANDIDATES_KEPT = 10;

const SCORINGS: ReadonlyArray<{ aggregation: Aggregation; topK: number }> = [
  { aggregation: 'max', topK: 1 },
  { aggregation: 'top_k_mean', topK: 2 },
  { aggregation: 'top_k_mean', topK: 3 },
  { aggregation: 'top_k_mean', topK: 5 },
  { aggregation: 'mean', topK: 3 },
];

/**
 * The best single threshold: a sweep over rows sorted by their top score. Of equally good
 * thresholds the highest is kept when some rows are out of scope (the margin an abstention
 * earned), the lowest when none is: then nothing rewards abstaining, and a higher threshold
 * would only reject in-scope traffic it was never measured against.
 */
export function bestGlobalThreshold(
  ranked: readonly (readonly RouteScore[])[],
  expected: Int32Array,
  weights: ArrayLike<number> = new Float64Array(expected.length).fill(1),
): { threshold: number; correct: number } {
  const rows = ranked.map((c, i) => ({
    score: c[0]?.score ?? -Infinity,
    routeOk: c[0] !== undefined && c[0].route === expected[i] ? weights[i]! : 0,
    nullOk: expected[i]! < 0 ? weights[i]! : 0,
  }));
  rows.sort((a, b) => b.score - a.score);
  const lowestOfTies = expected.every((e) => e >= 0);
  // Threshold above every score: everything abstains.
  let correct = rows.reduce((n, r) => n + r.nullOk, 0);
  let best = { threshold: Math.min(1, (rows[0]?.score ?? 0) + 1e-6), correct };
  for (let i = 0; i < rows.length; i++) {
    const r = rows[i]!;
    correct += r.routeOk - r.nullOk;
    const next = rows[i + 1]?.score ?? -Infinity;
    if (next === r.score) continue;
    if (correct > best.correct + 1e-12 || (lowestOfTies && correct >= best.correct - 1e-12)) {
      // Midway to the next lower score: the most margin on both sides.
      const threshold = Number.isFinite(next) ? (r.score + next) / 2 : Math.max(0, r.score - 1e-6);
      best = { threshold: Math.min(1, Math.max(0, threshold)), correct };
    }
  }
  return best;
}

function refinePerRoute(
  ranked: readonly (readonly RouteScore[])[],
  expected: Int32Array,
  weights: ArrayLike<number>,
  routes: number,
  global: number,
  options: { maxDeviation: number; sweeps: number },
): Float64Array {
  const thresholds = new Float64Array(routes).fill(global);
  const affected: number[][] = Array.from({ length: routes }, () => []);
  ranked.forEach((c, row) => {
    for (const cand of c) affected[cand.route]!.push(row);
  });
  const rowCorrect = (row: number) => {
    const c = ranked[row]!;
    const chosen = decide(c, thresholds);
    return (chosen < 0 ? -1 : c[chosen]!.route) === expected[row] ? weights[row]! : 0;
  };
  // Candidate thresholds: a 0.005 grid around the global one. Finer steps only fit noise.
  const grid: number[] = [];
  for (let d = -options.maxDeviation; d <= options.maxDeviation + 1e-9; d += 0.005) {
    const v = Math.round((global + d) * 1e4) / 1e4;
    if (v >= 0 && v <= 1) grid.push(v);
  }
  for (let sweep = 0; sweep < options.sweeps; sweep++) {
    let moved = false;
    for (let r = 0; r < routes; r++) {
      const rows = affected[r]!;
      if (rows.length === 0) continue;
      const current = thresholds[r]!;
      const count = () => rows.reduce((n, row) => n + rowCorrect(row), 0);
      let bestValue = current;
      let bestCount = count();
      for (const v of grid) {
        thresholds[r] = v;
        const n = count();
        // Strictly better, or as good and closer to the global threshold (less overfit).
        if (
          n > bestCount + 1e-12 ||
          (Math.abs(n - bestCount) <= 1e-12 && Math.abs(v - global) < Math.abs(bestValue - global))
        ) {
          bestCount = n;
          bestValue = v;
        }
      }
      thresholds[r] = bestValue;
      if (bestValue !== current) moved = true;
    }
    if (!moved) break;
  }
  return thresholds;
}

const SHRINKAGE = [0, 0.25, 0.5, 0.75, 1];

export function rowWeights(expected: Int32Array, objective: 'accuracy' | 'balanced'): Float64Array {
  const weights = new Float64Array(expected.length).fill(1);
  const oos = expected.reduce((n, e) => n + (e < 0 ? 1 : 0), 0);
  const inScope = expected.length - oos;
  if (objective === 'balanced' && oos > 0 && inScope > 0) {
    expected.forEach((e, i) => {
      weights[i] = e < 0 ? expected.length / (2 * oos) : expected.length / (2 * inScope);
    });
  }
  return weights;
}

/**
 * How far per-route thresholds should move from the global one, by two-fold cross-validation
 * on the rows: refined on one half, scored on the other. Per-route thresholds from 20 rows a
 * route overfit easily; when they do not help on held-out rows, this returns 0 (global only).
 */
function chooseShrinkage(
  ranked: readonly (readonly RouteScore[])[],
  expected: Int32Array,
  weights: Float64Array,
  routes: number,
  search: { maxDeviation: number; sweeps: number },
): number {
  const folds = [0, 1].map((f) => ranked.map((_, i) => i).filter((i) => i % 2 === f));
  const correct = new Float64Array(SHRINKAGE.length);
  for (const [f, held] of folds.entries()) {
    const train = folds[1 - f]!;
    const trainRanked = train.map((i) => ranked[i]!);
    const trainExpected = Int32Array.from(train, (i) => expected[i]!);
    const trainWeights = Float64Array.from(train, (i) => weights[i]!);
    const global = bestGlobalThreshold(trainRanked, trainExpected, trainWeights).threshold;
    const refined = refinePerRoute(trainRanked, trainExpected, trainWeights, routes, global, search);
    SHRINKAGE.forEach((lambda, s) => {
      const t = refined.map((r) => global + lambda * (r - global));
      for (const i of held) {
        const c = ranked[i]!;
        const chosen = decide(c, t);
        if ((chosen < 0 ? -1 : c[chosen]!.route) === expected[i]) correct[s]! += weights[i]!;
      }
    });
  }
  let best = 0;
  for (let s = 1; s < SHRINKAGE.length; s++) if (correct[s]! > correct[best]! + 1e-12) best = s;
  return SHRINKAGE[best]!;
}

export async function fit(
  router: SemanticRouter,
  rows: readonly LabelledRow[],
  options: FitOptions = {},
): Promise<FitResult> {
  const { vectors, texts, expected } = await embedRows(router, rows);
  const routeCount = router.routes.length;
  const currentThresholds = router.routes.map((r) => router.thresholdOf(r.name));
  const hits = probeAll(router, vectors, texts);
  const weights = rowWeights(expected, options.objective ?? 'accuracy');
  const before = metricsFrom(
    router,
    rankAll(router, hits, router.currentScoring),
    expected,
    currentThresholds,
  );

  const scorings = options.searchAggregation === false ? [router.currentScoring] : SCORINGS;
  let choice:
    | {
        scoring: { aggregation: Aggregation; topK: number };
        ranked: RouteScore[][];
        threshold: number;
        correct: number;
      }
    | undefined;
  for (const scoring of scorings) {
    const ranked = rankAll(router, hits, scoring).map((c) => c.slice(0, CANDIDATES_KEPT));
    const { threshold, correct } = bestGlobalThreshold(ranked, expected, weights);
    if (choice === undefined || correct > choice.correct) choice = { scoring, ranked, threshold, correct };
  }
  const picked = choice!;
  const search = { maxDeviation: options.maxDeviation ?? 0.15, sweeps: options.sweeps ?? 3 };
  let thresholds = new Float64Array(routeCount).fill(picked.threshold);
  let shrink = 0;
  if (options.thresholds !== 'global') {
    shrink = chooseShrinkage(picked.ranked, expected, weights, routeCount, search);
    const full = refinePerRoute(picked.ranked, expected, weights, routeCount, picked.threshold, search);
    thresholds = thresholds.map((g, r) => g + shrink * (full[r]! - g));
  }
  const byName: Record<string, number> = {};
  router.routes.forEach((r, i) => {
    byName[r.name] = thresholds[i]!;
  });
  const record: FitRecord = {
    basis: router.thresholdBasis(),
    aggregation: picked.scoring.aggregation,
    top_k: picked.scoring.topK,
    thresholds: byName,
    fittedAt: new Date().toISOString(),
    rows: rows.length,
  };
  router.applyFit(record);
  if (options.save !== false) await router.saveFit(record);
  const after = metricsFrom(router, rankAll(router, hits, picked.scoring), expected, thresholds);
  return {
    aggregation: picked.scoring.aggregation,
    topK: picked.scoring.topK,
    globalThreshold: picked.threshold,
    shrinkage: shrink,
    thresholds: byName,
    before,
    after,
    record,
  };
}
