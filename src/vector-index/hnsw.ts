import { createRequire } from 'node:module';
import type { HierarchicalNSW as HnswType } from 'hnswlib-node';
import { ErrorCode, SemrouteError } from '../errors.js';
import { checkBatch, checkQuery } from './checks.js';
import type { HnswParams, SearchHits, VectorIndex } from './vector-index.js';

type Addon = typeof import('hnswlib-node') & { semrouteTypedArrays?: boolean; semrouteSimd?: string };

let loaded: Addon | undefined;

/**
 * hnswlib-node, a CommonJS native addon, loaded on first use: a router small enough for exact
 * search never loads it, and one installed with scripts blocked (no native build) still routes.
 */
function addon(): Addon {
  if (loaded !== undefined) return loaded;
  try {
    loaded = createRequire(import.meta.url)('hnswlib-node') as Addon;
  } catch (cause) {
    throw new SemrouteError(
      ErrorCode.INDEX_INVALID,
      `The HNSW index needs hnswlib-node's native addon, which is not built (${(cause as Error).message.split('\n')[0]}): run \`npm rebuild hnswlib-node\`, or set "index": {"type": "exact"} in router.json`,
      { path: 'index.type', expected: 'exact, or a built hnswlib-node', cause },
    );
  }
  return loaded;
}

/**
 * True when the install patched hnswlib-node to read a Float32Array with one memcpy
 * (scripts/patch-hnswlib.js). Stock 3.0.0 reads a plain Array one N-API call per element,
 * ~31 µs of a ~115 µs search for a 512-d query at 10k vectors.
 */
export function hnswTypedArrays(): boolean {
  return addon().semrouteTypedArrays === true;
}

/** How the addon was built, printed with `npm run bench` figures. */
export function hnswBuild(): string {
  return hnswTypedArrays()
    ? `hnswlib-node 3.0.0, patched: Float32Array queries, ${addon().semrouteSimd} distances`
    : 'hnswlib-node as shipped: Array queries copied element by element';
}

/** The stock addon takes plain arrays; a counted loop copies 10x faster than Array.from here. */
function copyInto(out: number[], v: Float32Array): number[] {
  for (let i = 0; i < v.length; i++) out[i] = v[i]!;
  return out;
}

/** Chosen by `npm run bench`: recall@1 stays 1.0 on clustered 512-d data at 10k with these. */
export const DEFAULT_HNSW: HnswParams = { M: 16, efConstruction: 100, efSearch: undefined };

/**
 * The search breadth when none is configured, from `npm run bench` on clustered 512-d data:
 * 16 keeps recall@1 at 1.0 up to 10k vectors (and costs half of 32); at 100k it needs 64 to stay
 * near 0.99. Never below k (hnswlib returns at most ef results).
 */
export function autoEf(size: number): number {
  if (size <= 20_000) return 16;
  if (size <= 50_000) return 32;
  return 64;
}

/**
 * HNSW (hnswlib) over inner product. Vectors are unit length, so inner product is cosine and
 * the per-query normalisation of the `cosine` space is skipped. Removal marks deleted and the
 * slot is reused by later adds.
 */
export class HnswIndex implements VectorIndex {
  readonly kind = 'hnsw';
  private readonly live = new Set<number>();
  private capacity: number;
  private ef: number;
  private readonly scratch: number[];
  /** Whether the addon takes a Float32Array (patched), read once. */
  private readonly typed = hnswTypedArrays();

  constructor(
    readonly dimensions: number,
    readonly params: HnswParams = DEFAULT_HNSW,
    capacity = 1024,
    private readonly index: HnswType = new (addon().HierarchicalNSW)('ip', dimensions),
    initialise = true,
  ) {
    this.capacity = Math.max(16, capacity);
    this.scratch = new Array<number>(dimensions).fill(0);
    this.ef = params.efSearch ?? autoEf(0);
    if (initialise) this.index.initIndex(this.capacity, params.M, params.efConstruction, 100, true);
    this.index.setEf(this.ef);
  }

  get size(): number {
    return this.live.size;
  }

  has(label: number): boolean {
    return this.live.has(label);
  }

  add(vectors: readonly Float32Array[], labels: readonly number[]): void {
    checkBatch(this, vectors, labels);
    const needed = this.index.getCurrentCount() + vectors.length;
    if (needed > this.capacity) {
      this.capacity = Math.max(needed, this.capacity * 2);
      this.index.resizeIndex(this.capacity);
    }
    vectors.forEach((v, i) => {
      // replaceDeleted reuses slots freed by remove(), so churn does not grow the graph.
      const point = this.typed ? v : copyInto(new Array<number>(v.length), v);
      this.index.addPoint(point as number[], labels[i]!, true);
      this.live.add(labels[i]!);
    });
  }

  remove(labels: readonly number[]): void {
    for (const label of labels) {
      if (!this.live.has(label)) {
        throw new SemrouteError(ErrorCode.INDEX_INVALID, `remove(): label ${label} is not in the index`);
      }
      this.index.markDelete(label);
      this.live.delete(label);
    }
  }

  search(query: Float32Array, k: number): SearchHits {
    checkQuery(this, query);
    const want = Math.min(k, this.live.size);
    if (want <= 0) return { labels: [], scores: [] };
    // hnswlib needs ef >= k to return k results.
    const ef = Math.max(this.params.efSearch ?? autoEf(this.live.size), want);
    if (ef !== this.ef) {
      this.index.setEf(ef);
      this.ef = ef;
    }
    // searchKnn is synchronous, so without the patch one scratch array serves every query.
    const point = this.typed ? query : copyInto(this.scratch, query);
    const { neighbors, distances } = this.index.searchKnn(point as number[], want);
    // hnswlib returns nearest first with distance = 1 - dot.
    return { labels: neighbors, scores: distances.map((d) => 1 - d) };
  }

  async save(file: string): Promise<void> {
    const temp = `${file}.${process.pid}.tmp`;
    await this.index.writeIndex(temp);
    const { rename } = await import('node:fs/promises');
    await rename(temp, file);
  }

  /** Reads an index written by save(); `labels` are the live labels recorded beside it. */
  static async load(
    file: string,
    dimensions: number,
    params: HnswParams,
    labels: readonly number[],
  ): Promise<HnswIndex> {
    const raw = new (addon().HierarchicalNSW)('ip', dimensions);
    try {
      await raw.readIndex(file, true);
    } catch (cause) {
      throw new SemrouteError(ErrorCode.ARTEFACT_INVALID, `Cannot read HNSW index ${file}`, { file, cause });
    }
    const index = new HnswIndex(dimensions, params, raw.getMaxElements(), raw, false);
    for (const label of labels) index.live.add(label);
    return index;
  }
}
