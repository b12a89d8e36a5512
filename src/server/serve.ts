/** Starting and stopping the proxy: runtime, app, signals, logging with secrets redacted. */
import pino, { type Logger } from 'pino';
import { EncoderPool } from '../embeddings/pool.js';
import type { StateStore } from '../gateway/state/state-store.js';
import { proxyListeners } from './listeners.js';
import { buildApp } from './app.js';
import { DecisionLog } from './decisions.js';
import { FailureLog } from './failure-log.js';
import { ProxyMetrics } from './metrics.js';
import { ProxyRuntime } from './runtime.js';
import { ROUTE_PAGE_SAVE } from './ui/api.js';
import { isWorker, joinCluster, workerCount } from './workers.js';

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
  const decisions = new DecisionLog();
  let runtime: ProxyRuntime | undefined;
  // Read at each decision, so a reload that turns log_prompts on or off applies at once.
  const failures = new FailureLog(log, () => runtime?.serving.secrets ?? [], {
    stillCooling: async (id) => (await runtime?.store.cooldowns([id]))?.get(id),
  });
  const events = proxyListeners({
    metrics,
    decisions,
    failures,
    // Read at each decision, so a reload that turns log_prompts on or off applies at once.
    keepPrompts: () => runtime?.serving.config.general.log_prompts ?? false,
    label: (model) => (runtime?.serving.gateway.listModels().some((m) => m.id === model) ? model : 'unknown'),
    logger: log,
  });
  runtime = await ProxyRuntime.start({
    file: options.config,
    store: options.store,
    encoders,
    fetch: options.fetch,
    clock: options.clock,
    env: options.env,
    events,
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
    url: `http://${options.host ?? '127.0.0.1'}:${port}`,
    async close() {
      process.off('SIGHUP', onHup);
      process.off('SIGTERM', onTerm);
      process.off('SIGINT', onTerm);
      await stop();
    },
  };
}
