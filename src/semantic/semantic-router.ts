/**
 * SemanticRouter: router.json → templates → embeddings → vector index → route().
 * Compiled once (or loaded from the saved artefact), then every query is: extract text, embed,
 * search, aggregate per route, apply thresholds.
 */
import { createHash } from 'node:crypto';
import path from 'node:path';
import {
  type Aggregation,
  type ExpandedUtterance,
  expandRoute,
  expandRoutes,
  type LoadedRouterConfig,
  loadRouterConfig,
  type RouteConfig,
  type RouterConfig,
  validateRouterConfig,
} from '../config/router-config.js';
import { createEncoder } from '../embeddings/create.js';
import type { Encoder } from '../embeddings/encoder.js';
import { ErrorCode, SemrouteError } from '../errors.js';
import { ExactIndex } from '../vector-index/exact.js';
import { HnswIndex } from '../vector-index/hnsw.js';
import type { SearchHits, VectorIndex } from '../vector-index/vector-index.js';
import { aggregateHits, decide, type RouteScore } from './aggregate.js';
import {
  type ArtefactManifest,
  artefactKey,
  type FitRecord,
  readArtefact,
  readFit,
  writeArtefact,
  writeFit,
} from './artefact.js';
import { type ChatMessageLike, type RouteInput, routingText, type TextOptions } from './messages.js';

export interface SemanticRouterOptions {
  /** Use this encoder instead of the one router.json names (tests, shared encoders). */
  encoder?: Encoder | undefined;
  /** Where compiled artefacts go; `false` disables. Default env `SEMROUTE_CACHE_DIR`, else `./.semroute-cache`. */
  cacheDir?: string | false | undefined;
  /** Force the index kind, overriding router.json's `index.type`. */
  index?: 'auto' | 'hnsw' | 'exact' | undefined;
  /** Progress while embedding utterances at compile time. */
  onProgress?: ((done: number, total: number) => void) | undefined;
  /** Injected fetch for remote encoders. */
  fetch?: typeof fetch | undefined;
}

export interface RouteCandidate {
  route: string;
  score: number;
  threshold: number;
}

export interface RouteResult {
  /** The chosen route, or null when none reaches its threshold (use `defaultRoute`). */
  name: string | null;
  /** Score of the chosen route, or of the best candidate when none passed. */
  score: number;
  threshold: number;
  /** The utterance (and its template) that matched best for the reported route. */
  matched: { utterance: string; template: string | null } | null;
  candidates: RouteCandidate[];
  defaultRoute: string | null;
  /** Why name is null: `below_threshold`, or `no_text` when the messages carried none. */
  reason: 'matched' | 'below_threshold' | 'no_text';
  timing: { embedMs: number; searchMs: number; totalMs: number };
}

export interface RouteOptions extends TextOptions {
  signal?: AbortSignal | undefined;
  /** Candidates reported. Default 5. */
  candidates?: number | undefined;
}

interface UtteranceRecord {
  route: number;
  text: string;
  template: string | undefined;
  vector: Float32Array;
}

export interface Scoring {
  aggregation: Aggregation;
  topK: number;
}

export class SemanticRouter {
  private config: RouterConfig;
  private readonly records = new Map<number, UtteranceRecord>();
  private routeIndex = new Map<string, number>();
  private thresholds: Float64Array = new Float64Array(0);
  private scoring: Scoring;
  private nextLabel = 0;
  private fitted: FitRecord | undefined;
  /** Serialises mutations so concurrent updateRoute calls cannot interleave. */
  private mutation: Promise<unknown> = Promise.resolve();

  private constructor(
    loaded: LoadedRouterConfig,
    readonly encoder: Encoder,
    private index: VectorIndex,
    private readonly cacheDir: string | undefined,
    private readonly ownsEncoder: boolean,
    readonly warnings: readonly string[],
  ) {
    this.config = loaded.config;
    this.scoring = { aggregation: loaded.config.aggregation, topK: loaded.config.top_k };
  }

  /** Loads, validates and compiles a router.json file (or loads its saved artefact). */
  static async fromFile(file: string, options: SemanticRouterOptions = {}): Promise<SemanticRouter> {
    return SemanticRouter.compile(await loadRouterConfig(path.resolve(file)), options);
  }

  /** Same as fromFile, from an object in router.json's shape. */
  static async fromConfig(config: unknown, options: SemanticRouterOptions = {}): Promise<SemanticRouter> {
    return SemanticRouter.compile(validateRouterConfig(config), options);
  }

