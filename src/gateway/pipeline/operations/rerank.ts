/** `rerank`: a group by name (never routed), over wires and providers that rank documents. */
import { ErrorCode, SemrouteError } from '../../../errors.js';
import type { RerankResponse } from '../../types.js';
import { documentTexts } from '../../upstream/rerank.js';
import type { Operation } from '../operation.js';

export type RerankBody = Record<string, unknown> & { query: string; documents: unknown[] };

/** Characters of the query and every document, over 4: what a rerank call reads. */
function estimate(body: RerankBody) {
  const chars =
    body.query.length * body.documents.length +
    documentTexts(body as RerankBody & { model: string }).reduce((n, d) => n + d.length, 0);
  const tokens = Math.ceil(chars / 4);
  return { input: tokens, total: tokens };
}

export const rerankOperation: Operation<RerankBody, RerankResponse, never> = {
  endpoint: 'rerank',
  capability: 'rerank',
  cacheable: false,
  estimate,
  async call({ wire, client, deployment, body, call, release }) {
    if (wire.rerank === undefined)
      throw new SemrouteError(ErrorCode.INPUT_INVALID, `${deployment.group}: no rerank endpoint`);
    const response = await wire.rerank(client, deployment, body, call);
    await release();
    const billed = (response.meta?.billed_units ?? {}) as { input_tokens?: number; search_units?: number };
    return { stream: false, response, tokens: billed.input_tokens ?? 0 };
  },
  usage: (answer) => {
    const billed = (answer.meta?.billed_units ?? {}) as { input_tokens?: number };
    const tokens = billed.input_tokens ?? 0;
    return { prompt: tokens, completion: 0, total: tokens };
  },
};
