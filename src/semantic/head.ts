/**
 * The trained head (`scoring: "head"`): a softmax classifier over the routes, fitted on the
 * routes' own utterances and descriptions, that orders the candidates. The out-of-scope gate
 * stays the hybrid score of the candidate (its threshold keeps the hybrid scale), so the head
 * changes which route wins, never how often the router abstains.
 *
 * A candidate's order key is its logit `w_r · x + b_r` plus `HEAD_LEXICAL_WEIGHT` × its TF-IDF
 * cosine: the head learns from embeddings, the lexical part brings the words (CLINC150, K=3:
 * the logit alone 71.6%, with the lexical part 73.9%, hybrid 72.8%; README, "Routing quality").
 *
 * Training is deterministic: rows in label order, full-batch gradient descent with momentum
 * for a fixed number of epochs from the centroids, plain float arithmetic (no SIMD, no
 * threads), so two machines, or a restart that retrains, get the same weights bit for bit.
 * Each row's softmax runs over its own route and the `NEGATIVES` routes nearest to it by
 * centroid, so an epoch costs rows × 32 × dimensions whatever the number of routes.
 */

import { rowDots } from '../vector-index/row-dots.js';
import { offerTop } from '../vector-index/top-k.js';

/** Bump when training changes: a saved head of another version is retrained. */
export const HEAD_VERSION = 1;

/** Weight of the TF-IDF cosine in the order key (chosen on CLINC150's val split, K=1/3/10). */
export const HEAD_LEXICAL_WEIGHT = 5;

const EPOCHS = 40;
const LEARNING_RATE = 1;
const MOMENTUM = 0.9;
const L2 = 1e-4;
/** Norm of the centroid rows training starts from (a softmax temperature of 0.1). */
const INITIAL_NORM = 10;
/** Routes in each row's softmax: its own and the nearest others (all of them below this). */
const NEGATIVES = 32;

export interface RouteHead {
  /** One row of `dimensions` weights per route. */
  weights: Float32Array;
  bias: Float32Array;
  routeCount: number;
  dimensions: number;
}

export interface HeadRow {
  route: number;
  vector: Float32Array;
}

/** Fits the head on the routes' rows (utterances and descriptions, in label order). */
export function trainHead(rows: readonly HeadRow[], routeCount: number, dimensions: number): RouteHead {
  const d = dimensions;
  const usable = rows.filter((r) => r.route >= 0 && r.route < routeCount);
  const n = usable.length;
  // Float64 while training (no float32 rounding on every read), float32 once done.
  const x = new Float64Array(n * d);
  const y = new Int32Array(n);
  usable.forEach((row, i) => {
    x.set(row.vector.subarray(0, d), i * d);
    y[i] = row.route;
  });
  const weights = new Float64Array(routeCount * d);
  for (let i = 0; i < n; i++) {
    const w = y[i]! * d;
    const xo = i * d;
    for (let k = 0; k < d; k++) weights[w + k]! += x[xo + k]!;
  }
  for (let r = 0; r < routeCount; r++) {
    const o = r * d;
    let sum = 0;
    for (let k = 0; k < d; k++) sum += weights[o + k]! * weights[o + k]!;
    if (sum === 0) continue;
    const scale = INITIAL_NORM / Math.sqrt(sum);
    for (let k = 0; k < d; k++) weights[o + k]! *= scale;
  }
  const m = Math.min(NEGATIVES, routeCount);
  const candidates = nearestRoutes(x, y, n, weights, routeCount, d, m);
  const bias = new Float64Array(routeCount);
  const gradient = new Float64Array(routeCount * d);
  const gradientBias = new Float64Array(routeCount);
  const velocity = new Float64Array(routeCount * d);
  const velocityBias = new Float64Array(routeCount);
  const z = new Float64Array(m);
  for (let epoch = 0; epoch < EPOCHS && n > 0; epoch++) {
    gradient.fill(0);
    gradientBias.fill(0);
    for (let i = 0; i < n; i++) {
      const xo = i * d;
      let max = -Infinity;
      for (let j = 0; j < m; j++) {
        const r = candidates[i * m + j]!;
        const s = bias[r]! + dot(weights, r * d, x, xo, d);
        z[j] = s;
        if (s > max) max = s;
      }
      let sum = 0;
      for (let j = 0; j < m; j++) {
        z[j] = Math.exp(z[j]! - max);
        sum += z[j]!;
      }
      // Slot 0 is the row's own route.
      for (let j = 0; j < m; j++) {
        const g = z[j]! / sum - (j === 0 ? 1 : 0);
        if (Math.abs(g) < 1e-5) continue;
        const r = candidates[i * m + j]!;
        gradientBias[r]! += g;
        addScaled(gradient, r * d, x, xo, d, g);
      }
    }
    for (let q = 0; q < weights.length; q++) {
      velocity[q] = MOMENTUM * velocity[q]! + gradient[q]! / n + L2 * weights[q]!;
      weights[q]! -= LEARNING_RATE * velocity[q]!;
    }
    for (let r = 0; r < routeCount; r++) {
      velocityBias[r] = MOMENTUM * velocityBias[r]! + gradientBias[r]! / n;
      bias[r]! -= LEARNING_RATE * velocityBias[r]!;
    }
  }
  return { weights: Float32Array.from(weights), bias: Float32Array.from(bias), routeCount, dimensions: d };
}

