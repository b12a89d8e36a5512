/**
 * Every index of `VECTOR_INDEXES` runs the conformance suite, created and loaded the way a
 * compiled router does it (`create`, then `load` from what the artefact keeps: the saved file
 * and the live vectors). An index added to the map is picked up here by itself.
 */
import { describe, expect, it } from 'vitest';
import { IndexOptionsSchema } from '../../src/config/router-config.js';
import { ErrorCode } from '../../src/errors.js';
import { chooseIndexKind, indexKind, indexTypes, VECTOR_INDEXES } from '../../src/vector-index/create.js';
import type { VectorIndex } from '../../src/vector-index/vector-index.js';
import { runVectorIndexConformance } from './vector-index.case.js';

const OPTIONS = IndexOptionsSchema.parse({});

/** The live vectors of each index, as the artefact records them. */
const live = new WeakMap<VectorIndex, Map<number, Float32Array>>();

function recorded(index: VectorIndex): VectorIndex {
  const vectors = new Map<number, Float32Array>();
  live.set(index, vectors);
  const add = index.add.bind(index);
  const remove = index.remove.bind(index);
  index.add = (batch, labels) => {
    add(batch, labels);
    for (const [i, l] of labels.entries()) vectors.set(l, batch[i]!);
  };
  index.remove = (labels) => {
    remove(labels);
    for (const l of labels) vectors.delete(l);
  };
  return index;
}

for (const [name, kind] of Object.entries(VECTOR_INDEXES)) {
  runVectorIndexConformance(
    name,
    (d) => recorded(kind.create(d, OPTIONS, 4)),
    (file, original) => {
      const entries = [...(live.get(original) ?? new Map<number, Float32Array>())].sort(
        (a, b) => a[0] - b[0],
      );
      return kind.load(
        file,
        original.dimensions,
        OPTIONS,
        entries.map(([l]) => l),
        entries.map(([, v]) => v),
      );
    },
  );
}

describe('index kinds', () => {
  it('auto is exact below exact_below utterances and HNSW from there; others are as asked', () => {
    expect(chooseIndexKind('auto', 127, 128)).toBe('exact');
    expect(chooseIndexKind('auto', 128, 128)).toBe('hnsw');
    expect(chooseIndexKind('exact', 1e6, 128)).toBe('exact');
    expect(indexTypes()).toEqual(['auto', ...Object.keys(VECTOR_INDEXES)]);
  });

  it('an unknown kind is CONFIG_INVALID at index.type, naming the file and the kinds there are', () => {
    expect(() => indexKind('annoy', 'router.json')).toThrowError(
      expect.objectContaining({ code: ErrorCode.CONFIG_INVALID, path: 'index.type', file: 'router.json' }),
    );
    try {
      indexKind('annoy');
    } catch (error) {
      expect((error as Error & { expected: string }).expected).toBe('auto | exact | hnsw');
    }
  });
});
