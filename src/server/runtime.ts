/**
 * What the proxy serves with: the validated config and the gateway built from it. Hot reload
 * (file watch and SIGHUP) builds the next gateway off the request path and swaps it in one
 * assignment; a broken file keeps the old one serving and logs why.
 */
import { createHash } from 'node:crypto';
import { type FSWatcher, watch } from 'node:fs';
import path from 'node:path';
import { loadProxyConfig, type ProxyConfig } from '../config/proxy-config.js';
import type { EncoderPool } from '../embeddings/pool.js';
import { ErrorCode, isSemrouteError, SemrouteError } from '../errors.js';
import { Gateway } from '../gateway/gateway.js';
import { createStateStore, storeSettings } from '../gateway/state/create.js';
import type { StateStore } from '../gateway/state/state-store.js';
import type { EventListeners } from '../gateway/events.js';
import type { RequestContext } from '../gateway/context.js';
import type { Account } from '../gateway/spend/ledger.js';

/** How long a proxy waits at start for a shared state store before serving on local state. */
const STORE_CONNECT_MS = 3_000;

export interface Logger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

/** A virtual key as the auth hook needs it. */
export interface KeyEntry {
  /** Model names it may use; undefined = all. */
  models: readonly string[] | undefined;
  /** A short hash of the key: who is asking, without the key itself. */
  id: string;
  /** Its name in logs and metrics: `key_alias` / `alias`, else `key-<id>`. */
  alias: string;
  /** Its budget and limits, as the gateway enforces them. */
  account: Account;
  /** What /key/info shows of it besides spend. */
  metadata: Readonly<Record<string, unknown>> | undefined;
}

export interface Serving {
  config: ProxyConfig;
  gateway: Gateway;
  keys: ReadonlyMap<string, KeyEntry>;
  loadedAt: number;
  /** Every key the config holds (master, virtual, upstream, Redis): redacted from errors and logs. */
  secrets: string[];
}

export interface RuntimeOptions {
  file: string;
  store?: StateStore | undefined;
  /** Encoders shared by every gateway this runtime builds (a reload loads no model again). */
  encoders: EncoderPool;
  fetch?: typeof fetch | undefined;
  /** The clock of the state store and the gateway (rpm windows, cooldowns). Default Date.now. */
  clock?: (() => number) | undefined;
  events?: EventListeners | undefined;
  /** Headers each upstream call carries for its request's trace (server/traces.ts). */
  traceHeaders?: ((ctx: RequestContext) => Record<string, string> | undefined) | undefined;
  logger: Logger;
  /** The environment `os.environ/` references and provider variables are read from. Default process.env. */
  env?: NodeJS.ProcessEnv | undefined;
  onReload?: ((ok: boolean, error: unknown, reason: string) => void) | undefined;
}

export class ProxyRuntime {
  private watchers: FSWatcher[] = [];
  private pending: NodeJS.Timeout | undefined;
  private reloading: Promise<boolean> = Promise.resolve(true);
  readonly store: StateStore;
  /** Why the last reload failed (undefined after a good one). */
  lastReloadError: unknown;
  /**
   * The warnings the current config gave: each is said once, not again at every reload (a route
   * page Save, a touch of the file) while the files still give it; said again if it comes back.
   */
  private said = new Set<string>();

  private constructor(
    public serving: Serving,
    private readonly options: RuntimeOptions,
    store: StateStore,
  ) {
    this.store = store;
  }

  static async start(options: RuntimeOptions): Promise<ProxyRuntime> {
    const config = await loadProxyConfig(path.resolve(options.file), options.env);
    const store = options.store ?? createStateStore(config.gateway, options.logger, options.clock);
    await store.connected?.(STORE_CONNECT_MS);
    const serving = await ProxyRuntime.build(options, store, config).catch(async (error: unknown) => {
      await store.close();
      throw error;
    });
    const runtime = new ProxyRuntime(serving, options, store);
    runtime.describe(serving);
    return runtime;
  }

  private static async build(
    options: RuntimeOptions,
    store: StateStore,
    config: ProxyConfig,
  ): Promise<Serving> {
    const gateway = await Gateway.create(config.gateway, {
      store,
      encoders: options.encoders,
      fetch: options.fetch,
      clock: options.clock,
      events: options.events,
      traceHeaders: options.traceHeaders,
      baseDir: config.baseDir,
    }).catch((error: unknown) => {
      // The gateway checks what it builds (strategies, route targets) without knowing the file:
      // a config mistake found there still names it.
      if (isSemrouteError(error) && error.file === undefined && error.code === ErrorCode.CONFIG_INVALID)
        throw new SemrouteError(error.code, `${config.file}: ${error.message}`, {
          file: config.file,
          path: error.path,
          expected: error.expected,
          details: error.details,
          cause: error,
        });
      throw error;
    });
    const keys = new Map(
      config.general.keys.map((k) => {
        const id = createHash('sha256').update(k.key).digest('hex').slice(0, 12);
        const alias = k.key_alias ?? k.alias ?? `key-${id}`;
        const account: Account = Object.freeze({
          id,
          alias,
          maxBudgetUsd: k.max_budget,
          budgetDuration: k.budget_duration,
          rpm: k.rpm_limit,
          tpm: k.tpm_limit,
          maxParallel: k.max_parallel_requests,
        });
        return [k.key, { models: k.models, id, alias, account, metadata: k.metadata }];
      }),
    );
    const secrets = [
      config.general.master_key,
      ...config.general.keys.map((k) => k.key),
      ...config.gateway.model_list.map((m) => m.litellm_params.api_key),
      // Keys read from provider variables (ANTHROPIC_API_KEY, …) are scrubbed too.
      ...config.gateway.resolved.targets.map((t) => t?.apiKey),
      config.gateway.redis_password,
    ].filter((s): s is string => typeof s === 'string' && s.length >= 4);
    return { config, gateway, keys, loadedAt: Date.now(), secrets };
  }

