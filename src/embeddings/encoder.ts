import { ErrorCode, SemrouteError } from '../errors.js';

export interface EmbedOptions {
  /** Aborts a running embed between batches (and the HTTP call, for remote encoders). */
  signal?: AbortSignal | undefined;
  /** Called after each batch with the number of texts embedded so far. */
  onProgress?: ((done: number, total: number) => void) | undefined;
}

/**
 * Turns texts into unit-length vectors. One implementation per file; all pass the conformance
 * suite in `test/embeddings/encoder.case.ts`.
 */
export interface Encoder {
  /** Stable id of the encoder and its model, e.g. `use-lite@0.2.0`; part of compiled-artefact keys. */
  readonly id: string;
  readonly dimensions: number;
  /** One L2-normalised row per text, in input order. Empty input gives an empty array. */
  embed(texts: readonly string[], options?: EmbedOptions): Promise<Float32Array[]>;
  /**
   * The share (0–1) of a text's letters the model can read: characters its vocabulary lacks all
   * become one unknown token, so two sentences in a script it does not know get the same vector.
   * Absent for encoders that read any text (remote ones).
   */
  coverage?(text: string): number;
  /** Releases native sessions or sockets. Idempotent. */
  close(): Promise<void>;
}

/** Rejects anything but an array of strings, naming the first bad element. */
export function assertTexts(texts: unknown): asserts texts is readonly string[] {
  if (!Array.isArray(texts)) {
    throw new SemrouteError(
      ErrorCode.INPUT_INVALID,
      `embed() takes an array of strings, got ${describe(texts)}`,
      {
        expected: 'string[]',
      },
    );
  }
  for (let i = 0; i < texts.length; i++) {
    if (typeof texts[i] !== 'string') {
      throw new SemrouteError(
        ErrorCode.INPUT_INVALID,
        `embed() text ${i} is ${describe(texts[i])}, not a string`,
        {
          path: `[${i}]`,
          expected: 'string',
        },
      );
    }
  }
}

export function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : `${typeof value} ${String(value).slice(0, 40)}`;
}

/** Normalises a row in place to unit length (zero rows stay zero). */
export function normalize(row: Float32Array): Float32Array {
  let sum = 0;
  for (let i = 0; i < row.length; i++) sum += row[i]! * row[i]!;
  if (sum > 0) {
    const inv = 1 / Math.sqrt(sum);
    for (let i = 0; i < row.length; i++) row[i]! *= inv;
  }
  return row;
}
