/**
 * Nearest-neighbour search over unit vectors by inner product (= cosine similarity).
 * One interface; implementations are listed in `create.ts` (exact, HNSW), and every one there
 * runs the conformance suite (`test/vector-index/vector-index.case.ts`).
 */

export interface SearchHits {
  /** Labels, best first. */
  labels: number[];
  /** Cosine similarities, same order. */
  scores: number[];
}

export interface VectorIndex {
  /** Its name in `create.ts`'s map. */
  readonly kind: string;
  readonly dimensions: number;
  /** Live (not removed) vectors. */
  readonly size: number;
  /** Adds unit vectors under integer labels (>= 0, unique among live vectors). */
  add(vectors: readonly Float32Array[], labels: readonly number[]): void;
  /** Removes labels; unknown labels are an error. */
  remove(labels: readonly number[]): void;
  has(label: number): boolean;
  /** The k nearest live vectors (fewer when the index is smaller). */
  search(query: Float32Array, k: number): SearchHits;
  /** Writes the index to a file (`load` in each implementation reads it back). */
  save(file: string): Promise<void>;
}

export interface HnswParams {
  M: number;
  efConstruction: number;
  /** Candidates kept while searching; `undefined` scales with the index size (see `autoEf`). */
  efSearch: number | undefined;
}