  /**
   * One line per semantic router: which encoder it embeds with, and whether router.json or the
   * config chose it; then the warnings not said already.
   */
  private describe(serving: Serving): void {
    const { logger } = this.options;
    const warnings: Array<[Record<string, string | undefined>, string]> = [];
    for (const r of serving.gateway.semanticRouters()) {
      logger.info(
        { model: r.model, encoder: r.encoder, chosen_by: r.source, routes: r.routes },
        `semantic router ${r.model}: ${r.routes} routes, embeds with ${r.encoder} (${r.source})`,
      );
      for (const warning of r.warnings) warnings.push([{ model: r.model }, warning]);
    }
    for (const warning of serving.config.warnings) warnings.push([{ file: serving.config.file }, warning]);
    const unpriced = unpricedBudget(serving);
    if (unpriced !== undefined) warnings.push([{ file: serving.config.file }, unpriced]);
    const now = new Set<string>();
    for (const [fields, warning] of warnings) {
      const key = `${JSON.stringify(fields)} ${warning}`;
      if (!this.said.has(key)) logger.warn(fields, warning);
      now.add(key);
    }
    this.said = now;
  }

  /** Rebuilds from the files; on failure the old config keeps serving. Serialised. */
  reload(reason: string): Promise<boolean> {
    this.reloading = this.reloading.then(async () => {
      try {
        const config = await loadProxyConfig(path.resolve(this.options.file), this.options.env);
        if (storeSettings(config.gateway) !== storeSettings(this.serving.config.gateway)) {
          this.options.logger.warn(
            { reason },
            'redis settings changed; they take effect at the next restart (the current state store keeps serving)',
          );
        }
        const next = await ProxyRuntime.build(this.options, this.store, config);
        const previous = this.serving;
        this.serving = next;
        this.rewatch();
        this.options.logger.info({ reason, models: next.gateway.listModels().length }, 'config reloaded');
        this.describe(next);
        this.lastReloadError = undefined;
        this.options.onReload?.(true, undefined, reason);
        // Requests already running keep their gateway; it holds no sockets of its own to close.
        setTimeout(() => void previous.gateway.close(), 30_000).unref();
        return true;
      } catch (error) {
        const detail = isSemrouteError(error) ? error.toJSON() : { message: (error as Error).message };
        this.options.logger.error(
          { reason, error: detail },
          'config reload failed; still serving the previous config',
        );
        this.lastReloadError = error;
        this.options.onReload?.(false, error, reason);
        return false;
      }
    });
    return this.reloading;
  }

  private watching = false;

  /** Watches config.yaml and the router.json files it names (again after each reload). */
  startWatching(): void {
    this.watching = true;
    this.rewatch();
  }

  private rewatch(): void {
    if (!this.watching) return;
    for (const w of this.watchers) w.close();
    this.watchers = [];
    const files = [path.resolve(this.options.file), ...this.serving.config.routerFiles];
    // Watch folders, not files: editors replace files by rename, which ends a file watch.
    for (const dir of new Set(files.map((f) => path.dirname(f)))) {
      const names = new Set(files.filter((f) => path.dirname(f) === dir).map((f) => path.basename(f)));
      try {
        const watcher = watch(dir, (_event, name) => {
          if (name !== null && names.has(name.toString())) this.schedule(`${name} changed`);
        });
        watcher.unref();
        this.watchers.push(watcher);
      } catch (error) {
        this.options.logger.warn(
          { dir, error: (error as Error).message },
          'cannot watch folder; SIGHUP still reloads',
        );
      }
    }
  }

  private schedule(reason: string): void {
    clearTimeout(this.pending);
    this.pending = setTimeout(() => {
      this.pending = undefined;
      void this.reload(reason);
    }, 150);
    this.pending.unref();
  }

  async close(): Promise<void> {
    this.watching = false;
    clearTimeout(this.pending);
    for (const w of this.watchers) w.close();
    this.watchers = [];
    await this.reloading;
    await this.serving.gateway.close();
    await this.store.close();
  }
}

/**
 * A budget can only count what has a price: when a key (or the proxy) has max_budget and some
 * group has a deployment with no price in model_info nor in the shipped table, say which.
 */
function unpricedBudget(serving: Serving): string | undefined {
  const { config, gateway } = serving;
  const budgeted =
    config.gateway.max_budget !== undefined || config.general.keys.some((k) => k.max_budget !== undefined);
  if (!budgeted) return undefined;
  const groups = gateway
    .listModels()
    .filter((m) => m.kind === 'group' || m.kind === 'wildcard')
    .map((m) => m.id)
    .filter((g) => gateway.deployments(g).some((d) => d.info.priceSource === undefined));
  if (groups.length === 0) return undefined;
  return `max_budget cannot count spend on ${groups.join(', ')}: no price in model_info (input_cost_per_token, output_cost_per_token) nor in semroute's table of well-known models; their answers cost 0 against budgets`;
}
