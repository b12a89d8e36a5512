/**
 * The OpenAI-compatible proxy: fastify routes over the gateway Router. Thin on purpose: parse
 * and check the request, hand it to the Router, write OpenAI's JSON or SSE back.
 */
import type { Socket } from 'node:net';
import Fastify, { type FastifyReply, type FastifyRequest, LogController } from 'fastify';
import { z } from 'zod';
import { ErrorCode, formatPath, SemrouteError } from '../errors.js';
import type { ChatOutcome, RequestOptions } from '../gateway/router.js';
import type { ChatBody } from '../gateway/upstream.js';
import { DecisionLog } from './decisions.js';
import { explanationBody } from './explain.js';
import type { ProxyMetrics } from './metrics.js';
import { openAIError, toOpenAIError } from './openai-errors.js';
import type { ProxyRuntime } from './runtime.js';
import { redactSecrets, sameSecret } from './secrets.js';
import { hasUiSession, registerUi, sendLogin } from './ui.js';

export const ChatRequestSchema = z.looseObject({
  model: z.string().min(1, 'model is required'),
  messages: z.array(z.looseObject({ role: z.string().min(1) })).min(1, 'messages needs at least one message'),
  stream: z.boolean().nullish(),
  session_id: z.string().optional(),
});

export const EmbeddingRequestSchema = z.looseObject({
  model: z.string().min(1),
  input: z.union([z.string(), z.array(z.string()), z.array(z.number()), z.array(z.array(z.number()))]),
});

export interface AppOptions {
  runtime: ProxyRuntime;
  metrics: ProxyMetrics;
  logger?: object | boolean | undefined;
  /** Recent routing decisions for the route page (fed by the Router's route events). */
  decisions?: DecisionLog | undefined;
  /** The /metrics text when it is not this process's registry alone (cluster workers: the sum). */
  metricsText?: (() => Promise<string>) | undefined;
}

/** Aborted when the connection closes: one per connection, not one per request. */
const connectionCancels = new WeakMap<Socket, AbortController>();

/**
 * The signal that cancels a request's upstream call when its client hangs up. An HTTP/1.1
 * connection carries one request at a time, and a client that goes away before its answer
 * closes the connection, so one controller per connection serves every request on it (an
 * AbortController per request was 3% of the proxy's CPU).
 */
function connectionSignal(socket: Socket): AbortSignal {
  let controller = connectionCancels.get(socket);
  if (controller === undefined) {
    const created = new AbortController();
    connectionCancels.set(socket, created);
    socket.once('close', () => created.abort());
    controller = created;
  }
  return controller.signal;
}

/** Paths any caller may reach, key or not. */
const OPEN_PATHS = new Set(['/health', '/health/liveliness', '/health/readiness']);

function validate<T>(schema: z.ZodType<T>, body: unknown): T {
  const result = schema.safeParse(body);
  if (!result.success) {
    const issue = result.error.issues[0]!;
    const at = formatPath(issue.path);
    throw new SemrouteError(ErrorCode.INPUT_INVALID, `${at}: ${issue.message}`, {
      path: at,
      expected: issue.message,
    });
  }
  return result.data;
}

declare module 'fastify' {
  interface FastifyRequest {
    allowedModels: readonly string[] | undefined;
    startedAt: number;
  }
}

