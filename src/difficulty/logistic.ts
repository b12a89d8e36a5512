/**
 * Logistic regression, deterministic: full-batch Adam from zero weights for a fixed number of
 * epochs with L2, so the same rows give the same model on every machine. Two forms: dense rows
 * (embedding and structure) and sparse ones (hashed words).
 */
import type { SparseRow } from './features.js';

export interface TrainOptions {
  l2: number;
  epochs: number;
  lr: number;
}

export const DENSE_TRAINING: TrainOptions = { l2: 1e-3, epochs: 300, lr: 0.05 };
export const SPARSE_TRAINING: TrainOptions = { l2: 3e-4, epochs: 200, lr: 0.1 };

const sigmoid = (z: number) => 1 / (1 + Math.exp(-z));

function adam(
  w: Float64Array,
  g: Float64Array,
  m: Float64Array,
  v: Float64Array,
  e: number,
  o: TrainOptions,
  n: number,
  bias: number,
) {
  const b1 = 1 - 0.9 ** e;
  const b2 = 1 - 0.999 ** e;
  for (let j = 0; j < w.length; j++) {
    const gj = g[j]! / n + (j === bias ? 0 : o.l2 * w[j]!);
    if (gj === 0 && m[j] === 0) continue;
    m[j] = 0.9 * m[j]! + 0.1 * gj;
    v[j] = 0.999 * v[j]! + 0.001 * gj * gj;
    w[j]! -= (o.lr * (m[j]! / b1)) / (Math.sqrt(v[j]! / b2) + 1e-8);
  }
}

/** Weights [d features…, bias] of P(y = 1 | x) for rows `rows` of X (n × d, row-major). */
export function trainDense(
  X: Float64Array,
  d: number,
  y: ArrayLike<number>,
  rows: readonly number[],
  o = DENSE_TRAINING,
): Float64Array {
  const w = new Float64Array(d + 1);
  const m = new Float64Array(d + 1);
  const v = new Float64Array(d + 1);
  const g = new Float64Array(d + 1);
  for (let e = 1; e <= o.epochs; e++) {
    g.fill(0);
    for (const i of rows) {
      const at = i * d;
      let z = w[d]!;
      for (let j = 0; j < d; j++) z += w[j]! * X[at + j]!;
      const r = sigmoid(z) - y[i]!;
      for (let j = 0; j < d; j++) g[j]! += r * X[at + j]!;
      g[d]! += r;
    }
    adam(w, g, m, v, e, o, rows.length, d);
  }
  return w;
}

export function denseProbability(w: ArrayLike<number>, x: ArrayLike<number>, offset = 0): number {
  const d = w.length - 1;
  let z = w[d]!;
  for (let j = 0; j < d; j++) z += w[j]! * x[offset + j]!;
  return sigmoid(z);
}

/** Weights [buckets…, bias] of P(y = 1 | words). */
export function trainSparse(
  rows: readonly SparseRow[],
  buckets: number,
  y: ArrayLike<number>,
  use: readonly number[],
  o = SPARSE_TRAINING,
): Float64Array {
  const w = new Float64Array(buckets + 1);
  const m = new Float64Array(buckets + 1);
  const v = new Float64Array(buckets + 1);
  const g = new Float64Array(buckets + 1);
  for (let e = 1; e <= o.epochs; e++) {
    g.fill(0);
    for (const i of use) {
      const r = rows[i]!;
      let z = w[buckets]!;
      for (let k = 0; k < r.idx.length; k++) z += w[r.idx[k]!]! * r.val[k]!;
      const d = sigmoid(z) - y[i]!;
      for (let k = 0; k < r.idx.length; k++) g[r.idx[k]!]! += d * r.val[k]!;
      g[buckets]! += d;
    }
    adam(w, g, m, v, e, o, use.length, buckets);
  }
  return w;
}

export function sparseProbability(w: ArrayLike<number>, row: SparseRow): number {
  let z = w[w.length - 1]!;
  for (let k = 0; k < row.idx.length; k++) z += w[row.idx[k]!]! * row.val[k]!;
  return sigmoid(z);
}
