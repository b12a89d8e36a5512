import path from 'node:path';
/** Starting and stopping the proxy: runtime, app, signals, logging with secrets redacted. */
import pino, { type Logger } from 'pino';
import { EncoderPool } from '../embeddings/pool.js';
import type { StateStore } from '../gateway/state/state-store.js';
import { combineEvents } from '../gateway/events.js';
import { proxyListeners } from './listeners.js';
import { DecisionLog } from '../loop/decision-log.js';
import { ShadowGrader } from '../loop/shadow.js';
import { ErrorCode, SemrouteError } from '../errors.js';
import type { EventListeners } from '../gateway/events.js';
import { statusOf } from './openai-errors.js';
import { buildApp } from './app.js';
import { RecentDecisions } from './decisions.js';
import { FailureLog } from './failure-log.js';
import { ProxyMetrics } from './metrics.js';
import { ProxyRuntime } from './runtime.js';
import { ROUTE_PAGE_SAVE } from './ui/api.js';
import { isWorker, joinCluster, workerCount } from './workers.js';
import { startTracing, type Tracing } from './traces.js';

/**
 * Encoder threads per proxy process: one. A proxy embeds many prompts at once; a second
 * onnxruntime thread cuts a lone embedding from 0.87 to 0.78 ms but both threads spin, so each
 * costs 1.6 ms of CPU instead of 0.9 and uncached routing keeps up with half the rate
 * (`npm run bench -- --only route`). More cores are used with `--workers`.
 * `SEMROUTE_ONNX_THREADS` or router.json's `encoder_options.threads` override.
 */
function encoderThreads(): number | undefined {
  return process.env.SEMROUTE_ONNX_THREADS !== undefined ? undefined : 1;
}

export interface ServeOptions {
  config: string;
  port?: number | undefined;
  host?: string | undefined;
  /** Pino options (with an optional `stream`), or false for none; default JSON lines on stdout at info. */
  logger?: Record<string, unknown> | false | undefined;
  store?: StateStore | undefined;
  fetch?: typeof fetch | undefined;
  /** The clock of rpm windows, cooldowns and sessions. Default Date.now. */
  clock?: (() => number) | undefined;
  /** Handle SIGHUP (reload) and SIGTERM/SIGINT (graceful stop). Default true. */
  signals?: boolean | undefined;
  /** Watch config files for changes. Default true. */
  watch?: boolean | undefined;
  /** The environment the config's `os.environ/` references and provider variables come from. Default process.env. */
  env?: NodeJS.ProcessEnv | undefined;
}

/** Paths pino removes from every log line: keys never reach the logs. */
export const REDACT = [
  'req.headers.authorization',
  'req.headers["x-api-key"]',
  'headers.authorization',
  '*.api_key',
  '*.master_key',
  '*.redis_password',
  '*.redis_url',
  '*.key',
  'api_key',
  'master_key',
];

/**
 * The process logger: pino, JSON lines, keys redacted. Made before the config is read, so that
 * what the config load says (unsupported keys, unset variables) reaches the log.
 */
function createLogger(options: ServeOptions['logger']): Logger {
  if (options === false) return pino({ level: 'silent' });
  const { stream, ...rest } = (options ?? {}) as { stream?: pino.DestinationStream } & pino.LoggerOptions;
  const config: pino.LoggerOptions = {
    level: 'info',
    redact: { paths: REDACT, censor: '[redacted]' },
    ...rest,
  };
  return stream === undefined ? pino(config) : pino(config, stream);
}

