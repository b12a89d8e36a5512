/**
 * The int8 model's self-check. `models build` embeds a few fixed texts with the fp32 model and
 * stores the vectors in the manifest; every load of the int8 model embeds the same texts and
 * compares. A CPU whose integer kernels round or saturate differently (the reason the int8
 * graph is u8 × u8; see convert.ts) shows up here at load, not as quietly worse routing.
 */
import type * as Ort from 'onnxruntime-node';
import { packBatch, splitRows } from '../onnx-session.js';
import { USE_LITE_DIMENSIONS } from './constants.js';
import type { UseLiteTokenizer } from './tokenizer.js';

/**
 * Short, out-of-vocabulary, code-like and long text: the kinds whose int8 vectors sit furthest
 * from fp32 (tests/fixtures/parity-sentences.json). Changing them needs a CONVERTER_VERSION bump.
 */
export const PROBE_TEXTS: readonly string[] = Object.freeze([
  'how do I reverse a list in python',
  'مرحبا بالعالم',
  'email me at someone@example.com or visit https://example.org/path?q=1&r=2',
  'The committee, having reviewed every submission received before the deadline, decided to postpone the final vote until the auditors had confirmed the figures in the third quarterly report.',
]);

/**
 * The promise README makes for the int8 model: cosine to fp32 at least this on every text.
 * Measured 0.9996 on these texts, on CPUs with and without VNNI.
 */
export const PROBE_TOLERANCE = 0.999;

export interface ProbeReference {
  texts: string[];
  /** fp32 vectors of `texts`, one row each. */
  fp32: number[][];
}

/**
 * Embeds the probe texts with `session`, one run each: a batch pads every text to the longest
 * (39 tokens), 4 × 39 positions for 91 tokens, and the check was ~25 ms of every CLI start
 * against ~12 ms this way. A text's vector does not depend on its batch (convert.ts), so the
 * fp32 reference holds either way.
 */
export async function embedProbe(
  session: Ort.InferenceSession,
  tokenizer: UseLiteTokenizer,
  model: string,
): Promise<Float32Array[]> {
  const rows: Float32Array[] = [];
  for (const text of PROBE_TEXTS) {
    const { ids, mask } = packBatch([tokenizer.encode(text)]);
    const result = await session.run({ input_ids: ids, attention_mask: mask });
    rows.push(...splitRows(result.sentence_embedding, 1, USE_LITE_DIMENSIONS, model));
  }
  return rows;
}

/**
 * The lowest cosine between `rows` and the reference, or undefined when the reference is not
 * for these probe texts (a manifest from another converter).
 */
export function probeCosine(rows: readonly Float32Array[], reference: ProbeReference | undefined) {
  if (
    reference === undefined ||
    reference.texts.length !== PROBE_TEXTS.length ||
    reference.texts.some((t, i) => t !== PROBE_TEXTS[i]) ||
    reference.fp32.length !== rows.length
  ) {
    return undefined;
  }
  let worst = 1;
  rows.forEach((row, r) => {
    const ref = reference.fp32[r]!;
    let dot = 0;
    let norm = 0;
    for (let d = 0; d < row.length; d++) {
      dot += row[d]! * (ref[d] ?? 0);
      norm += (ref[d] ?? 0) ** 2;
    }
    // The stored rows are unit vectors; dividing by their norm keeps an edited manifest honest.
    worst = Math.min(worst, norm > 0 ? dot / Math.sqrt(norm) : -1);
  });
  return worst;
}
