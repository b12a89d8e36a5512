/**
 * Every API a client speaks to the proxy, served by one handler: OpenAI's chat completions,
 * legacy completions and embeddings, the Responses API, Anthropic's Messages. A dialect checks
 * and translates its request, runs it through the gateway's one pipeline (routing, retries,
 * fallbacks and cooldowns are the gateway's), and writes the answer in its own shape, as JSON or
 * as its own event stream. The handler does the rest for every dialect alike: the request's
 * context (id, caller), semroute's headers, errors (before the first byte an HTTP error in the
 * dialect's shape, after it an event in the stream), and the lifecycle events that metrics and
 * logs hang on, even for a request refused before it reached the gateway.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { createContext, type RequestContext } from '../../gateway/context.js';
import type { Gateway } from '../../gateway/gateway.js';
import type { RequestOptions, Served } from '../../gateway/types.js';
import { writeJsonAnswer } from '../answer.js';
import type { ServerContext } from '../context.js';
import { headerValue } from '../header-value.js';
import { type OpenAIErrorBody, toOpenAIError } from '../openai-errors.js';
import { requestOptions } from '../request-context.js';
import { SSE_HEADERS, SseWriter } from '../sse-writer.js';

export interface EventStream {
  /** Framed events (`event: …\ndata: …\n\n`), terminal events included. */
  frames: AsyncIterable<string>;
  /** The event that reports a failure after bytes went out. */
  error(status: number, error: OpenAIErrorBody): string;
}

export type Outcome<Answer, Chunk> = Served &
  ({ stream: false; response: Answer } | { stream: true; chunks: AsyncIterable<Chunk> });

export interface Dialect<Request extends { model: string }, Answer, Chunk> {
  /** The request context's endpoint: the metrics label and the events' name. */
  readonly endpoint: string;
  readonly paths: readonly string[];
  /** Checks and translates a body; throws INPUT_INVALID naming the field. */
  parse(body: unknown, request: FastifyRequest): Promise<Request> | Request;
  run(gateway: Gateway, request: Request, options: RequestOptions): Promise<Outcome<Answer, Chunk>>;
  /** The JSON answer of a plain request. */
  answer(response: Answer, request: Request, served: Served): Promise<unknown> | unknown;
  /** The event stream of a streamed request (one per request: it may count its events). */
  stream?(chunks: AsyncIterable<Chunk>, request: Request, served: Served): EventStream;
  /** The error body before any byte went out; default OpenAI's shape. */
  errorBody?(status: number, error: OpenAIErrorBody): unknown;
}

/** The headers that say how a request was served (values encoded: route names may be any text). */
export function servedHeaders(
  ctx: RequestContext,
  outcome: Served,
  overheadMs: number,
): Record<string, string> {
  const headers: Record<string, string> = {
    'x-request-id': ctx.id,
    'x-semroute-model-id': headerValue(outcome.deploymentId),
    'x-semroute-model': headerValue(outcome.model),
    'x-semroute-overhead-ms': overheadMs.toFixed(3),
    // Upstream calls made, and the groups that failed before this one.
    'x-semroute-attempts': String(outcome.attempts),
  };
  if (outcome.route !== undefined) {
    headers['x-semroute-route'] = headerValue(outcome.route.name ?? '');
    headers['x-semroute-score'] = outcome.route.score.toFixed(4);
    headers['x-semroute-language'] = outcome.route.language;
  }
  const d = outcome.decision;
  if (d !== undefined) {
    if (d.tier !== undefined) {
      headers['x-semroute-tier'] = headerValue(d.tierLabel ?? d.tier);
      // LiteLLM's names, for clients and dashboards that read them.
      headers['x-litellm-complexity-router-tier'] = headerValue(d.tierLabel ?? d.tier);
      if (d.cause !== undefined) headers['x-litellm-complexity-router-cause'] = d.cause;
      if (d.score !== undefined)
        headers['x-litellm-complexity-router-score'] = String(Number(d.score.toFixed(4)));
    }
    if (d.difficulty !== undefined) headers['x-semroute-difficulty'] = d.difficulty.toFixed(3);
  }
  if (outcome.costUsd !== undefined) headers['x-semroute-cost-usd'] = outcome.costUsd.toFixed(8);
  if (outcome.savedUsd !== undefined) headers['x-semroute-saved-usd'] = outcome.savedUsd.toFixed(8);
  if (outcome.keySpendUsd !== undefined) headers['x-semroute-key-spend-usd'] = outcome.keySpendUsd.toFixed(8);
  if (outcome.keyBudgetUsd !== undefined) headers['x-semroute-key-budget-usd'] = String(outcome.keyBudgetUsd);
  if (outcome.cached) headers['x-semroute-cache'] = 'hit';
  if (outcome.fallbacksTried.length > 0)
    headers['x-semroute-fallbacks'] = outcome.fallbacksTried.map(headerValue).join(',');
  return headers;
}

