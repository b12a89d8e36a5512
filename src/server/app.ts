/**
 * The OpenAI-compatible proxy: fastify wired to the gateway. Thin on purpose: this file only
 * wires — auth (`auth.ts`), errors (`openai-errors.ts`) and one module per endpoint (`routes/`,
 * `ui/`) do the work.
 */
import { chatDialect } from './dialects/chat.js';
import { completionsDialect } from './dialects/completions.js';
import { registerDialect } from './dialects/dialect.js';
import { embeddingsDialect } from './dialects/embeddings.js';
import { rerankDialect } from './dialects/rerank.js';
import { messagesDialect, registerCountTokens } from './dialects/messages.js';
import { responsesDialect } from './dialects/responses.js';
import Fastify, { type FastifyBaseLogger, LogController } from 'fastify';
import { SemrouteError } from '../errors.js';
import { requestId } from '../gateway/context.js';
import type { EventListeners } from '../gateway/events.js';
import { admit } from './auth.js';
import { checkDepth } from './body-depth.js';
import type { ServerContext } from './context.js';
import { RecentDecisions } from './decisions.js';
import { Lifecycle } from './lifecycle.js';
import type { ProxyMetrics } from './metrics.js';
import { errorAnswer, openAIError } from './openai-errors.js';
import './request-context.js';
import { registerHealth } from './routes/health.js';
import { registerMetrics } from './routes/metrics.js';
import { registerModels } from './routes/models.js';
import { registerRoute } from './routes/route.js';
import { registerSpend } from './routes/spend.js';
import type { ProxyRuntime } from './runtime.js';
import { redactSecrets } from './secrets.js';
import { registerUiApi } from './ui/api.js';
import { registerPage } from './ui/page.js';
import { LoginThrottle, UiSessions } from './ui/session.js';

export interface AppOptions {
  runtime: ProxyRuntime;
  metrics: ProxyMetrics;
  /** The process's pino logger (fastify logs through it). */
  logger?: FastifyBaseLogger | undefined;
  /** Recent routing decisions for the route page (fed by the gateway's route events). */
  decisions?: RecentDecisions | undefined;
  /** The /metrics text when it is not this process's registry alone (cluster workers: the sum). */
  metricsText?: (() => Promise<string>) | undefined;
  /** The lifecycle listeners the gateway reports to (serve.ts: metrics, logs, decisions). */
  events?: EventListeners | undefined;
}

