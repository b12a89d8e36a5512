/**
 * `semroute serve --workers N`: N proxy processes sharing one port (node:cluster), so the proxy
 * can use more than one core. The primary serves no HTTP itself: it starts the workers, replaces
 * one that dies, passes SIGHUP and route-page saves to every worker, answers the workers' /metrics
 * with the sum over all of them, and on SIGTERM waits for each to drain.
 *
 * State (rpm/tpm counts, cooldowns, sessions, cache) is per worker unless Redis is configured,
 * exactly as with several instances; each worker says so once at startup. The default,
 * `--workers auto`, is one worker per core (see autoWorkers).
 */
import cluster, { type Worker } from 'node:cluster';
import { AggregatorRegistry, type Registry } from 'prom-client';
import type { ProxyConfig } from '../config/proxy-config.js';

/** IPC message types between the primary and its workers. */
const RELOAD = 'semroute:reload';
const METRICS_REQUEST = 'semroute:metrics-request';
const METRICS_RESPONSE = 'semroute:metrics-response';

/** A worker that dies this soon after starting is crash-looping. */
const QUICK_DEATH_MS = 10_000;
const MAX_QUICK_DEATHS = 3;

type Level = 'info' | 'warn' | 'error';
const LEVELS: Record<Level, number> = { info: 30, warn: 40, error: 50 };

/**
 * How many workers `serve --workers auto` (the default) starts: one per core the process may
 * use, except when the config counts something per key or for the whole proxy (a budget, rpm,
 * tpm or parallel limit) and has no Redis to count it in: then each worker would keep its own
 * count and a key could spend its budget once per worker, so one worker, and `why` says so.
 */
export function autoWorkers(config: ProxyConfig, cores: number): { workers: number; why: string } {
  const { gateway, general } = config;
  const shared = gateway.redis_url !== undefined || gateway.redis_host !== undefined;
  const limited =
    gateway.max_budget !== undefined ||
    general.keys.some(
      (k) =>
        k.max_budget !== undefined ||
        k.rpm_limit !== undefined ||
        k.tpm_limit !== undefined ||
        k.max_parallel_requests !== undefined,
    );
  const most = Math.max(1, Math.min(64, cores));
  if (most > 1 && limited && !shared)
    return {
      workers: 1,
      why: 'budgets or key limits without Redis: one worker, so that they are counted once (set router_settings.redis_host, or --workers N to choose)',
    };
  return { workers: most, why: most > 1 ? 'one worker per core' : 'one core' };
}

/** pino's line shape, so the primary's lines read like the workers'. */
export function log(level: Level, fields: object, msg: string): void {
  const line = { level: LEVELS[level], time: Date.now(), pid: process.pid, role: 'primary', ...fields, msg };
  process.stdout.write(`${JSON.stringify(line)}\n`);
}

export function isWorker(): boolean {
  return cluster.isWorker;
}

/** How many workers the primary started (1 outside cluster mode). */
export function workerCount(): number {
  const n = Number(process.env.SEMROUTE_WORKERS);
  return cluster.isWorker && Number.isInteger(n) && n > 0 ? n : 1;
}

/**
 * Runs the primary until every worker has stopped. Resolves to the exit code: 0 after SIGTERM,
 * the worker's code when one fails before it ever listened (a bad config fails the same way in
 * each), 1 when workers keep dying soon after starting.
 */