const oneHeader = (v: string | string[] | undefined) => (typeof v === 'string' ? v : undefined);

/** The request's context, made here at the edge from what auth found. */
export function edgeContext(request: FastifyRequest, endpoint: string): RequestContext {
  return createContext({
    endpoint,
    id: request.id,
    caller: { alias: request.callerAlias, id: request.caller },
    startedAt: request.startedAt,
    traceparent: oneHeader(request.headers.traceparent),
    tracestate: oneHeader(request.headers.tracestate),
  });
}

export function registerDialect<R extends { model: string }, A, C>(
  app: FastifyInstance,
  context: ServerContext,
  dialect: Dialect<R, A, C>,
): void {
  const { runtime, metrics, events } = context;
  const overheadHistogram = metrics.overhead.labels({ endpoint: dialect.endpoint });

  const handler = async (request: FastifyRequest, reply: FastifyReply) => {
    const ctx = edgeContext(request, dialect.endpoint);
    let model = 'unknown';
    let parsed: R | undefined;
    // Until the gateway has the request, its end is reported here; after, the pipeline reports it.
    let inGateway = false;
    try {
      parsed = await dialect.parse(request.body, request);
      model = parsed.model;
      inGateway = true;
      const outcome = await dialect.run(runtime.serving.gateway, parsed, {
        ...requestOptions(request),
        context: ctx,
      });
      const overhead = Math.max(0, performance.now() - ctx.startedAt - outcome.upstreamMs);
      overheadHistogram.observe(overhead / 1000);
      // Built before the socket is taken over: a header that cannot be written fails here, as an
      // ordinary error answer, never after hijack() with no answer at all.
      const headers = servedHeaders(ctx, outcome, overhead);
      if (!outcome.stream) {
        const text = JSON.stringify(await dialect.answer(outcome.response, parsed, outcome));
        // Written straight to the socket: the answer is ready, and fastify's send pipeline
        // (serialiser choice, hooks, header checks) has nothing left to do for it.
        reply.hijack();
        writeJsonAnswer(reply.raw, headers, text);
        return reply;
      }
      const events = dialect.stream!(outcome.chunks, parsed, outcome);
      reply.hijack();
      const raw = reply.raw;
      try {
        raw.writeHead(200, Object.assign(headers, SSE_HEADERS));
      } catch (error) {
        raw.destroy(error as Error);
        return reply;
      }
      const sse = new SseWriter(raw);
      try {
        for await (const frame of events.frames) {
          if (sse.closed) break;
          sse.write(frame);
          if (sse.behind) await sse.drained();
        }
      } catch (error) {
        // Bytes already went out: the status cannot change, so the error travels as an event.
        const { status, body } = toOpenAIError(error, runtime.serving.secrets);
        sse.write(events.error(status, body));
      } finally {
        sse.end();
      }
      return reply;
    } catch (error) {
      if (!inGateway) {
        events.failed?.(ctx, error);
        events.finished?.(ctx, { error, model, served: undefined, ms: performance.now() - ctx.startedAt });
      }
      if (reply.sent || reply.raw.headersSent) {
        // The socket was already taken over: end what was started, never leave it hanging.
        reply.raw.destroy();
        return reply;
      }
      const { status, body, headers } = toOpenAIError(error, runtime.serving.secrets);
      if (dialect.errorBody === undefined) throw error;
      return reply.code(status).headers(headers).send(dialect.errorBody(status, body));
    }
  };
  for (const path of dialect.paths) app.post(path, handler);
}

/** One event of an OpenAI-style stream: `data: {json}`. */
export const dataFrame = (value: unknown) => `data: ${JSON.stringify(value)}\n\n`;
/** One event with its name: `event: name` then `data: {json}` (Anthropic's and the Responses API's streams). */
export const namedFrame = (name: string, value: unknown) =>
  `event: ${name}\ndata: ${JSON.stringify(value)}\n\n`;
