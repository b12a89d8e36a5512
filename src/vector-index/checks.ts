/** Argument checks every VectorIndex makes the same way, with the same errors. */
import { ErrorCode, SemrouteError } from '../errors.js';
import type { VectorIndex } from './vector-index.js';

export function checkBatch(
  index: VectorIndex,
  vectors: readonly Float32Array[],
  labels: readonly number[],
): void {
  if (vectors.length !== labels.length) {
    throw new SemrouteError(
      ErrorCode.INDEX_INVALID,
      `add(): ${vectors.length} vectors for ${labels.length} labels`,
    );
  }
  const batch = new Set<number>();
  vectors.forEach((v, i) => {
    const label = labels[i]!;
    if (v.length !== index.dimensions) {
      throw new SemrouteError(
        ErrorCode.INDEX_INVALID,
        `add(): vector ${i} has ${v.length} dimensions, index has ${index.dimensions}`,
      );
    }
    if (!Number.isInteger(label) || label < 0 || index.has(label) || batch.has(label)) {
      throw new SemrouteError(ErrorCode.INDEX_INVALID, `add(): label ${label} is invalid or already present`);
    }
    batch.add(label);
  });
}

export function checkQuery(index: VectorIndex, query: Float32Array): void {
  if (query.length !== index.dimensions) {
    throw new SemrouteError(
      ErrorCode.INDEX_INVALID,
      `search(): query has ${query.length} dimensions, index has ${index.dimensions}`,
    );
  }
}