/**
 * For each row: its own route first, then the `m - 1` other routes with the highest initial
 * logit (ties to the lower route), in one pass per row keeping a short sorted list.
 */
function nearestRoutes(
  x: Float64Array,
  y: Int32Array,
  n: number,
  weights: Float64Array,
  routeCount: number,
  d: number,
  m: number,
): Int32Array {
  const out = new Int32Array(n * m);
  const keep = m - 1;
  const topRoute = new Int32Array(keep);
  const topScore = new Float64Array(keep);
  for (let i = 0; i < n; i++) {
    const xo = i * d;
    topScore.fill(-Infinity);
    topRoute.fill(-1);
    for (let r = 0; r < routeCount && keep > 0; r++)
      if (r !== y[i]) offerTop(topScore, topRoute, dot(weights, r * d, x, xo, d), r);
    out[i * m] = y[i]!;
    for (let j = 0; j < keep; j++) out[i * m + 1 + j] = topRoute[j]!;
  }
  return out;
}

/**
 * a[ao..ao+d) · b[bo..bo+d) in four running sums (half again as fast in V8 as one). The order
 * of additions is fixed, so the result is the same on every machine.
 */
function dot(a: Float64Array, ao: number, b: Float64Array, bo: number, d: number): number {
  let s0 = 0;
  let s1 = 0;
  let s2 = 0;
  let s3 = 0;
  let k = 0;
  for (; k + 3 < d; k += 4) {
    s0 += a[ao + k]! * b[bo + k]!;
    s1 += a[ao + k + 1]! * b[bo + k + 1]!;
    s2 += a[ao + k + 2]! * b[bo + k + 2]!;
    s3 += a[ao + k + 3]! * b[bo + k + 3]!;
  }
  for (; k < d; k++) s0 += a[ao + k]! * b[bo + k]!;
  return s0 + s1 + s2 + s3;
}

/** out[oo..oo+d) += g · x[xo..xo+d). */
function addScaled(out: Float64Array, oo: number, x: Float64Array, xo: number, d: number, g: number): void {
  let k = 0;
  for (; k + 3 < d; k += 4) {
    out[oo + k]! += g * x[xo + k]!;
    out[oo + k + 1]! += g * x[xo + k + 1]!;
    out[oo + k + 2]! += g * x[xo + k + 2]!;
    out[oo + k + 3]! += g * x[xo + k + 3]!;
  }
  for (; k < d; k++) out[oo + k]! += g * x[xo + k]!;
}

/**
 * Each route's order key for a unit query: its logit plus the weighted lexical cosine; for
 * every route, or only those of `routes` (the rest 0).
 */
export function headScores(
  head: RouteHead,
  query: Float32Array,
  lexical: ArrayLike<number>,
  routes?: Int32Array | undefined,
): Float64Array {
  const { weights, bias, routeCount } = head;
  const out = new Float64Array(routeCount);
  const chosen = routes ?? Int32Array.from({ length: routeCount }, (_, r) => r);
  rowDots(weights, head.dimensions).dots(query, chosen, out);
  for (const r of chosen) out[r] = bias[r]! + out[r]! + HEAD_LEXICAL_WEIGHT * (lexical[r] ?? 0);
  return out;
}
