/**
 * The vector indexes a router.json may ask for, by `index.type`. Adding one is a file and a line
 * here; `test/vector-index/create.test.ts` runs the conformance suite on every entry.
 */
import type { IndexOptions } from '../config/router-config.js';
import { ErrorCode, SemrouteError } from '../errors.js';
import { ExactIndex } from './exact.js';
import { HnswIndex } from './hnsw.js';
import type { HnswParams, VectorIndex } from './vector-index.js';

export interface IndexKind {
  /** An empty index for `capacity` vectors (it grows past that). */
  create(dimensions: number, options: IndexOptions, capacity: number): VectorIndex;
  /**
   * The index a compiled artefact saved: `file` is what `save()` wrote (absent when `persists`
   * is false), `vectors` are the artefact's rows under `labels`.
   */
  load(
    file: string,
    dimensions: number,
    options: IndexOptions,
    labels: readonly number[],
    vectors: readonly Float32Array[],
  ): Promise<VectorIndex>;
  /** Whether `save()` writes a file worth keeping; otherwise the artefact's vectors rebuild it. */
  readonly persists: boolean;
}

function hnswParams(options: IndexOptions): HnswParams {
  return { M: options.M, efConstruction: options.ef_construction, efSearch: options.ef_search };
}

export const VECTOR_INDEXES: Readonly<Record<string, IndexKind>> = Object.freeze({
  exact: {
    create: (dimensions, _options, capacity) => new ExactIndex(dimensions, capacity),
    async load(_file, dimensions, _options, labels, vectors) {
      const index = new ExactIndex(dimensions, vectors.length);
      index.add(vectors, labels);
      return index;
    },
    persists: false,
  },
  hnsw: {
    create: (dimensions, options, capacity) => new HnswIndex(dimensions, hnswParams(options), capacity),
    load: (file, dimensions, options, labels) =>
      HnswIndex.load(file, dimensions, hnswParams(options), labels),
    persists: true,
  },
});

/** The `index.type` values a router.json may give: `auto` and every kind above. */
export function indexTypes(): string[] {
  return ['auto', ...Object.keys(VECTOR_INDEXES)];
}

/** `auto` → exact below `exactBelow` utterances, else HNSW; any other type as it is. */
export function chooseIndexKind(type: string, count: number, exactBelow: number): string {
  if (type !== 'auto') return type;
  return count < exactBelow ? 'exact' : 'hnsw';
}

export function indexKind(kind: string, file?: string): IndexKind {
  const found = VECTOR_INDEXES[kind];
  if (found === undefined) {
    throw new SemrouteError(
      ErrorCode.CONFIG_INVALID,
      `${file ?? 'router config'}: index.type: "${kind}" is not a vector index`,
      { file, path: 'index.type', expected: indexTypes().join(' | ') },
    );
  }
  return found;
}
