/** `POST /v1/embeddings` (and `/embeddings`) through a group, never streamed. */
import type { EmbeddingResponse } from '../../gateway/types.js';
import { EmbeddingRequestSchema, validate } from '../validate.js';
import type { Dialect } from './dialect.js';

type EmbeddingRequest = Record<string, unknown> & { model: string };

export const embeddingsDialect: Dialect<EmbeddingRequest, EmbeddingResponse, never> = {
  endpoint: 'embeddings',
  paths: ['/v1/embeddings', '/embeddings'],
  parse: (body) => validate(EmbeddingRequestSchema, body) as EmbeddingRequest,
  run: async (gateway, request, options) => ({
    ...(await gateway.embedding(request, options)),
    stream: false as const,
  }),
  answer: (response) => response,
};