export async function buildApp(options: AppOptions) {
  const { runtime, metrics } = options;
  const general = () => runtime.serving.config.general;
  const app = Fastify({
    logger: options.logger ?? false,
    bodyLimit: general().max_request_size_bytes,
    // No per-request log lines: bodies and headers carry prompts and keys.
    logController: new LogController({ disableRequestLogging: true }),
    // Clients that go away must cancel their upstream call; fastify tells us through the socket.
    return503OnClosing: true,
    // close() runs after our own drain: whatever connection is still open is idle or abandoned.
    forceCloseConnections: true,
    // No child logger per request: with request logging off, the only request logs are errors,
    // and a pino child per request (bindings serialised, redaction set up) was 1.5% of the CPU.
    childLoggerFactory: (logger) => logger,
  });
  let draining = false;
  let inFlight = 0;
  let idle: (() => void) | undefined;

  /** Every route registered, for the security walk in the tests and for docs. */
  const routes: Array<{ method: string; url: string }> = [];
  app.addHook('onRoute', (route) => {
    for (const method of [route.method].flat())
      if (method !== 'HEAD') routes.push({ method, url: route.url });
  });
  app.decorateRequest('allowedModels', undefined);
  app.decorateRequest('startedAt', 0);

  /**
   * Counted first; released once, when the response ends or the connection drops (an aborted
   * request gets no onResponse, and a drain must not wait for it forever).
   */
  const track = (reply: FastifyReply) => {
    inFlight++;
    reply.raw.once('close', () => {
      inFlight--;
      if (inFlight === 0) idle?.();
    });
  };

  /** Refuses the request while draining or without a valid key; undefined lets it through. */
  const admit = (request: FastifyRequest, reply: FastifyReply): FastifyReply | undefined => {
    // The route fastify matched, never the raw URL: fastify routes on the decoded path, so a raw
    // `/%75i/api/state` is `/ui/api/state` to the router and must be to the guard too. No match
    // (a 404) is held to the API's rule: a key first, then the 404.
    const url = request.routeOptions.url ?? '';
    if (draining && !OPEN_PATHS.has(url)) {
      return reply
        .code(503)
        .header('connection', 'close')
        .send(openAIError(503, 'semroute is shutting down', 'shutting_down'));
    }
    const { master_key, metrics_open, ui_open } = general();
    if (master_key === undefined || OPEN_PATHS.has(url)) return;
    const ui = url === '/ui' || url.startsWith('/ui/');
    if ((url === '/metrics' && metrics_open) || (ui && ui_open)) return;
    const header = request.headers.authorization ?? '';
    const token = header.startsWith('Bearer ')
      ? header.slice(7).trim()
      : (request.headers['x-api-key'] as string | undefined);
    if (ui) {
      // The login form checks the key itself; the page's own session cookie admits the rest.
      if (url === '/ui/login' || hasUiSession(request, master_key)) return;
      if (token && sameSecret(token, master_key)) return;
      if (request.method === 'GET' && url === '/ui') return sendLogin(reply);
      return reply
        .code(401)
        .send(openAIError(401, 'The route page needs the master key: log in at /ui', 'invalid_api_key'));
    }
    if (!token)
      return reply
        .code(401)
        .send(openAIError(401, 'Missing API key: send Authorization: Bearer <key>', 'invalid_api_key'));
    if (sameSecret(token, master_key)) return;
    const key = runtime.serving.keys.get(token);
    if (key === undefined)
      return reply.code(401).send(openAIError(401, 'Invalid API key', 'invalid_api_key'));
    request.allowedModels = key.models;
  };

  // One callback-style hook: an async hook costs a promise per request, and this runs on all.
  app.addHook('onRequest', (request, reply, done) => {
    request.startedAt = performance.now();
    track(reply);
    if (admit(request, reply) === undefined) done();
  });

  app.setErrorHandler((error, request, reply) => {
    const { status, body } = toOpenAIError(error, runtime.serving.secrets);
    if (status >= 500) {
      // Our own failures get their stack in the log (secrets removed); upstream ones are expected.
      const unexpected = !(error instanceof SemrouteError);
      request.log.error(
        {
          code: (error as SemrouteError).code,
          message: body.error.message,
          ...(unexpected
            ? { stack: redactSecrets(String((error as Error).stack), runtime.serving.secrets) }
            : {}),
        },
        'request failed',
      );
    }
    reply.code(status).send(body);
  });
  app.setNotFoundHandler((request, reply) => {
    reply.code(404).send(openAIError(404, `No route ${request.method} ${request.url}`, 'not_found'));
  });

  const requestOptions = (request: FastifyRequest): RequestOptions & { signal: AbortSignal } => {
    const session = request.headers['x-session-id'];
    return {
      signal: connectionSignal(request.raw.socket),
      sessionId: typeof session === 'string' ? session : undefined,
      allowedModels: request.allowedModels,
    };
  };

  const record = (endpoint: string, model: string, status: number, started: number) => {
    metrics.request(endpoint, model, status, (performance.now() - started) / 1000);
  };
  /** A model name from a failed request is a label only when configured: no unbounded labels. */
  const asLabel = (model: string) =>
    runtime.serving.router.listModels().some((m) => m.id === model) ? model : 'unknown';

  const chatOverhead = metrics.overhead.labels({ endpoint: 'chat' });
  const servedHeaders = (outcome: ChatOutcome, started: number): Record<string, string> => {
    const overhead = Math.max(0, performance.now() - started - outcome.upstreamMs);
    chatOverhead.observe(overhead / 1000);
    const headers: Record<string, string> = {
      'x-semroute-model-id': outcome.deploymentId,
      'x-semroute-model': outcome.model,
      'x-semroute-overhead-ms': overhead.toFixed(3),
      // How it was served: upstream calls made, and the groups that failed before this one.
      'x-semroute-attempts': String(outcome.attempts),
    };
    if (outcome.route !== undefined) {
      headers['x-semroute-route'] = outcome.route.name ?? '';
      headers['x-semroute-score'] = outcome.route.score.toFixed(4);
    }
    if (outcome.cached) headers['x-semroute-cache'] = 'hit';
    if (outcome.fallbacksTried.length > 0) headers['x-semroute-fallbacks'] = outcome.fallbacksTried.join(',');
    return headers;
  };

  const chat = async (request: FastifyRequest, reply: FastifyReply) => {
    const started = request.startedAt;
    let model = 'unknown';
    try {
      const body = validate(ChatRequestSchema, request.body) as ChatBody & { model: string };
      model = body.model;
      const outcome = await runtime.serving.router.chatCompletion(body, requestOptions(request));
      const headers = servedHeaders(outcome, started);
      // Written straight to the socket: the answer is ready, and fastify's send pipeline
      // (serialiser choice, hooks, header checks) has nothing left to do for it.
      reply.hijack();
      const raw = reply.raw;
      if (!outcome.stream) {
        const text = JSON.stringify(outcome.response);
        headers['content-type'] = 'application/json; charset=utf-8';
        headers['content-length'] = String(Buffer.byteLength(text));
        raw.writeHead(200, headers);
        raw.end(text);
        record('chat', outcome.model, 200, started);
        return reply;
      }
      headers['content-type'] = 'text/event-stream; charset=utf-8';
      headers['cache-control'] = 'no-cache';
      headers.connection = 'keep-alive';
      headers['x-accel-buffering'] = 'no';
      raw.writeHead(200, headers);
      // Events that are ready together (the head, chunks from one upstream read) leave in one
      // write: a write is a syscall, and a stream is many small ones. Uncorked once the chunks
      // at hand are written, so nothing waits for the next upstream read.
      let corked = false;
      const send = (text: string) => {
        if (!corked) {
          corked = true;
          raw.cork();
          process.nextTick(() => {
            corked = false;
            raw.uncork();
          });
        }
        raw.write(text);
      };
      try {
        for await (const chunk of outcome.chunks) {
          if (raw.destroyed) break;
          send(`data: ${JSON.stringify(chunk)}\n\n`);
        }
        if (!raw.destroyed) send('data: [DONE]\n\n');
        record('chat', outcome.model, 200, started);
      } catch (error) {
        // Bytes already went out: the status cannot change, so the error travels as an SSE event.
        const { status, body: errorBody } = toOpenAIError(error, runtime.serving.secrets);
        if (!raw.destroyed) send(`data: ${JSON.stringify(errorBody)}\n\n`);
        record('chat', outcome.model, status, started);
      } finally {
        raw.end();
      }
      return reply;
    } catch (error) {
      const { status } = toOpenAIError(error);
      record('chat', asLabel(model), status, started);
      throw error;
    }
  };
  app.post('/v1/chat/completions', chat);
  app.post('/chat/completions', chat);

  const embeddings = async (request: FastifyRequest, reply: FastifyReply) => {
    const body = validate(EmbeddingRequestSchema, request.body);
    try {
      const served = await runtime.serving.router.embedding(body, requestOptions(request));
      record('embeddings', served.model, 200, request.startedAt);
      reply.header('x-semroute-model-id', served.deploymentId);
      return served.response;
    } catch (error) {
      record('embeddings', asLabel(body.model), toOpenAIError(error).status, request.startedAt);
      throw error;
    }
  };
  app.post('/v1/embeddings', embeddings);
  app.post('/embeddings', embeddings);

  const models = async (request: FastifyRequest) => {
    const allowed = request.allowedModels;
    const created = Math.floor(runtime.serving.loadedAt / 1000);
    return {
      object: 'list',
      data: runtime.serving.router
        .listModels()
        .filter((m) => allowed === undefined || allowed.includes(m.id))
        .map((m) => ({
          id: m.id,
          object: 'model',
          created,
          owned_by: 'semroute',
          semroute: { kind: m.kind, ...(m.target ? { target: m.target } : {}) },
        })),
    };
  };
  app.get('/v1/models', models);
  app.get('/models', models);

  app.post('/v1/route', async (request) => {
    const body = validate(
      ChatRequestSchema.partial({ messages: true }).extend({ prompt: z.string().optional() }),
      request.body,
    );
    const messages =
      body.messages ?? (body.prompt !== undefined ? [{ role: 'user', content: body.prompt }] : undefined);
    if (messages === undefined) {
      throw new SemrouteError(ErrorCode.INPUT_INVALID, 'messages or prompt is required', {
        path: 'messages',
        expected: 'messages or prompt',
      });
    }
    const started = performance.now();
    const explained = await runtime.serving.router.explain(
      { ...body, messages } as ChatBody & { model: string },
      {
        allowedModels: request.allowedModels,
        sessionId: request.headers['x-session-id'] as string | undefined,
      },
    );
    return explanationBody(explained, started);
  });

  registerUi(app, { runtime, decisions: options.decisions ?? new DecisionLog(), validate });

  app.get('/health/liveliness', async () => ({ status: 'ok' }));
  app.get('/health/readiness', async (_request, reply) => {
    const ready = !draining;
    if (!ready) reply.code(503);
    return {
      status: ready ? 'ok' : 'draining',
      // This request included.
      in_flight: inFlight,
      // Which process answered: with --workers each has its own in_flight and state.
      pid: process.pid,
      models: runtime.serving.router.listModels().length,
      config_loaded_at: new Date(runtime.serving.loadedAt).toISOString(),
      state_store: runtime.store.status(),
    };
  });
  app.get('/health', async () => {
    const groups = runtime.serving.router.listModels().filter((m) => m.kind === 'group');
    const cooling = await runtime.store.cooldowns(
      groups.flatMap((g) => runtime.serving.router.deployments(g.id).map((d) => d.id)),
    );
    const deployments = groups.flatMap((g) =>
      runtime.serving.router.deployments(g.id).map((d) => ({
        model: g.id,
        id: d.id,
        healthy: !cooling.has(d.id),
        cooling_until: cooling.has(d.id) ? new Date(cooling.get(d.id)!).toISOString() : null,
      })),
    );
    return {
      healthy_count: deployments.filter((d) => d.healthy).length,
      unhealthy_count: deployments.filter((d) => !d.healthy).length,
      deployments,
    };
  });

  app.get('/metrics', async (_request, reply) => {
    reply.header('content-type', metrics.registry.contentType);
    return options.metricsText ? options.metricsText() : metrics.registry.metrics();
  });

  // Returned in an object: a fastify instance is thenable, so awaiting it directly would unwrap it.
  return {
    app,
    routes,
    /** Stops taking requests (503) and resolves when those in flight have finished. */
    async drain(): Promise<void> {
      draining = true;
      if (inFlight > 0) await new Promise<void>((resolve) => (idle = resolve));
    },
  };
}
