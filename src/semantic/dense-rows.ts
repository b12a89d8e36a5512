/**
 * The lexical features most routes share, as dense rows of route weights, and the sums a query
 * adds them into. A large router's query shares most of its character n-grams with most routes:
 * walked as postings, each costs an index load and a scattered add per route; a row is one
 * straight pass. On the bench's 2,000-route router, 1,059 features in a quarter of the routes or
 * more hold 1.8 M of its 2.6 M postings, and their rows take less memory than those postings.
 *
 * The pass runs in WebAssembly SIMD (vector-index/simd.ts) where the runtime has it, else in
 * plain JavaScript. Both do, per route, `sum += q · weight` in float64, one feature at a time in
 * the caller's order: the sums are the same bits on every CPU and by either path, and the same
 * as the postings walk's (a route without the feature adds q · 0).
 */

import { align16, simdKernels } from '../vector-index/simd.js';

/** The sums one query is scored into; a view that stays valid for the rows' life. */
export interface RowSums {
  readonly sums: Float64Array;
  /** Sets every sum to 0 (before a query). */
  reset(): void;
  /** `sums[r] += q · row[r]` for every route. */
  addRow(row: number, q: number): void;
}

export interface DenseRows extends RowSums {
  /** Row of each feature, or -1 for one kept as postings. */
  readonly rowOf: Int32Array;
  readonly kind: 'wasm' | 'js';
}

/** A feature gets a row when at least this share of the routes has it. */
const ROW_SHARE = 4;

/** The rows of `features` postings (CSR, routes ascending, no route twice in one feature). */
export function denseRows(
  postings: { offsets: Int32Array; routes: Int32Array; weights: Float32Array; routeCount: number },
  options: { wasm?: boolean } = {},
): DenseRows {
  const { offsets, routes, weights, routeCount } = postings;
  const featureCount = offsets.length - 1;
  const rowOf = new Int32Array(featureCount).fill(-1);
  let count = 0;
  for (let f = 0; f < featureCount; f++)
    if ((offsets[f + 1]! - offsets[f]!) * ROW_SHARE >= routeCount) rowOf[f] = count++;
  const fast = options.wasm === false ? undefined : wasmStorage(count, routeCount);
  const storage = fast ?? jsStorage(count, routeCount);
  const { rows } = storage;
  for (let f = 0; f < featureCount; f++) {
    const row = rowOf[f]!;
    if (row < 0) continue;
    const base = row * routeCount;
    for (let p = offsets[f]!; p < offsets[f + 1]!; p++) rows[base + routes[p]!] = weights[p]!;
  }
  return { rowOf, kind: fast === undefined ? 'js' : 'wasm', ...storage.sums };
}

interface Storage {
  rows: Float32Array;
  sums: RowSums;
}

function jsStorage(count: number, routeCount: number): Storage {
  const rows = new Float32Array(count * routeCount);
  const sums = new Float64Array(routeCount);
  return {
    rows,
    sums: {
      sums,
      reset: () => sums.fill(0),
      addRow(row, q) {
        const base = row * routeCount;
        for (let r = 0; r < routeCount; r++) sums[r]! += q * rows[base + r]!;
      },
    },
  };
}

/** The sums at 0 in the instance's memory, then the rows. */
function wasmStorage(count: number, routeCount: number): Storage | undefined {
  const sumsBytes = align16(routeCount * 8);
  const kernels = simdKernels(sumsBytes + count * routeCount * 4);
  if (kernels === undefined) return undefined;
  const sums = new Float64Array(kernels.buffer, 0, routeCount);
  const rows = new Float32Array(kernels.buffer, sumsBytes, count * routeCount);
  const rowBytes = routeCount * 4;
  return {
    rows,
    sums: {
      sums,
      reset: () => sums.fill(0),
      addRow: (row, q) => kernels.addRow(sumsBytes + row * rowBytes, q, 0, routeCount),
    },
  };
}
