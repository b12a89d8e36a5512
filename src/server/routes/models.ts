/** `GET /v1/models` (and `/models`): the names this caller may ask for, in OpenAI's list shape. */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { ServerContext } from '../context.js';

export function registerModels(app: FastifyInstance, { runtime }: ServerContext): void {
  const models = async (request: FastifyRequest) => {
    const allowed = request.allowedModels;
    const created = Math.floor(runtime.serving.loadedAt / 1000);
    return {
      object: 'list',
      data: runtime.serving.gateway
        .listModels()
        .filter((m) => allowed === undefined || allowed.includes(m.id))
        .map((m) => ({
          id: m.id,
          object: 'model',
          created,
          owned_by: 'semroute',
          semroute: {
            kind: m.kind,
            ...(m.target ? { target: m.target } : {}),
            ...(m.accepts ? { accepts: m.accepts } : {}),
          },
        })),
    };
  };
  app.get('/v1/models', models);
  app.get('/models', models);
}
