/** `POST /v1/embeddings` (and `/embeddings`) through a group. */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { type ServerContext, modelLabel } from '../context.js';
import { statusOf } from '../openai-errors.js';
import { requestOptions } from '../request-context.js';
import { EmbeddingRequestSchema, validate } from '../validate.js';

export function registerEmbeddings(app: FastifyInstance, context: ServerContext): void {
  const { runtime, metrics } = context;
  const embeddings = async (request: FastifyRequest, reply: FastifyReply) => {
    const body = validate(EmbeddingRequestSchema, request.body);
    const seconds = () => (performance.now() - request.startedAt) / 1000;
    try {
      const served = await runtime.serving.gateway.embedding(body, requestOptions(request));
      metrics.request('embeddings', served.model, 200, seconds());
      reply.header('x-semroute-model-id', served.deploymentId);
      return served.response;
    } catch (error) {
      metrics.request('embeddings', modelLabel(context, body.model), statusOf(error), seconds());
      throw error;
    }
  };
  app.post('/v1/embeddings', embeddings);
  app.post('/embeddings', embeddings);
}
