/**
 * A query's inner product with chosen rows of a float32 matrix (route centroids, the head's
 * weights): the decision's dense pass after the search. In WebAssembly SIMD where the runtime has
 * it (simd.ts: the matrix is copied into the instance's memory once, on first use), else with
 * `dotAt`; the same bits either way.
 */
import { dotAt } from './dot.js';
import { align16, simdKernels } from './simd.js';

export interface RowDots {
  readonly kind: 'wasm' | 'js';
  /** `out[r] = row r · query` for each r of `rows`. */
  dots(query: Float32Array, rows: ArrayLike<number>, out: Float64Array): void;
}

/**
 * Fewer rows than this are dotted in JavaScript: a router of a few routes dots a few thousand
 * floats, less than compiling the kernel costs (~2 ms of a command line's start).
 */
export const WASM_ROWS_FROM = 64;

/** Made once per matrix and kept while the matrix lives (a new compile has new matrices). */
const MADE = new WeakMap<Float32Array, RowDots>();

export function rowDots(matrix: Float32Array, dimensions: number, options: { wasm?: boolean } = {}): RowDots {
  const cached = options.wasm === false ? undefined : MADE.get(matrix);
  if (cached !== undefined) return cached;
  const fast = options.wasm !== false && matrix.length >= WASM_ROWS_FROM * dimensions;
  const made = (fast ? wasmDots(matrix, dimensions) : undefined) ?? jsDots(matrix, dimensions);
  if (options.wasm !== false) MADE.set(matrix, made);
  return made;
}

function jsDots(matrix: Float32Array, d: number): RowDots {
  return {
    kind: 'js',
    dots(query, rows, out) {
      for (let i = 0; i < rows.length; i++) out[rows[i]!] = dotAt(matrix, rows[i]! * d, query);
    },
  };
}

/** Memory: the query, the row list, the results, then the matrix. */
function wasmDots(matrix: Float32Array, d: number): RowDots | undefined {
  const rowCount = Math.floor(matrix.length / d);
  const queryAt = 0;
  const listAt = align16(d * 4);
  const outAt = listAt + align16(rowCount * 4);
  const matrixAt = outAt + align16(rowCount * 8);
  const kernels = simdKernels(matrixAt + matrix.length * 4);
  if (kernels === undefined) return undefined;
  const { buffer } = kernels;
  new Float32Array(buffer, matrixAt, matrix.length).set(matrix);
  const query = new Float32Array(buffer, queryAt, d);
  const list = new Int32Array(buffer, listAt, rowCount);
  const results = new Float64Array(buffer, outAt, rowCount);
  // What the kernel cannot take (a query of another size, rows it does not have) goes the
  // JavaScript way, which answers it as it always did.
  const plain = jsDots(matrix, d);
  return {
    kind: 'wasm',
    dots(q, rows, out) {
      const n = rows.length;
      if (q.length !== d || n > rowCount) return plain.dots(q, rows, out);
      for (let i = 0; i < n; i++) {
        const r = rows[i]!;
        if (!(r >= 0 && r < rowCount)) return plain.dots(q, rows, out);
        list[i] = r;
      }
      query.set(q);
      kernels.dotRows(matrixAt, d, queryAt, listAt, n, outAt);
      for (let i = 0; i < n; i++) out[rows[i]!] = results[i]!;
    },
  };
}