  private static async compile(
    loaded: LoadedRouterConfig,
    options: SemanticRouterOptions,
  ): Promise<SemanticRouter> {
    const { config } = loaded;
    const encoder =
      options.encoder ??
      (await createEncoder({
        type: config.encoder_type ?? undefined,
        name: config.encoder_name ?? undefined,
        options: config.encoder_options,
        fetch: options.fetch,
      }));
    const cacheDir =
      options.cacheDir === false
        ? undefined
        : (options.cacheDir ?? process.env.SEMROUTE_CACHE_DIR ?? '.semroute-cache');
    const utterances = expandRoutes(config, loaded.file);
    const kind = chooseIndexKind(
      options.index ?? config.index.type,
      utterances.length,
      config.index.exact_below,
    );
    const key = artefactKey(encoder.id, utterances, config.index, kind);

    const cached =
      cacheDir === undefined ? undefined : await readArtefact(cacheDir, key).catch(() => undefined);
    const usable =
      cached !== undefined && cached.manifest.dimensions === encoder.dimensions ? cached : undefined;
    // Records in label order: from the artefact (labels may have gaps after edits) or fresh.
    let entries: Array<{
      label: number;
      u: { route: string; text: string; template: string | undefined };
      vector: Float32Array;
    }>;
    let index: VectorIndex;
    if (usable !== undefined) {
      entries = usable.manifest.utterances.map((u, i) => ({ label: u.label, u, vector: usable.vectors[i]! }));
      const labels = entries.map((e) => e.label);
      if (kind === 'hnsw') {
        index = await HnswIndex.load(usable.indexFile, encoder.dimensions, hnswParams(config), labels);
      } else {
        index = newIndex('exact', encoder.dimensions, config, entries.length);
        index.add(
          entries.map((e) => e.vector),
          labels,
        );
      }
    } else {
      const vectors = await encoder.embed(
        utterances.map((u) => u.text),
        { onProgress: options.onProgress },
      );
      entries = utterances.map((u, i) => ({ label: i, u, vector: vectors[i]! }));
      index = newIndex(kind, encoder.dimensions, config, vectors.length);
      index.add(
        vectors,
        utterances.map((_, i) => i),
      );
    }

    const router = new SemanticRouter(
      loaded,
      encoder,
      index,
      cacheDir,
      options.encoder === undefined,
      loaded.warnings,
    );
    router.rebuildRouteTables();
    for (const { label, u, vector } of entries) {
      const route = router.routeIndex.get(u.route);
      if (route === undefined) {
        throw new SemrouteError(
          ErrorCode.ARTEFACT_INVALID,
          `Compiled artefact ${key} names unknown route "${u.route}"`,
        );
      }
      router.records.set(label, { route, text: u.text, template: u.template, vector });
      if (label >= router.nextLabel) router.nextLabel = label + 1;
    }
    // Again, now that records exist: per-route utterance counts.
    router.rebuildRouteTables();
    if (cacheDir !== undefined) {
      if (usable === undefined) await router.save().catch(() => undefined);
      router.applyFit(await readFit(cacheDir, key));
    }
    return router;
  }

  /** The validated, frozen configuration now in force. */
  get routerConfig(): RouterConfig {
    return this.config;
  }

  get routes(): readonly RouteConfig[] {
    return this.config.routes;
  }

  get indexKind(): 'exact' | 'hnsw' {
    return this.index.kind;
  }

  get utteranceCount(): number {
    return this.records.size;
  }

  /** The artefact key of the current routes; changes whenever vectors would. */
  get key(): string {
    return artefactKey(this.encoder.id, expandRoutes(this.config), this.config.index, this.index.kind);
  }

  /** Threshold now in force for a route (fitted, per-route, or the router's). */
  thresholdOf(route: string): number {
    const i = this.routeIndex.get(route);
    if (i === undefined) throw new SemrouteError(ErrorCode.ROUTE_NOT_FOUND, `No route named "${route}"`);
    return this.thresholds[i]!;
  }

  get currentScoring(): Readonly<Scoring> {
    return this.scoring;
  }

  /** Routes a prompt or OpenAI-style messages. */
  async route(input: RouteInput, options: RouteOptions = {}): Promise<RouteResult> {
    const started = performance.now();
    const text = this.textOf(input, options);
    if (text === undefined) return this.noText(started);
    const [vector] = await this.encoder.embed([text], { signal: options.signal });
    const embedded = performance.now();
    return this.decideVector(vector!, options, started, embedded);
  }

