/** OpenAI's embeddings answer from the vectors a native API returned (float, or base64 when asked). */
import type { EmbeddingResponse } from '../types.js';

export function embeddingList(
  model: string,
  vectors: readonly number[][],
  tokens: number,
  encodingFormat: unknown,
): EmbeddingResponse {
  const base64 = encodingFormat === 'base64';
  return {
    object: 'list',
    model,
    data: vectors.map((v, index) => ({
      object: 'embedding',
      index,
      // The SDK decodes base64 as little-endian float32, as OpenAI sends it.
      embedding: (base64 ? Buffer.from(Float32Array.from(v).buffer).toString('base64') : v) as number[],
    })),
    usage: { prompt_tokens: tokens, total_tokens: tokens },
  };
}
