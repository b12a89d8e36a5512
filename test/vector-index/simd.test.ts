/**
 * The WebAssembly SIMD kernels against the JavaScript loops they replace: the same bits, for any
 * size (odd routes, dimensions not a multiple of four), by either path.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { denseRows } from '../../src/semantic/dense-rows.js';
import { dotAt } from '../../src/vector-index/dot.js';
import { rowDots, WASM_ROWS_FROM } from '../../src/vector-index/row-dots.js';
import { kernelBytes } from '../../src/vector-index/simd.js';

const float = fc.float({ min: -4, max: 4, noNaN: true, noDefaultInfinity: true });

describe('SIMD kernels', () => {
  it('are valid WebAssembly, which Node 20 runs with SIMD on every CPU it supports', () => {
    const api = (globalThis as { WebAssembly?: { validate(b: Uint8Array): boolean } }).WebAssembly;
    expect(api?.validate(kernelBytes())).toBe(true);
  });

  it('rowDots: each chosen row · the query is dotAt’s answer bit for bit, in WebAssembly and in JavaScript', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: WASM_ROWS_FROM, max: WASM_ROWS_FROM + 40 }),
        fc.integer({ min: 1, max: 70 }),
        fc.integer({ min: 0, max: 2 ** 31 - 1 }),
        (rowCount, d, seed) => {
          let x = seed;
          const next = () => {
            x = (Math.imul(x, 1_103_515_245) + 12_345) | 0;
            return ((x >>> 8) / 2 ** 24) * 2 - 1;
          };
          const matrix = Float32Array.from({ length: rowCount * d }, next);
          const query = Float32Array.from({ length: d }, next);
          const rows = Int32Array.from({ length: rowCount }, (_, r) => r).filter(() => next() > -0.4);
          const fast = rowDots(matrix, d);
          const plain = rowDots(matrix, d, { wasm: false });
          expect(fast.kind).toBe('wasm');
          expect(plain.kind).toBe('js');
          const a = new Float64Array(rowCount);
          const b = new Float64Array(rowCount);
          fast.dots(query, rows, a);
          plain.dots(query, rows, b);
          const want = new Float64Array(rowCount);
          for (const r of rows) want[r] = dotAt(matrix, r * d, query);
          expect([...a]).toEqual([...want]);
          expect([...b]).toEqual([...want]);
        },
      ),
      { numRuns: 300, seed: 34 },
    );
  });

  it('rowDots: a row it does not have, or a query of another size, is answered as dotAt answers it', () => {
    const rows = WASM_ROWS_FROM;
    const matrix = Float32Array.from({ length: rows * 4 }, (_, i) => i / 7);
    const dots = rowDots(matrix, 4);
    expect(dots.kind).toBe('wasm');
    const out = new Float64Array(rows + 1);
    dots.dots(Float32Array.of(1, 2, 3, 4), [0, rows], out);
    expect(out[0]).toBe(dotAt(matrix, 0, Float32Array.of(1, 2, 3, 4)));
    // Row `rows` is past the matrix: NaN, as the plain loop gives, not memory past it.
    expect(out[rows]).toBeNaN();
    // A small matrix stays in JavaScript: compiling the kernel would cost more than it saves.
    expect(rowDots(Float32Array.from({ length: 12 }), 4).kind).toBe('js');
  });

  it('addRow: dense rows add into the sums as the plain loop does, for odd and even route counts', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 45 }),
        fc.array(fc.tuple(fc.integer({ min: 0, max: 11 }), float), { minLength: 1, maxLength: 20 }),
        fc.array(float, { minLength: 12 * 45, maxLength: 12 * 45 }),
        (routeCount, adds, values) => {
          // Twelve features in every route: each gets a row.
          const offsets = Int32Array.from({ length: 13 }, (_, f) => f * routeCount);
          const routes = Int32Array.from({ length: 12 * routeCount }, (_, p) => p % routeCount);
          const weights = Float32Array.from(routes, (_, p) => values[p]!);
          const postings = { offsets, routes, weights, routeCount };
          const fast = denseRows(postings);
          const plain = denseRows(postings, { wasm: false });
          expect(fast.kind).toBe('wasm');
          const want = new Float64Array(routeCount);
          for (const rows of [fast, plain]) {
            rows.reset();
            for (const [f, q] of adds) rows.addRow(rows.rowOf[f]!, q);
          }
          for (const [f, q] of adds)
            for (let p = offsets[f]!; p < offsets[f + 1]!; p++) want[routes[p]!]! += q * weights[p]!;
          expect([...fast.sums]).toEqual([...want]);
          expect([...plain.sums]).toEqual([...want]);
        },
      ),
      { numRuns: 200, seed: 34 },
    );
  });
});