  /** Routes many inputs with one batched embedding call. */
  async routeMany(inputs: readonly RouteInput[], options: RouteOptions = {}): Promise<RouteResult[]> {
    const started = performance.now();
    const texts = inputs.map((input) => this.textOf(input, options));
    const present = texts.filter((t): t is string => t !== undefined);
    const vectors = await this.encoder.embed(present, { signal: options.signal });
    const embedded = performance.now();
    let next = 0;
    return texts.map((t) =>
      t === undefined
        ? this.noText(started)
        : this.decideVector(vectors[next++]!, options, started, embedded),
    );
  }

  /** Decides from a query vector already embedded (bench, evaluation). */
  routeVector(vector: Float32Array, options: RouteOptions = {}): RouteResult {
    checkRouteOptions(options);
    const now = performance.now();
    return this.decideVector(vector, options, now, now);
  }

  /** Route scores for a vector under a scoring; used by evaluate() and fit(). */
  scoreVector(vector: Float32Array, scoring: Scoring = this.scoring): RouteScore[] {
    return this.aggregate(this.search(vector), scoring);
  }

  /** The nearest utterances of a vector (`search_k` of them). */
  search(vector: Float32Array): SearchHits {
    return this.index.search(vector, Math.min(this.config.search_k, this.records.size));
  }

  /** Route scores from utterance hits under a scoring. */
  aggregate(hits: SearchHits, scoring: Scoring = this.scoring): RouteScore[] {
    return aggregateHits(
      hits.labels,
      hits.scores,
      this.routeOfLabel,
      scoring.aggregation,
      scoring.topK,
      this.routeSizeOf,
    );
  }

  private readonly routeOfLabel = (label: number): number => this.records.get(label)?.route ?? -1;
  private routeSizes: Int32Array = new Int32Array(0);
  private readonly routeSizeOf = (route: number): number => this.routeSizes[route] ?? 0;

  routeNameAt(index: number): string {
    return this.config.routes[index]!.name;
  }

  routeIndexOf(name: string): number | undefined {
    return this.routeIndex.get(name);
  }

  private textOf(input: RouteInput, options: RouteOptions): string | undefined {
    checkRouteOptions(options);
    if (typeof input === 'string') {
      if (input.trim() === '') {
        throw new SemrouteError(ErrorCode.EMPTY_QUERY, 'route() was given an empty query', {
          expected: 'non-empty text',
        });
      }
      const max = options.maxChars ?? 8192;
      return input.length > max ? input.slice(0, max) : input;
    }
    if (!Array.isArray(input)) {
      throw new SemrouteError(
        ErrorCode.INPUT_INVALID,
        'route() takes a string or an array of chat messages',
        {
          expected: 'string | Array<{ role, content }>',
        },
      );
    }
    return routingText(input as readonly ChatMessageLike[], options);
  }

  private decideVector(
    vector: Float32Array,
    options: RouteOptions,
    started: number,
    embedded: number,
  ): RouteResult {
    const ranked = this.scoreVector(vector);
    const chosen = decide(ranked, this.thresholds);
    const searched = performance.now();
    const report = ranked[Math.max(chosen, 0)];
    const best = report === undefined ? undefined : this.records.get(report.best);
    return {
      name: chosen < 0 ? null : this.routeNameAt(ranked[chosen]!.route),
      score: report?.score ?? 0,
      threshold: report === undefined ? this.config.score_threshold : this.thresholds[report.route]!,
      matched: best === undefined ? null : { utterance: best.text, template: best.template ?? null },
      candidates: ranked.slice(0, options.candidates ?? 5).map((c) => ({
        route: this.routeNameAt(c.route),
        score: c.score,
        threshold: this.thresholds[c.route]!,
      })),
      defaultRoute: this.config.default_route ?? null,
      reason: chosen < 0 ? 'below_threshold' : 'matched',
      timing: { embedMs: embedded - started, searchMs: searched - embedded, totalMs: searched - started },
    };
  }

  private noText(started: number): RouteResult {
    const total = performance.now() - started;
    return {
      name: null,
      score: 0,
      threshold: this.config.score_threshold,
      matched: null,
      candidates: [],
      defaultRoute: this.config.default_route ?? null,
      reason: 'no_text',
      timing: { embedMs: 0, searchMs: 0, totalMs: total },
    };
  }

