import { describe, expect, it } from 'vitest';
import { ExactIndex } from '../../src/vector-index/exact.js';
import { DEFAULT_HNSW, HnswIndex } from '../../src/vector-index/hnsw.js';
import { randomUnit, runVectorIndexConformance, seeded } from './vector-index.case.js';

runVectorIndexConformance(
  'hnsw',
  (d) => new HnswIndex(d, DEFAULT_HNSW, 16),
  async (file, original) => {
    const labels: number[] = [];
    for (let l = 0; l < 5000; l++) if (original.has(l)) labels.push(l);
    return HnswIndex.load(file, original.dimensions, DEFAULT_HNSW, labels);
  },
);

describe('HNSW against exact search', () => {
  it('agrees on the top hit for at least 99% of near-data queries on clustered 64-d data', () => {
    const rnd = seeded(99);
    const d = 64;
    const centres = Array.from({ length: 50 }, () => randomUnit(d, rnd));
    const vectors = Array.from({ length: 5000 }, (_, i) => {
      const c = centres[i % 50]!;
      const v = c.map((x) => x + (rnd() - 0.5) * 0.3);
      const n = Math.sqrt(v.reduce((s, x) => s + x * x, 0));
      return v.map((x) => x / n);
    });
    const labels = vectors.map((_, i) => i);
    const exact = new ExactIndex(d);
    const hnsw = new HnswIndex(d);
    exact.add(vectors, labels);
    hnsw.add(vectors, labels);
    let same = 0;
    const queries = 300;
    for (let q = 0; q < queries; q++) {
      // Queries look like the data (a stored vector plus noise), as real prompts look like utterances.
      const base = vectors[Math.floor(rnd() * vectors.length)]!;
      const noisy = base.map((x) => x + (rnd() - 0.5) * 0.1);
      const n = Math.sqrt(noisy.reduce((s, x) => s + x * x, 0));
      const query = noisy.map((x) => x / n);
      if (exact.search(query, 1).labels[0] === hnsw.search(query, 1).labels[0]) same++;
    }
    expect(same / queries).toBeGreaterThanOrEqual(0.99);
  });
});