export async function serve(options: ServeOptions) {
  const metrics = new ProxyMetrics();
  const log = createLogger(options.logger);
  // `set_verbose` / `--log-level debug` turn on per-request debug lines; an explicit level wins.
  const explicitLevel =
    options.logger !== undefined && typeof options.logger === 'object' && 'level' in options.logger;
  const applyVerbosity = (verbose: boolean) => {
    // logger: false stays silent, whatever set_verbose says.
    if (!explicitLevel && options.logger !== false) log.level = verbose ? 'debug' : 'info';
  };
  // Encoders shared by every semantic router and kept across reloads: one model load each.
  const threads = encoderThreads();
  const encoders = new EncoderPool({
    localOptions: threads ? { threads } : {},
    fetch: options.fetch,
    onWarning: (message) => log.warn(message),
  });
  let cluster: ReturnType<typeof joinCluster> | undefined;
  const proxyLogger = log;
  const decisions = new RecentDecisions();
  let runtime: ProxyRuntime | undefined;
  // Read at each decision, so a reload that turns log_prompts on or off applies at once.
  const failures = new FailureLog(log, () => runtime?.serving.secrets ?? [], {
    stillCooling: async (id) => (await runtime?.store.cooldowns([id]))?.get(id),
  });
  // The decision log, when the config asks for one: opened once the config is read (below);
  // until then (the routers compile before any request) it has nothing to hear.
  let decisionLog: DecisionLog | undefined;
  let shadow: ShadowGrader | undefined;
  let decisionListeners: EventListeners = {};
  const lateDecisions: EventListeners = {
    received: (c, r) => decisionListeners.received?.(c, r),
    planned: (c, p) => decisionListeners.planned?.(c, p),
    route: (c, m, r) => decisionListeners.route?.(c, m, r),
    succeeded: (c, r) => decisionListeners.succeeded?.(c, r),
    finished: (c, f) => decisionListeners.finished?.(c, f),
  };
  // Traces, once the config says whether it wants them (OTel loads only then).
  let tracing: Tracing | undefined;
  const lateTraces: EventListeners = {
    received: (c, r) => tracing?.listeners.received?.(c, r),
    route: (c, m, r) => tracing?.listeners.route?.(c, m, r),
    planned: (c, p) => tracing?.listeners.planned?.(c, p),
    cacheHit: (c, m) => tracing?.listeners.cacheHit?.(c, m),
    attemptStart: (c, a) => tracing?.listeners.attemptStart?.(c, a),
    attemptEnd: (c, o) => tracing?.listeners.attemptEnd?.(c, o),
    succeeded: (c, s) => tracing?.listeners.succeeded?.(c, s),
    finished: (c, f) => tracing?.listeners.finished?.(c, f),
  };
  const events = combineEvents([
    proxyListeners({
      metrics,
      decisions,
      failures,
      // Read at each decision, so a reload that turns log_prompts on or off applies at once.
      keepPrompts: () => runtime?.serving.config.general.log_prompts ?? false,
      label: (model) =>
        runtime?.serving.gateway.listModels().some((m) => m.id === model) ? model : 'unknown',
      logger: log,
    }),
    lateDecisions,
    lateTraces,
  ]);
  runtime = await ProxyRuntime.start({
    file: options.config,
    store: options.store,
    encoders,
    fetch: options.fetch,
    clock: options.clock,
    env: options.env,
    events,
    traceHeaders: (ctx) => tracing?.headers(ctx),
    logger: proxyLogger,
    onReload: (ok, _error, reason) => {
      metrics.reloads.inc({ result: ok ? 'ok' : 'failed' });
      if (ok && runtime !== undefined) applyVerbosity(runtime.serving.config.verbose);
      // The other workers do not watch what the route page wrote when watching is off.
      if (ok && reason === ROUTE_PAGE_SAVE) cluster?.announceReload(reason);
    },
  });
  // `runtime` is a let (the decision log reads it before it exists); this const keeps it narrowed.
  const serving = runtime;
  const logSettings = serving.serving.config.general.decision_log;
  if (logSettings !== undefined) {
    decisionLog = new DecisionLog({
      path: path.resolve(serving.serving.config.baseDir, logSettings.path),
      maxBytes: logSettings.max_bytes,
      keepPrompts: logSettings.keep_prompts,
      statusOf,
      onError: (error) => log.warn({ error: error.message }, 'decision log write failed'),
    });
    decisionListeners = decisionLog.listeners();
    metrics.watchDecisionLog(decisionLog);
    log.info({ path: logSettings.path, keep_prompts: logSettings.keep_prompts }, 'decision log open');
  }
  const shadowSettings = serving.serving.config.gateway.shadow;
  if (shadowSettings !== undefined) {
    const known = new Set(serving.serving.gateway.listModels().map((m) => m.id));
    const missing = [shadowSettings.judge, ...(shadowSettings.candidates ?? [])].filter((g) => !known.has(g));
    if (decisionLog === undefined || missing.length > 0) {
      await serving.close();
      await encoders.close();
      throw new SemrouteError(
        ErrorCode.CONFIG_INVALID,
        decisionLog === undefined
          ? `${options.config}: router_settings.shadow writes graded outcomes into the decision log: set general_settings.decision_log`
          : `${options.config}: router_settings.shadow names ${missing.join(', ')}, which no model_list entry serves`,
        {
          file: options.config,
          path: 'router_settings.shadow',
          expected: decisionLog === undefined ? 'general_settings.decision_log' : [...known].join(', '),
        },
      );
    }
    const log_ = decisionLog;
    shadow = new ShadowGrader(
      {
        share: shadowSettings.share,
        candidates: shadowSettings.candidates,
        judge: shadowSettings.judge,
        maxUsdPerDay: shadowSettings.max_usd_per_day,
      },
      {
        gateway: () => serving.serving.gateway,
        write: (line) => log_.append(line),
        keepPrompts: logSettings?.keep_prompts ?? false,
        onSkip: (reason) => metrics.shadow.inc({ result: reason }),
        onGraded: () => metrics.shadow.inc({ result: 'graded' }),
      },
    );
    decisionListeners = combineEvents([decisionLog.listeners(), shadow.listeners()]);
    log.info({ share: shadowSettings.share, judge: shadowSettings.judge }, 'shadow grading on');
  }
  tracing = await startTracing({
    env: options.env ?? process.env,
    otelCallback: serving.serving.config.otel,
    logPrompts: () => runtime?.serving.config.general.log_prompts ?? false,
  });
  if (tracing !== undefined) log.info({ endpoint: tracing.endpoint }, 'OpenTelemetry traces on (OTLP/HTTP)');
  applyVerbosity(serving.serving.config.verbose);
  if (isWorker()) cluster = joinCluster({ registry: metrics.registry, reload: (r) => serving.reload(r) });
  const { app, drain, routes, lifecycle } = await buildApp({
    runtime,
    metrics,
    logger: log,
    decisions,
    events,
    ...(cluster ? { metricsText: cluster.clusterMetrics } : {}),
  });
  if (workerCount() > 1 && !runtime.store.status().shared) {
    app.log.warn(
      { workers: workerCount() },
      'each worker keeps its own rpm/tpm counts, cooldowns, sessions and cache; set router_settings.redis_host (or redis_url) to share them',
    );
  }
  await app.listen({ port: options.port ?? 4000, host: options.host ?? '127.0.0.1' });
  if (options.watch !== false) runtime.startWatching();

  const onHup = () => void runtime.reload('SIGHUP');
  let stopping: Promise<void> | undefined;
  const stop = () => {
    stopping ??= (async () => {
      if (!(await drain())) {
        app.log.warn(
          { inFlight: lifecycle.inFlight },
          'graceful_shutdown_seconds passed with requests still in flight: closing their connections',
        );
      }
      await app.close();
      await runtime.close();
      await encoders.close();
      failures.close();
      await shadow?.idle();
      decisionLog?.close();
      await tracing?.shutdown();
    })();
    return stopping;
  };
  const onTerm = () => void stop().then(() => process.exit(0));
  if (options.signals !== false) {
    process.on('SIGHUP', onHup);
    process.on('SIGTERM', onTerm);
    process.on('SIGINT', onTerm);
  }
  const address = app.server.address();
  const port = typeof address === 'object' && address !== null ? address.port : (options.port ?? 4000);
  return {
    app,
    routes,
    runtime,
    metrics,
    /** The decision log and the shadow grader, when configured (tests flush and wait on them). */
    loop: { decisionLog, shadow },
    url: `http://${options.host ?? '127.0.0.1'}:${port}`,
    async close() {
      process.off('SIGHUP', onHup);
      process.off('SIGTERM', onTerm);
      process.off('SIGINT', onTerm);
      await stop();
    },
  };
}
