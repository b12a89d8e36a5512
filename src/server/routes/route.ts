/** `POST /v1/route`: where a request would go and why, without calling a model. */
import type { FastifyInstance } from 'fastify';
import { ErrorCode, SemrouteError } from '../../errors.js';
import type { ServerContext } from '../context.js';
import { explanationBody } from '../explain.js';
import { requestOptions } from '../request-context.js';
import { RouteRequestSchema, validate } from '../validate.js';

export function registerRoute(app: FastifyInstance, { runtime }: ServerContext): void {
  app.post('/v1/route', async (request) => {
    const body = validate(RouteRequestSchema, request.body);
    const messages =
      body.messages ?? (body.prompt !== undefined ? [{ role: 'user', content: body.prompt }] : undefined);
    if (messages === undefined) {
      throw new SemrouteError(ErrorCode.INPUT_INVALID, 'messages or prompt is required', {
        path: 'messages',
        expected: 'messages or prompt',
      });
    }
    const started = performance.now();
    const { signal: _signal, ...options } = requestOptions(request);
    const explained = await runtime.serving.gateway.explain({ ...body, messages }, options);
    return explanationBody(explained, started);
  });
}
