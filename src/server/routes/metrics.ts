/** `GET /metrics`: Prometheus text (the sum over workers in cluster mode). */
import type { FastifyInstance } from 'fastify';
import type { ServerContext } from '../context.js';

export function registerMetrics(app: FastifyInstance, { metrics, metricsText }: ServerContext): void {
  app.get('/metrics', async (_request, reply) => {
    reply.header('content-type', metrics.registry.contentType);
    return metricsText ? metricsText() : metrics.registry.metrics();
  });
}
