/** `embeddings`: a group by name (never routed), over wires and providers that have them. */
import { ErrorCode, SemrouteError } from '../../../errors.js';
import type { EmbeddingResponse } from '../../types.js';
import { type Operation, openaiUsage } from '../operation.js';

export type EmbeddingBody = Record<string, unknown> & { input?: unknown };

/** Characters of the input, over 4: what an embedding call sends. */
function estimate(body: EmbeddingBody) {
  const input = body.input;
  const chars = typeof input === 'string' ? input.length : JSON.stringify(input ?? '').length;
  const tokens = Math.ceil(chars / 4);
  return { input: tokens, total: tokens };
}

export const embeddingOperation: Operation<EmbeddingBody, EmbeddingResponse, never> = {
  endpoint: 'embedding',
  capability: 'embedding',
  cacheable: false,
  estimate,
  async call({ wire, client, deployment, body, call, label, release }) {
    if (wire.embedding === undefined)
      throw new SemrouteError(ErrorCode.INPUT_INVALID, `${deployment.group}: no embeddings endpoint`);
    const response = await wire.embedding(client, deployment, body, call);
    await release();
    response.model = label;
    return { stream: false, response, tokens: response.usage?.total_tokens ?? 0 };
  },
  usage: (answer) => openaiUsage(answer.usage),
};
