/**
 * Index search alone: HNSW vs exact on the same clustered 512-d vectors and the same queries,
 * at several sizes, with recall@1 and recall@5 against exact checked before timing.
 */
import { ExactIndex } from '../src/vector-index/exact.js';
import { autoEf, DEFAULT_HNSW, HnswIndex } from '../src/vector-index/hnsw.js';
import type { VectorIndex } from '../src/vector-index/vector-index.js';
import { type BenchContext, row } from './lib/context.js';
import { type ResultRow, searchChart } from './lib/report.js';
import { micro, scaled } from './lib/tiny.js';

const D = 512;

function rng(seed: number) {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 4294967296;
  };
}

function gaussian(r: () => number): number {
  return Math.sqrt(-2 * Math.log(r() + 1e-12)) * Math.cos(2 * Math.PI * r());
}

function unit(v: Float32Array): Float32Array {
  let n = 0;
  for (const x of v) n += x * x;
  n = Math.sqrt(n);
  for (let i = 0; i < v.length; i++) v[i]! /= n;
  return v;
}

/** Points around n/20 random centres, like utterances around their routes' meanings. */
export function clustered(
  n: number,
  queries: number,
  seed: number,
): { data: Float32Array[]; queries: Float32Array[] } {
  const r = rng(seed);
  const centres = Array.from({ length: Math.max(1, Math.floor(n / 20)) }, () =>
    unit(Float32Array.from({ length: D }, () => gaussian(r))),
  );
  const sample = (spread: number) => {
    const c = centres[Math.floor(r() * centres.length)]!;
    return unit(c.map((x) => x + (gaussian(r) * spread) / Math.sqrt(D)));
  };
  return {
    data: Array.from({ length: n }, () => sample(0.8)),
    queries: Array.from({ length: queries }, () => sample(0.9)),
  };
}

async function timeSearch(index: VectorIndex, queries: Float32Array[], k: number, repeat: number) {
  let i = 0;
  const stats = await micro(`${index.kind} search`, () => index.search(queries[i++ % queries.length]!, k), {
    iterations: queries.length * repeat,
    warmup: Math.min(50, queries.length),
  });
  return scaled(stats, 1000);
}

export async function searchSuite(ctx: BenchContext): Promise<ResultRow[]> {
  const rows: ResultRow[] = [];
  const sizes = ctx.quick ? [100, 1_000, 10_000] : [100, 300, 1_000, 3_000, 10_000, 100_000];
  const points: Array<{ kind: string; size: number; p50: number; p99: number }> = [];
  for (const size of sizes) {
    const { data, queries } = clustered(size, size >= 100_000 ? 200 : 500, size);
    const labels = data.map((_, i) => i);
    let t = performance.now();
    const exact = new ExactIndex(D, size);
    exact.add(data, labels);
    const exactBuild = performance.now() - t;
    t = performance.now();
    const hnsw = new HnswIndex(D, DEFAULT_HNSW, size);
    hnsw.add(data, labels);
    const hnswBuild = performance.now() - t;

    // Correctness before timing: HNSW against exact on every query.
    let r1 = 0;
    let r5 = 0;
    for (const q of queries) {
      const truth = exact.search(q, 5).labels;
      const got = hnsw.search(q, 5).labels;
      if (got[0] === truth[0]) r1++;
      r5 += got.filter((l) => truth.includes(l)).length / 5;
    }
    const recall1 = r1 / queries.length;
    const recall5 = r5 / queries.length;
    const label = size >= 1000 ? `${size / 1000}k` : String(size);
    const exactQueries = size >= 100_000 ? queries.slice(0, 60) : queries;
    const exactStats = await timeSearch(exact, exactQueries, 10, size >= 100_000 ? 1 : 3);
    const hnswStats = await timeSearch(hnsw, queries, 10, 3);
    rows.push(row('search', `exact ${label}`, 'µs', exactStats, { k: 10, buildMs: Math.round(exactBuild) }));
    rows.push(
      row('search', `hnsw ${label}`, 'µs', hnswStats, {
        k: 10,
        M: DEFAULT_HNSW.M,
        efSearch: DEFAULT_HNSW.efSearch ?? autoEf(size),
        recallAt1: recall1,
        recallAt5: recall5,
        buildMs: Math.round(hnswBuild),
        speedupP50: exactStats.p50 / hnswStats.p50,
      }),
    );
    points.push({ kind: 'exact', size, p50: exactStats.p50, p99: exactStats.p99 });
    points.push({ kind: 'hnsw', size, p50: hnswStats.p50, p99: hnswStats.p99 });
    ctx.log(
      `  search ${label}: exact p50 ${exactStats.p50.toFixed(1)} µs, hnsw p50 ${hnswStats.p50.toFixed(1)} µs, recall@1 ${recall1.toFixed(4)}`,
    );
  }
  ctx.charts.set('search-latency.svg', searchChart(points));
  return rows;
}