export async function buildApp(options: AppOptions) {
  const { runtime } = options;
  const app = Fastify({
    ...(options.logger === undefined ? { logger: false } : { loggerInstance: options.logger }),
    bodyLimit: runtime.serving.config.general.max_request_size_bytes,
    // A client gets this long to send its whole request: slow-body clients cannot hold sockets.
    requestTimeout: runtime.serving.config.general.request_body_timeout_seconds * 1000,
    // No per-request log lines: bodies and headers carry prompts and keys.
    logController: new LogController({ disableRequestLogging: true }),
    // Clients that go away must cancel their upstream call; fastify tells us through the socket.
    return503OnClosing: true,
    // close() runs after our own drain: whatever connection is still open is idle or abandoned.
    forceCloseConnections: true,
    // No child logger per request: with request logging off, the only request logs are errors,
    // and a pino child per request (bindings serialised, redaction set up) was 1.5% of the CPU.
    childLoggerFactory: (logger) => logger,
    // The request id: the client's x-request-id when it is sane, else ours. Echoed on every
    // answer and carried by every log line and lifecycle event of the request.
    requestIdHeader: false,
    genReqId: (raw) => requestId(raw.headers['x-request-id']),
  });
  const lifecycle = new Lifecycle();
  const sessions = new UiSessions(runtime.store);
  const throttle = new LoginThrottle();
  const context: ServerContext = {
    runtime,
    metrics: options.metrics,
    lifecycle,
    decisions: options.decisions ?? new RecentDecisions(),
    events: options.events ?? {},
    metricsText: options.metricsText,
  };

  /** Every route registered, for the security walk in the tests and for docs. */
  const routes: Array<{ method: string; url: string }> = [];
  app.addHook('onRoute', (route) => {
    for (const method of [route.method].flat())
      if (method !== 'HEAD') routes.push({ method, url: route.url });
  });
  app.decorateRequest('allowedModels', undefined);
  app.decorateRequest('caller', undefined);
  app.decorateRequest('callerAlias', undefined);
  app.decorateRequest('key', undefined);
  app.decorateRequest('startedAt', 0);

  // One callback-style hook: an async hook costs a promise per request, and this runs on all.
  app.addHook('onRequest', (request, reply, done) => {
    request.startedAt = performance.now();
    lifecycle.track(reply);
    const verdict = admit(request, reply, runtime, lifecycle, sessions, throttle);
    if (verdict === undefined) done();
    else if (verdict instanceof Promise)
      verdict.then((sent) => (sent === undefined ? done() : undefined), done);
  });

  // Every answer fastify sends carries the request id (answers written to the socket set it too).
  app.addHook('onSend', (request, reply, payload, done) => {
    reply.header('x-request-id', request.id);
    done(null, payload);
  });

  // A body must arrive within request_body_timeout_seconds: a client sending a byte now and then
  // cannot hold a socket (and a shutdown) for ever. Node's own requestTimeout is only checked
  // every 30 s; this timer is exact.
  app.addHook('preParsing', (_request, reply, payload, done) => {
    const seconds = runtime.serving.config.general.request_body_timeout_seconds;
    const timer = setTimeout(() => {
      reply.header('connection', 'close');
      // An error on the body stream (not destroy(), which takes the socket with it): the parser
      // gives up, the 408 goes out, and the connection closes after it.
      payload.emit(
        'error',
        Object.assign(
          new Error(
            `The request body did not arrive within ${seconds} s (general_settings.request_body_timeout_seconds)`,
          ),
          { statusCode: 408, code: 'request_timeout' },
        ),
      );
    }, seconds * 1000);
    const clear = () => clearTimeout(timer);
    payload.once('end', clear);
    payload.once('close', clear);
    payload.once('error', clear);
    done(null, payload);
  });

  // Before any route reads a body: nesting within budget (body-depth.ts).
  app.addHook('preValidation', (request, _reply, done) => {
    if (request.body !== null && typeof request.body === 'object') {
      try {
        checkDepth(request.body, runtime.serving.config.general.max_body_depth);
      } catch (error) {
        done(error as Error);
        return;
      }
    }
    done();
  });

  app.setErrorHandler((error, request, reply) => {
    const { status, body, headers } = errorAnswer(
      request.routeOptions.url ?? '',
      error,
      runtime.serving.secrets,
    );
    // Our own failures get their stack in the log (secrets removed). Upstream failures were logged
    // where they happened, once per kind and deployment (server/failure-log.ts), not per request.
    if (status >= 500 && !(error instanceof SemrouteError)) {
      request.log.error(
        {
          reqId: request.id,
          message: (body as { error: { message: string } }).error.message,
          stack: redactSecrets(String((error as Error).stack), runtime.serving.secrets),
        },
        'request failed',
      );
    }
    reply.code(status).headers(headers).send(body);
  });
  app.setNotFoundHandler((request, reply) => {
    reply.code(404).send(openAIError(404, `No route ${request.method} ${request.url}`, 'not_found'));
  });

  registerDialect(app, context, chatDialect);
  registerDialect(app, context, embeddingsDialect);
  registerDialect(app, context, rerankDialect);
  registerModels(app, context);
  registerDialect(app, context, responsesDialect(context));
  registerDialect(app, context, completionsDialect);
  registerDialect(app, context, messagesDialect);
  registerCountTokens(app);
  registerRoute(app, context);
  registerPage(app, runtime, sessions, throttle);
  registerUiApi(app, runtime, context.decisions);
  registerHealth(app, context);
  registerMetrics(app, context);
  registerSpend(app, context);

  // Returned in an object: a fastify instance is thenable, so awaiting it directly would unwrap it.
  return {
    app,
    routes,
    lifecycle,
    drain: () => lifecycle.drain(runtime.serving.config.general.graceful_shutdown_seconds * 1000),
  };
}
