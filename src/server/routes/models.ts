/**
 * `GET /v1/models` (and `/models`): the names this caller may ask for, in OpenAI's list shape;
 * `GET /v1/models/{id}` one of them, or OpenAI's 404 `model_not_found` (ids with a slash, such as
 * `anthropic/*` or `openrouter/auto`, arrive encoded from the SDKs and literal from others).
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ListedModel } from '../../gateway/models.js';
import type { ServerContext } from '../context.js';
import { openAIError } from '../openai-errors.js';

export function registerModels(app: FastifyInstance, { runtime }: ServerContext): void {
  const visible = (request: FastifyRequest): ListedModel[] => {
    const allowed = request.allowedModels;
    return runtime.serving.gateway
      .listModels()
      .filter((m) => allowed === undefined || allowed.includes(m.id));
  };
  const entry = (m: ListedModel) => ({
    id: m.id,
    object: 'model',
    created: Math.floor(runtime.serving.loadedAt / 1000),
    owned_by: 'semroute',
    semroute: {
      kind: m.kind,
      ...(m.target ? { target: m.target } : {}),
      ...(m.accepts ? { accepts: m.accepts } : {}),
    },
  });
  const list = async (request: FastifyRequest) => ({ object: 'list', data: visible(request).map(entry) });
  const one = async (request: FastifyRequest, reply: FastifyReply) => {
    const params = request.params as { id?: string; '*'?: string };
    const id = params.id ?? params['*'] ?? '';
    const found = visible(request).find((m) => m.id === id);
    if (found !== undefined) return entry(found);
    // A name the caller's key may not use is not there, for that caller.
    return reply
      .code(404)
      .send(
        openAIError(
          404,
          `The model \`${id}\` does not exist or you do not have access to it.`,
          'model_not_found',
        ),
      );
  };
  app.get('/v1/models', list);
  app.get('/models', list);
  app.get('/v1/models/*', one);
  app.get('/models/*', one);
}