  /** Adds a route; embeds only its utterances. */
  addRoute(route: unknown): Promise<void> {
    return this.mutate((config) => {
      const name = (route as { name?: unknown })?.name;
      if (typeof name === 'string' && config.routes.some((r) => r.name === name.trim())) {
        throw new SemrouteError(ErrorCode.ROUTE_DUPLICATE, `A route named "${name}" already exists`, {
          path: 'name',
          expected: 'a unique route name',
        });
      }
      return { ...config, routes: [...config.routes, route as RouteConfig] };
    });
  }

  /** Removes a route and its utterances from the index. */
  removeRoute(name: string): Promise<void> {
    return this.mutate((config) => {
      this.requireRoute(config, name);
      return { ...config, routes: config.routes.filter((r) => r.name !== name) };
    });
  }

  /** Replaces fields of a route; re-embeds only utterances that changed. Atomic: on error nothing changes. */
  updateRoute(name: string, patch: Partial<RouteConfig>): Promise<void> {
    return this.mutate((config) => {
      const at = this.requireRoute(config, name);
      const routes = [...config.routes];
      routes[at] = { ...routes[at]!, ...patch } as RouteConfig;
      return { ...config, routes };
    });
  }

  /**
   * Applies a whole new router configuration (hot reload). Utterances present before keep their
   * vectors; only new ones are embedded. If anything fails, the router keeps its old state.
   */
  replaceConfig(raw: unknown, file?: string): Promise<void> {
    return this.mutate(() => raw as RouterConfig, file);
  }

  private requireRoute(config: RouterConfig, name: string): number {
    const at = config.routes.findIndex((r) => r.name === name);
    if (at < 0)
      throw new SemrouteError(ErrorCode.ROUTE_NOT_FOUND, `No route named "${name}"`, { path: 'name' });
    return at;
  }

  private mutate(change: (config: RouterConfig) => RouterConfig, file?: string): Promise<void> {
    const run = this.mutation.then(() => this.applyChange(change(this.config), file));
    this.mutation = run.catch(() => undefined);
    return run;
  }

  private async applyChange(next: RouterConfig, file?: string): Promise<void> {
    // Validate the whole new config the same way a file load does; this step may throw.
    const loaded = validateRouterConfig(structuredClone(next), file);
    if (
      loaded.config.encoder_type !== this.config.encoder_type ||
      loaded.config.encoder_name !== this.config.encoder_name
    ) {
      throw new SemrouteError(ErrorCode.CONFIG_INVALID, 'Changing the encoder needs a new SemanticRouter', {
        path: 'encoder_type',
        expected: `${this.config.encoder_type ?? 'use-lite'} (unchanged)`,
      });
    }
    const wanted: ExpandedUtterance[] = [];
    for (const [i, route] of loaded.config.routes.entries())
      wanted.push(...expandRoute(loaded.config, route, i, file));
    const have = new Map<string, number>();
    for (const [label, rec] of this.records)
      have.set(`${this.config.routes[rec.route]!.name}\u0000${rec.text}`, label);
    const keep = new Set<number>();
    const fresh: ExpandedUtterance[] = [];
    for (const u of wanted) {
      const label = have.get(`${u.route}\u0000${u.text}`);
      if (label === undefined) fresh.push(u);
      else keep.add(label);
    }
    // The only step that can fail late (encoder errors): done before anything is touched.
    const vectors = await this.encoder.embed(fresh.map((u) => u.text));

    const removed = [...this.records.keys()].filter((label) => !keep.has(label));
    const newRouteIndex = new Map(loaded.config.routes.map((r, i) => [r.name, i]));
    const oldRoutes = this.config.routes;
    this.index.remove(removed);
    for (const label of removed) this.records.delete(label);
    for (const rec of this.records.values()) {
      rec.route = newRouteIndex.get(oldRoutes[rec.route]!.name)!;
    }
    const labels = fresh.map(() => this.nextLabel++);
    this.index.add(vectors, labels);
    fresh.forEach((u, i) => {
      this.records.set(labels[i]!, {
        route: newRouteIndex.get(u.route)!,
        text: u.text,
        template: u.template,
        vector: vectors[i]!,
      });
    });
    this.config = loaded.config;
    this.scoring = { aggregation: loaded.config.aggregation, topK: loaded.config.top_k };
    this.fitted = undefined;
    this.rebuildRouteTables();
    if (this.cacheDir !== undefined) await this.save().catch(() => undefined);
  }

