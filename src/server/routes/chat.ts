/** `POST /v1/chat/completions` (and `/chat/completions`): JSON or OpenAI SSE, with semroute's headers. */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ChatOutcome, Served } from '../../gateway/types.js';
import { type ServerContext, modelLabel } from '../context.js';
import { toOpenAIError } from '../openai-errors.js';
import { requestOptions } from '../request-context.js';
import { writeJsonAnswer } from '../answer.js';
import { SSE_HEADERS, SseWriter } from '../sse-writer.js';
import { ChatRequestSchema, validate } from '../validate.js';

/** The headers that say how a request was served. */
export function servedHeaders(outcome: Served, overheadMs: number): Record<string, string> {
  const headers: Record<string, string> = {
    'x-semroute-model-id': outcome.deploymentId,
    'x-semroute-model': outcome.model,
    'x-semroute-overhead-ms': overheadMs.toFixed(3),
    // Upstream calls made, and the groups that failed before this one.
    'x-semroute-attempts': String(outcome.attempts),
  };
  if (outcome.route !== undefined) {
    headers['x-semroute-route'] = outcome.route.name ?? '';
    headers['x-semroute-score'] = outcome.route.score.toFixed(4);
  }
  if (outcome.cached) headers['x-semroute-cache'] = 'hit';
  if (outcome.fallbacksTried.length > 0) headers['x-semroute-fallbacks'] = outcome.fallbacksTried.join(',');
  return headers;
}

export function registerChat(app: FastifyInstance, context: ServerContext): void {
  const { runtime, metrics } = context;
  const overheadHistogram = metrics.overhead.labels({ endpoint: 'chat' });
  const record = (model: string, status: number, started: number, outcome?: ChatOutcome) => {
    const seconds = (performance.now() - started) / 1000;
    metrics.request('chat', model, status, seconds);
    // set_verbose / --log-level debug: one line per request; never the prompt.
    if (app.log.level === 'debug' || app.log.level === 'trace') {
      app.log.debug(
        {
          endpoint: 'chat',
          model,
          status,
          ms: Math.round(seconds * 1000),
          ...(outcome === undefined
            ? {}
            : {
                deployment: outcome.deploymentId,
                attempts: outcome.attempts,
                fallbacks: outcome.fallbacksTried,
                route: outcome.route?.name,
                cached: outcome.cached,
              }),
        },
        'request',
      );
    }
  };

  const chat = async (request: FastifyRequest, reply: FastifyReply) => {
    const started = request.startedAt;
    let model = 'unknown';
    try {
      const body = validate(ChatRequestSchema, request.body);
      model = body.model;
      const outcome = await runtime.serving.gateway.chatCompletion(body, requestOptions(request));
      const overhead = Math.max(0, performance.now() - started - outcome.upstreamMs);
      overheadHistogram.observe(overhead / 1000);
      const headers = servedHeaders(outcome, overhead);
      // Written straight to the socket: the answer is ready, and fastify's send pipeline
      // (serialiser choice, hooks, header checks) has nothing left to do for it.
      reply.hijack();
      const raw = reply.raw;
      if (!outcome.stream) {
        writeJsonAnswer(raw, headers, JSON.stringify(outcome.response));
        record(outcome.model, 200, started, outcome);
        return reply;
      }
      raw.writeHead(200, Object.assign(headers, SSE_HEADERS));
      const sse = new SseWriter(raw);
      try {
        for await (const chunk of outcome.chunks) {
          if (sse.closed) break;
          sse.write(`data: ${JSON.stringify(chunk)}\n\n`);
          if (sse.behind) await sse.drained();
        }
        sse.write('data: [DONE]\n\n');
        record(outcome.model, 200, started, outcome);
      } catch (error) {
        // Bytes already went out: the status cannot change, so the error travels as an SSE event.
        const { status, body: errorBody } = toOpenAIError(error, runtime.serving.secrets);
        sse.write(`data: ${JSON.stringify(errorBody)}\n\n`);
        record(outcome.model, status, started, outcome);
      } finally {
        sse.end();
      }
      return reply;
    } catch (error) {
      record(modelLabel(context, model), toOpenAIError(error).status, started);
      throw error;
    }
  };
  app.post('/v1/chat/completions', chat);
  app.post('/chat/completions', chat);
}
