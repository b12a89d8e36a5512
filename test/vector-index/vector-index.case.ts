/** The conformance suite every VectorIndex passes (exact and HNSW). */
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ErrorCode, SemrouteError } from '../../src/errors.js';
import type { VectorIndex } from '../../src/vector-index/vector-index.js';
import { tempDir } from '../helpers/encoder.js';

export function randomUnit(d: number, rnd: () => number): Float32Array {
  const v = Float32Array.from({ length: d }, () => rnd() - 0.5);
  const n = Math.sqrt(v.reduce((s, x) => s + x * x, 0));
  return v.map((x) => x / n);
}

export function seeded(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 4294967296;
  };
}

function bruteForce(vectors: Float32Array[], labels: number[], q: Float32Array, k: number) {
  return vectors
    .map((v, i) => ({ label: labels[i]!, score: v.reduce((s, x, j) => s + x * q[j]!, 0) }))
    .sort((a, b) => b.score - a.score)
    .slice(0, k);
}

export function runVectorIndexConformance(
  name: string,
  create: (dimensions: number) => VectorIndex,
  load: (file: string, index: VectorIndex) => Promise<VectorIndex>,
): void {
  describe(`VectorIndex conformance: ${name}`, () => {
    const d = 16;

    it('finds exact nearest neighbours, best first, with cosine scores', () => {
      const rnd = seeded(1);
      const index = create(d);
      const vectors = Array.from({ length: 300 }, () => randomUnit(d, rnd));
      const labels = vectors.map((_, i) => i * 3);
      index.add(vectors, labels);
      expect(index.size).toBe(300);
      for (let t = 0; t < 20; t++) {
        const q = randomUnit(d, rnd);
        const hits = index.search(q, 5);
        const truth = bruteForce(vectors, labels, q, 5);
        expect(hits.labels[0]).toBe(truth[0]!.label);
        expect(hits.scores[0]).toBeCloseTo(truth[0]!.score, 5);
        for (let i = 1; i < hits.scores.length; i++)
          expect(hits.scores[i - 1]!).toBeGreaterThanOrEqual(hits.scores[i]! - 1e-6);
      }
      const self = index.search(vectors[7]!, 1);
      expect(self.labels).toEqual([21]);
      expect(self.scores[0]).toBeCloseTo(1, 5);
    });

    it('returns fewer hits than k when smaller, and none when empty', () => {
      const index = create(d);
      expect(index.search(randomUnit(d, seeded(2)), 3)).toEqual({ labels: [], scores: [] });
      index.add([randomUnit(d, seeded(3)), randomUnit(d, seeded(4))], [0, 1]);
      expect(index.search(randomUnit(d, seeded(5)), 10).labels).toHaveLength(2);
    });

    it('removes labels so they are never returned, and accepts them again later', () => {
      const rnd = seeded(6);
      const index = create(d);
      const vectors = Array.from({ length: 50 }, () => randomUnit(d, rnd));
      index.add(
        vectors,
        vectors.map((_, i) => i),
      );
      index.remove([10, 11, 12]);
      expect(index.size).toBe(47);
      expect(index.has(10)).toBe(false);
      const hits = index.search(vectors[10]!, 47);
      expect(hits.labels).not.toContain(10);
      expect(hits.labels).toHaveLength(47);
      index.add([vectors[10]!], [10]);
      expect(index.search(vectors[10]!, 1).labels).toEqual([10]);
    });

    it('grows past its initial capacity', () => {
      const rnd = seeded(7);
      const index = create(d);
      for (let batch = 0; batch < 5; batch++) {
        const vectors = Array.from({ length: 700 }, () => randomUnit(d, rnd));
        index.add(
          vectors,
          vectors.map((_, i) => batch * 700 + i),
        );
      }
      expect(index.size).toBe(3500);
    });

    it('rejects wrong dimensions, duplicate and unknown labels with INDEX_INVALID', () => {
      const index = create(d);
      index.add([randomUnit(d, seeded(8))], [1]);
      const codes = [
        () => index.add([new Float32Array(d + 1)], [2]),
        () => index.add([randomUnit(d, seeded(9))], [1]),
        () => index.add([randomUnit(d, seeded(9)), randomUnit(d, seeded(10))], [5, 5]),
        () => index.add([randomUnit(d, seeded(9))], [-1]),
        () => index.remove([99]),
        () => index.search(new Float32Array(d - 1), 1),
      ].map((f) => {
        try {
          f();
          return 'no error';
        } catch (e) {
          return e instanceof SemrouteError ? e.code : String(e);
        }
      });
      expect(codes).toEqual(Array(6).fill(ErrorCode.INDEX_INVALID));
      expect(index.size).toBe(1);
    });

    it('saves and loads with the same answers', async () => {
      const rnd = seeded(11);
      const index = create(d);
      const vectors = Array.from({ length: 200 }, () => randomUnit(d, rnd));
      index.add(
        vectors,
        vectors.map((_, i) => i + 1000),
      );
      index.remove([1005]);
      const { dir, cleanup } = await tempDir();
      try {
        const file = path.join(dir, 'index.bin');
        await index.save(file);
        const loaded = await load(file, index);
        expect(loaded.size).toBe(199);
        for (let t = 0; t < 10; t++) {
          const q = randomUnit(d, rnd);
          expect(loaded.search(q, 3)).toEqual(index.search(q, 3));
        }
      } finally {
        await cleanup();
      }
    });
  });
}
