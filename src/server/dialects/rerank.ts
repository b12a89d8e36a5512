/**
 * `POST /v1/rerank` (and `/rerank`, `/v2/rerank`): LiteLLM's rerank endpoint, in Cohere's shape,
 * which Cohere's own SDKs (v1 and v2 clients) call unchanged. Through a group, never streamed.
 */
import type { RerankBody } from '../../gateway/pipeline/operations/rerank.js';
import type { RerankResponse } from '../../gateway/types.js';
import { RerankRequestSchema, validate } from '../validate.js';
import type { Dialect } from './dialect.js';

type RerankRequest = RerankBody & { model: string };

export const rerankDialect: Dialect<RerankRequest, RerankResponse, never> = {
  endpoint: 'rerank',
  paths: ['/v1/rerank', '/rerank', '/v2/rerank'],
  parse: (body) => validate(RerankRequestSchema, body) as RerankRequest,
  run: async (gateway, request, options) => ({
    ...(await gateway.rerank(request, options)),
    stream: false as const,
  }),
  answer: (response) => response,
};