export function runPrimary(options: { workers: number; url: string }): Promise<number> {
  const aggregator = new AggregatorRegistry();
  const startedAt = new Map<number, number>();
  const listened = new Set<number>();
  let everyoneListening = false;
  let stopping = false;
  let quickDeaths = 0;
  let resolveExit: (code: number) => void = () => {};
  const exit = new Promise<number>((resolve) => (resolveExit = resolve));

  const stopAll = (code: number) => {
    if (stopping) return;
    stopping = true;
    const alive = Object.values(cluster.workers ?? {}).filter((w): w is Worker => w !== undefined);
    if (alive.length === 0) return resolveExit(code);
    let left = alive.length;
    for (const worker of alive) {
      worker.once('exit', () => {
        if (--left === 0) resolveExit(code);
      });
      worker.process.kill('SIGTERM');
    }
  };

  const fork = () => {
    const worker = cluster.fork({ SEMROUTE_WORKERS: String(options.workers) });
    startedAt.set(worker.id, Date.now());
    worker.on('message', (message: { type?: string; reason?: string; id?: number }) => {
      if (message?.type === RELOAD) {
        for (const other of Object.values(cluster.workers ?? {}))
          if (other && other.id !== worker.id) other.send({ type: RELOAD, reason: message.reason });
      } else if (message?.type === METRICS_REQUEST) {
        aggregator.clusterMetrics().then(
          (text) => worker.send({ type: METRICS_RESPONSE, id: message.id, text }),
          (error: Error) => worker.send({ type: METRICS_RESPONSE, id: message.id, error: error.message }),
        );
      }
    });
  };

  cluster.on('listening', (worker) => {
    listened.add(worker.id);
    if (!everyoneListening && listened.size >= options.workers) {
      everyoneListening = true;
      log('info', { url: options.url, workers: options.workers }, 'semroute proxy listening');
    }
  });
  cluster.on('exit', (worker, code, signal) => {
    const lived = Date.now() - (startedAt.get(worker.id) ?? 0);
    startedAt.delete(worker.id);
    if (stopping) return;
    log('error', { worker: worker.process.pid, code, signal }, 'worker exited');
    if (!listened.has(worker.id)) {
      log('error', {}, 'a worker failed before it listened; stopping (its own log says why)');
      return stopAll(code ?? 1);
    }
    quickDeaths = lived < QUICK_DEATH_MS ? quickDeaths + 1 : 0;
    if (quickDeaths >= MAX_QUICK_DEATHS) {
      log('error', { deaths: quickDeaths }, 'workers keep dying soon after they start; stopping');
      return stopAll(1);
    }
    fork();
  });

  process.on('SIGHUP', () => {
    for (const worker of Object.values(cluster.workers ?? {})) worker?.process.kill('SIGHUP');
  });
  process.on('SIGTERM', () => stopAll(0));
  process.on('SIGINT', () => stopAll(0));

  for (let i = 0; i < options.workers; i++) fork();
  return exit;
}

/**
 * The worker's side: its registry joins the primary's aggregation, route-page saves reach the
 * other workers, and reloads from them arrive here.
 */
export function joinCluster(options: { registry: Registry; reload: (reason: string) => Promise<unknown> }): {
  clusterMetrics(): Promise<string>;
  announceReload(reason: string): void;
} {
  AggregatorRegistry.setRegistries([options.registry]);
  // Constructing one registers prom-client's listener that answers the primary's requests.
  new AggregatorRegistry();
  let nextId = 0;
  const waiting = new Map<number, { resolve(text: string): void; reject(error: Error): void }>();
  process.on(
    'message',
    (message: { type?: string; reason?: string; id?: number; text?: string; error?: string }) => {
      if (message?.type === RELOAD) void options.reload(message.reason ?? 'another worker reloaded');
      else if (message?.type === METRICS_RESPONSE && message.id !== undefined) {
        const pending = waiting.get(message.id);
        waiting.delete(message.id);
        if (message.error !== undefined)
          pending?.reject(new Error(`metrics from the workers: ${message.error}`));
        else pending?.resolve(message.text ?? '');
      }
    },
  );
  return {
    clusterMetrics() {
      const id = nextId++;
      return new Promise<string>((resolve, reject) => {
        waiting.set(id, { resolve, reject });
        process.send?.({ type: METRICS_REQUEST, id });
      });
    },
    announceReload(reason: string) {
      process.send?.({ type: RELOAD, reason: `${reason} (worker ${process.pid})` });
    },
  };
}
