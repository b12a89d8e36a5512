/**
 * Route centroids: the normalised mean of each route's utterance vectors, one row per route in
 * a flat Float32Array. A query's cosine to every centroid is one pass over that matrix.
 */
import { rowDots } from '../vector-index/row-dots.js';

export function computeCentroids(
  rows: Iterable<{ route: number; vector: Float32Array }>,
  routeCount: number,
  dimensions: number,
): Float32Array {
  const out = new Float32Array(routeCount * dimensions);
  for (const { route, vector } of rows) {
    if (route < 0 || route >= routeCount) continue;
    const base = route * dimensions;
    for (let d = 0; d < dimensions; d++) out[base + d]! += vector[d]!;
  }
  for (let r = 0; r < routeCount; r++) {
    const base = r * dimensions;
    let sum = 0;
    for (let d = 0; d < dimensions; d++) sum += out[base + d]! * out[base + d]!;
    if (sum === 0) continue;
    const inv = 1 / Math.sqrt(sum);
    for (let d = 0; d < dimensions; d++) out[base + d]! *= inv;
  }
  return out;
}

/** Cosine between a unit query and every centroid, or only those of `routes` (the rest 0). */
export function centroidScores(
  centroids: Float32Array,
  routeCount: number,
  query: Float32Array,
  routes?: Int32Array | undefined,
): Float64Array {
  const out = new Float64Array(routeCount);
  const d = query.length;
  if (routeCount === 0 || d === 0) return out;
  rowDots(centroids, d).dots(query, routes ?? allRoutes(routeCount), out);
  return out;
}

const ALL = new Map<number, Int32Array>();

/** 0 … count - 1, kept per count (a router has one count; a few routers a few). */
function allRoutes(count: number): Int32Array {
  let found = ALL.get(count);
  if (found === undefined) {
    found = Int32Array.from({ length: count }, (_, r) => r);
    if (ALL.size > 64) ALL.clear();
    ALL.set(count, found);
  }
  return found;
}
