/**
 * The other APIs clients speak, served through the same gateway as chat: a dialect checks and
 * translates its request, runs it (routing, retries, fallbacks and cooldowns are the gateway's),
 * and writes the answer in its own shape, as JSON or as its own event stream. One handler does
 * the rest for every dialect: semroute's headers, metrics, the debug line, and errors (before the
 * first byte an HTTP error in the dialect's shape, after it an event in the stream).
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Gateway } from '../../gateway/gateway.js';
import type { RequestOptions, Served } from '../../gateway/types.js';
import { type ServerContext, modelLabel } from '../context.js';
import { type OpenAIErrorBody, toOpenAIError } from '../openai-errors.js';
import { requestOptions } from '../request-context.js';
import { servedHeaders } from '../routes/chat.js';
import { writeJsonAnswer } from '../answer.js';
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
  /** The metrics label. */
  readonly endpoint: string;
  readonly paths: readonly string[];
  /** Checks and translates a body; throws INPUT_INVALID naming the field. */
  parse(body: unknown, request: FastifyRequest): Promise<Request> | Request;
  run(gateway: Gateway, request: Request, options: RequestOptions): Promise<Outcome<Answer, Chunk>>;
  /** The JSON answer of a plain request. */
  answer(response: Answer, request: Request, served: Served): Promise<unknown> | unknown;
  /** The event stream of a streamed request (one per request: it may count its events). */
  stream(chunks: AsyncIterable<Chunk>, request: Request, served: Served): EventStream;
  /** The error body before any byte went out; default OpenAI's shape. */
  errorBody?(status: number, error: OpenAIErrorBody): unknown;
}

export function registerDialect<R extends { model: string }, A, C>(
  app: FastifyInstance,
  context: ServerContext,
  dialect: Dialect<R, A, C>,
): void {
  const { runtime, metrics } = context;
  const overheadHistogram = metrics.overhead.labels({ endpoint: dialect.endpoint });
  const record = (model: string, status: number, started: number, served?: Served) => {
    const seconds = (performance.now() - started) / 1000;
    metrics.request(dialect.endpoint, model, status, seconds);
    if (app.log.level === 'debug' || app.log.level === 'trace') {
      app.log.debug(
        {
          endpoint: dialect.endpoint,
          model,
          status,
          ms: Math.round(seconds * 1000),
          ...(served === undefined
            ? {}
            : { deployment: served.deploymentId, attempts: served.attempts, route: served.route?.name }),
        },
        'request',
      );
    }
  };

  const handler = async (request: FastifyRequest, reply: FastifyReply) => {
    const started = request.startedAt;
    let model = 'unknown';
    let parsed: R | undefined;
    try {
      parsed = await dialect.parse(request.body, request);
      model = parsed.model;
      const outcome = await dialect.run(runtime.serving.gateway, parsed, requestOptions(request));
      const overhead = Math.max(0, performance.now() - started - outcome.upstreamMs);
      overheadHistogram.observe(overhead / 1000);
      const headers = servedHeaders(outcome, overhead);
      reply.hijack();
      const raw = reply.raw;
      if (!outcome.stream) {
        writeJsonAnswer(
          raw,
          headers,
          JSON.stringify(await dialect.answer(outcome.response, parsed, outcome)),
        );
        record(outcome.model, 200, started, outcome);
        return reply;
      }
      raw.writeHead(200, Object.assign(headers, SSE_HEADERS));
      const sse = new SseWriter(raw);
      const events = dialect.stream(outcome.chunks, parsed, outcome);
      try {
        for await (const frame of events.frames) {
          if (sse.closed) break;
          sse.write(frame);
          if (sse.behind) await sse.drained();
        }
        record(outcome.model, 200, started, outcome);
      } catch (error) {
        // Bytes already went out: the status cannot change, so the error travels as an event.
        const { status, body } = toOpenAIError(error, runtime.serving.secrets);
        sse.write(events.error(status, body));
        record(outcome.model, status, started, outcome);
      } finally {
        sse.end();
      }
      return reply;
    } catch (error) {
      const { status, body, headers } = toOpenAIError(error, runtime.serving.secrets);
      record(modelLabel(context, model), status, started);
      if (dialect.errorBody === undefined) throw error;
      if (reply.sent) return reply;
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