  private rebuildRouteTables(): void {
    this.routeIndex = new Map(this.config.routes.map((r, i) => [r.name, i]));
    this.routeSizes = new Int32Array(this.config.routes.length);
    for (const rec of this.records.values())
      if (rec.route < this.routeSizes.length) this.routeSizes[rec.route]! += 1;
    this.thresholds = Float64Array.from(
      this.config.routes,
      (r) => r.score_threshold ?? this.config.score_threshold,
    );
  }

  /** Hash of the threshold settings a fit starts from. */
  thresholdBasis(): string {
    const basis = {
      t: this.config.score_threshold,
      a: this.config.aggregation,
      k: this.config.top_k,
      r: this.config.routes.map((r) => [r.name, r.score_threshold ?? null]),
    };
    return createHash('sha256').update(JSON.stringify(basis)).digest('hex').slice(0, 16);
  }

  /** Applies a fit (from fit() or from disk) when it was made for the current settings. */
  applyFit(fit: FitRecord | undefined): boolean {
    if (fit === undefined || fit.basis !== this.thresholdBasis()) return false;
    this.fitted = fit;
    this.scoring = { aggregation: fit.aggregation, topK: fit.top_k };
    this.config.routes.forEach((r, i) => {
      const t = fit.thresholds[r.name];
      if (t !== undefined) this.thresholds[i] = t;
    });
    return true;
  }

  get fit(): FitRecord | undefined {
    return this.fitted;
  }

  /** Saves the fit beside the compiled artefact so that a restart loads it. */
  async saveFit(fit: FitRecord): Promise<void> {
    if (this.cacheDir !== undefined) await writeFit(this.cacheDir, this.key, fit);
  }

  /** Writes the compiled artefact (vectors, index, manifest) under the cache folder. */
  async save(): Promise<void> {
    if (this.cacheDir === undefined) return;
    const ordered = [...this.records.entries()].sort((a, b) => a[0] - b[0]);
    const manifest: ArtefactManifest = {
      version: 1,
      key: this.key,
      encoder: this.encoder.id,
      dimensions: this.encoder.dimensions,
      indexKind: this.index.kind,
      utterances: ordered.map(([label, r]) => ({
        label,
        route: this.config.routes[r.route]!.name,
        text: r.text,
        template: r.template,
      })),
      createdAt: new Date().toISOString(),
    };
    await writeArtefact(
      this.cacheDir,
      manifest,
      ordered.map(([, r]) => r.vector),
      this.index.kind === 'hnsw' ? (file) => this.index.save(file) : undefined,
    );
  }

  async close(): Promise<void> {
    if (this.ownsEncoder) await this.encoder.close();
  }
}

function chooseIndexKind(
  type: 'auto' | 'hnsw' | 'exact',
  count: number,
  exactBelow: number,
): 'exact' | 'hnsw' {
  if (type !== 'auto') return type;
  return count < exactBelow ? 'exact' : 'hnsw';
}

function hnswParams(config: RouterConfig) {
  return {
    M: config.index.M,
    efConstruction: config.index.ef_construction,
    efSearch: config.index.ef_search,
  };
}

function newIndex(
  kind: 'exact' | 'hnsw',
  dimensions: number,
  config: RouterConfig,
  capacity: number,
): VectorIndex {
  return kind === 'hnsw'
    ? new HnswIndex(dimensions, hnswParams(config), capacity)
    : new ExactIndex(dimensions, capacity);
}

/** Options come from callers' code (and, through the proxy, from requests): wrong types get INPUT_INVALID, not a TypeError. */
function checkRouteOptions(options: RouteOptions): void {
  const bad = (path: string, expected: string) =>
    new SemrouteError(ErrorCode.INPUT_INVALID, `route() option ${path} must be ${expected}`, {
      path,
      expected,
    });
  if (options === null || typeof options !== 'object') throw bad('options', 'an object');
  const positiveInt = (v: unknown) => Number.isInteger(v) && (v as number) > 0;
  if (options.candidates !== undefined && !positiveInt(options.candidates))
    throw bad('candidates', 'a positive integer');
  if (options.maxChars !== undefined && !positiveInt(options.maxChars))
    throw bad('maxChars', 'a positive integer');
  if (options.includeHistory !== undefined && typeof options.includeHistory !== 'boolean')
    throw bad('includeHistory', 'a boolean');
  if (options.signal !== undefined && !(options.signal instanceof AbortSignal))
    throw bad('signal', 'an AbortSignal');
}
