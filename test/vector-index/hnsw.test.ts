import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { ExactIndex } from '../../src/vector-index/exact.js';
import { HnswIndex, hnswTypedArrays } from '../../src/vector-index/hnsw.js';
import { randomUnit, seeded } from './vector-index.case.js';

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

describe('the hnswlib-node patch applied at install (scripts/patch-hnswlib.js)', () => {
  const addon = createRequire(import.meta.url)('hnswlib-node') as {
    HierarchicalNSW: new (
      space: string,
      dim: number,
    ) => {
      initIndex(max: number): void;
      addPoint(point: unknown, label: number): void;
      searchKnn(query: unknown, k: number): { neighbors: number[]; distances: number[] };
    };
    semrouteTypedArrays?: boolean;
  };

  it('is in place, so queries pass as Float32Array with one copy', () => {
    expect(addon.semrouteTypedArrays).toBe(true);
    expect(hnswTypedArrays()).toBe(true);
  });

  it('reads a Float32Array and a plain Array alike, and names the accepted types otherwise', () => {
    const raw = new addon.HierarchicalNSW('ip', 3);
    raw.initIndex(4);
    raw.addPoint(Float32Array.of(1, 0, 0), 7);
    raw.addPoint([0, 1, 0], 8);
    expect(raw.searchKnn(Float32Array.of(0.1, 0.9, 0), 1).neighbors).toEqual([8]);
    expect(raw.searchKnn([0.9, 0.1, 0], 1).neighbors).toEqual([7]);
    const hit = raw.searchKnn(Float32Array.of(0.6, 0.8, 0), 2);
    expect(hit.distances[0]).toBeCloseTo(1 - 0.8, 6);
    expect(() => raw.searchKnn(Float64Array.of(1, 0, 0), 1)).toThrow(/must be an Array or a Float32Array/);
    expect(() => raw.searchKnn(Float32Array.of(1, 0), 1)).toThrow(/expected 3, but got 2/);
    expect(() => raw.addPoint(new Float32Array(4), 9)).toThrow(/expected 3, but got 4/);
  });

  it('keeps 256 label locks per index, not 65,536 (2.6 MB each, touched at every create and load)', () => {
    // Memory, not time: 40 stock indexes would hold over 100 MB of mutexes.
    const keep: unknown[] = [];
    const before = process.memoryUsage.rss();
    for (let i = 0; i < 40; i++) {
      const raw = new addon.HierarchicalNSW('ip', 4);
      raw.initIndex(1);
      keep.push(raw);
    }
    const grown = process.memoryUsage.rss() - before;
    expect(keep).toHaveLength(40);
    expect(grown).toBeLessThan(40e6);
  });
});
