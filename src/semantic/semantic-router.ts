/**
 * SemanticRouter: router.json → templates → embeddings → vector index → route().
 * Compiled once (or loaded from the saved artefact; `compile.ts`), then every query is: extract
 * text, embed, search, aggregate per route, apply thresholds. Mutations live in `mutations.ts`,
 * the per-route tables in `route-table.ts`.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { LoadedRouterConfig, RouteConfig, RouterConfig } from '../config/router-config.js';
import { loadRouterSource } from '../config/router-source.js';
import type { Encoder } from '../embeddings/encoder.js';
import { ErrorCode, SemrouteError } from '../errors.js';
import type { SearchHits } from '../vector-index/vector-index.js';
import { aggregateHits, decide, type RouteScore, type Scoring } from './aggregate.js';
import { centroidScores } from './centroids.js';
import { headScores } from './head.js';
import { candidateRoutes, isHybrid, normalisedWeights, type Probe, rank } from './scoring.js';
import { type FitRecord, writeFit } from './artefact.js';
import { type Compiled, type CompileOptions, cacheDirOf, compile, saveArtefact } from './compile.js';
import { type ChatMessageLike, type RouteInput, routingText, type TextOptions } from './messages.js';
import { applyChange } from './mutations.js';
import { languageCode, languageOf } from './language.js';

export type { Scoring } from './aggregate.js';

export interface SemanticRouterOptions extends CompileOptions {}

export interface RouteCandidate {
  route: string;
  score: number;
  threshold: number;
  /**
   * The parts of a hybrid score (each a cosine), absent with `scoring: dense`. `head` (with
   * `scoring: head`): the trained head's key the candidates are ordered by.
   */
  components?: { knn: number; centroid: number; lexical: number; head?: number } | undefined;
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
  /**
   * Why name is null: `below_threshold`; `no_text` when the messages carried none;
   * `out_of_vocabulary` when the encoder reads less of the text than `min_coverage`. `language`:
   * no route passed its threshold, and the route was chosen for the prompt's language
   * (`metadata.languages`).
   */
  reason: 'matched' | 'below_threshold' | 'no_text' | 'out_of_vocabulary' | 'language';
  /** The prompt's language, ISO 639-3 (`eng`, `deu`, `cmn`), `und` when unclear or not looked at. */
  language: string;
  /** The share of the text the encoder can read (null for encoders that read anything). */
  coverage: number | null;
  /** The text that was routed on (after extraction and truncation), null when there was none. */
  query: string | null;
  timing: { embedMs: number; searchMs: number; totalMs: number };
}

export interface RouterInspection {
  config: RouterConfig;
  utterances: ReadonlyArray<{
    label: number;
    /** Route index. */
    route: number;
    text: string;
    template: string | undefined;
    vector: Float32Array;
  }>;
  /** Lengths of the routes' lexical sums before normalising (hybrid only). */
  lexicalRouteNorms: Float32Array | undefined;
}

export interface RouteOptions extends TextOptions {
  signal?: AbortSignal | undefined;
  /** Candidates reported. Default 5. */
  candidates?: number | undefined;
  /**
   * Whether to detect the prompt's language (the result's `language`) when no route is bound to
   * one. Default true. False reports `und` without running the detector (its trigram profiles
   * cost ~14 ms to load): for a caller that does not use it, such as `semroute route`. A router
   * with routes bound to languages always detects it, as its decision depends on it.
   */
  language?: boolean | undefined;
}

export class SemanticRouter {
  /** Serialises mutations so concurrent updateRoute calls cannot interleave. */
  private mutation: Promise<unknown> = Promise.resolve();

  private constructor(
    private readonly compiled: Compiled,
    readonly warnings: readonly string[],
  ) {}

  /**
   * Loads, validates and compiles a router.json file (or loads its saved artefact). A path, or a
   * `file:` URL (what `import.meta.resolve('semroute/routes/assistant.json')` gives).
   */
  static async fromFile(file: string | URL, options: SemanticRouterOptions = {}): Promise<SemanticRouter> {
    const where = file instanceof URL || file.startsWith('file:') ? fileURLToPath(file) : path.resolve(file);
    return SemanticRouter.fromLoaded(await loadRouterSource(where, cacheDirOf(options.cacheDir)), options);
  }

  /** Same as fromFile, from an object in router.json's shape. */
  static async fromConfig(config: unknown, options: SemanticRouterOptions = {}): Promise<SemanticRouter> {
    const { validateRouterConfig } = await import('../config/router-config.js');
    return SemanticRouter.fromLoaded(validateRouterConfig(config), options);
  }

  /** Compiles a configuration already validated by `loadRouterConfig` / `validateRouterConfig`. */
  static async fromLoaded(
    loaded: LoadedRouterConfig,
    options: SemanticRouterOptions = {},
  ): Promise<SemanticRouter> {
    const compiled = await compile(loaded, options);
    return new SemanticRouter(compiled, [...loaded.warnings, ...coverageWarnings(compiled, loaded.file)]);
  }

  get encoder(): Encoder {
    return this.compiled.encoder;
  }

  /** The validated, frozen configuration now in force. */
  get routerConfig(): RouterConfig {
    return this.compiled.table.routerConfig;
  }

  get routes(): readonly RouteConfig[] {
    return this.routerConfig.routes;
  }

  get indexKind(): string {
    return this.compiled.index.kind;
  }

  get utteranceCount(): number {
    return this.compiled.table.records.size;
  }

  /** The artefact key of the current routes; changes whenever vectors would. */
  get key(): string {
    return this.compiled.key;
  }

  /** Threshold now in force for a route (fitted, per-route, or the router's). */
  thresholdOf(route: string): number {
    return this.compiled.table.thresholdOf(route);
  }

  get currentScoring(): Readonly<Scoring> {
    return this.compiled.table.scoring;
  }

  /** Routes a prompt or OpenAI-style messages. */
  async route(input: RouteInput, options: RouteOptions = {}): Promise<RouteResult> {
    const started = performance.now();
    const text = this.textOf(input, options);
    if (text === undefined) return this.noText(started);
    const language = await this.languageOf(text, options);
    const coverage = this.encoder.coverage?.(text);
    if (coverage !== undefined && coverage < this.routerConfig.min_coverage)
      return this.noText(started, text, coverage, language);
    const [vector] = await this.encoder.embed([text], { signal: options.signal });
    const embedded = performance.now();
    return this.decideVector(vector!, text, options, started, embedded, coverage, language);
  }

  /** The prompt's language, unless the caller does without it and no route depends on it. */
  private languageOf(text: string, options: RouteOptions): Promise<string> | string {
    const { named } = this.languages();
    return options.language === false && named.length === 0 ? 'und' : languageOf(text, named);
  }

  /** Routes that name languages (`metadata.languages`), by language; computed once per compile. */
  private languages(): LanguageRoutes {
    const { table } = this.compiled;
    let found = LANGUAGE_ROUTES.get(table);
    if (found === undefined) {
      found = languageRoutes(table.routerConfig);
      LANGUAGE_ROUTES.set(table, found);
    }
    return found;
  }

  /** Routes many inputs with one batched embedding call. */
  async routeMany(inputs: readonly RouteInput[], options: RouteOptions = {}): Promise<RouteResult[]> {
    const started = performance.now();
    const min = this.routerConfig.min_coverage;
    const texts = await Promise.all(
      inputs.map(async (input) => {
        const text = this.textOf(input, options);
        return {
          text,
          coverage: text === undefined ? undefined : this.encoder.coverage?.(text),
          language: text === undefined ? 'und' : await this.languageOf(text, options),
        };
      }),
    );
    const readable = (t: (typeof texts)[number]) =>
      t.text !== undefined && (t.coverage === undefined || t.coverage >= min);
    const vectors = await this.encoder.embed(
      texts.filter(readable).map((t) => t.text!),
      { signal: options.signal },
    );
    const embedded = performance.now();
    let next = 0;
    return texts.map((t) =>
      readable(t)
        ? this.decideVector(vectors[next++]!, t.text!, options, started, embedded, t.coverage, t.language)
        : this.noText(started, t.text, t.coverage, t.language),
    );
  }

  /** Decides from a query vector already embedded (bench, evaluation). */
  routeVector(vector: Float32Array, options: RouteOptions = {}): RouteResult {
    checkRouteOptions(options);
    const now = performance.now();
    return this.decideVector(vector, null, options, now, now);
  }

  /** Route scores for a vector under a scoring (no text: the lexical part is zero). */
  scoreVector(vector: Float32Array, scoring: Scoring = this.currentScoring): RouteScore[] {
    return this.rank(this.probe(vector, null), scoring);
  }

  /**
   * What scoring needs from a query, whatever the aggregation: its nearest utterances and, for
   * the hybrid score, its cosine to every centroid and its TF-IDF cosine to every route.
   */
  probe(vector: Float32Array, text: string | null, extra?: Iterable<number>): Probe {
    const hits = this.search(vector);
    const hybrid = this.compiled.hybrid;
    if (hybrid === undefined) return { hits, centroid: undefined, lexical: undefined };
    const routeCount = this.routes.length;
    const lexical = text === null ? new Float64Array(routeCount) : hybrid.lexical.score(text);
    const routes = candidateRoutes(hits, this.compiled.table.routeOf, lexical, routeCount, extra);
    return {
      hits,
      routes,
      centroid: centroidScores(hybrid.centroids, routeCount, vector, routes),
      lexical,
      head: hybrid.head === undefined ? undefined : headScores(hybrid.head, vector, lexical, routes),
    };
  }

  /** Route scores, best first, from a probe (used by route(), evaluate() and fit()). */
  rank(probe: Probe, scoring: Scoring = this.currentScoring): RouteScore[] {
    const { table } = this.compiled;
    const config = table.routerConfig;
    const weights = isHybrid(config) ? normalisedWeights(config.hybrid_weights) : undefined;
    return rank(
      probe,
      { routeCount: config.routes.length, routeOf: table.routeOf, sizeOf: table.sizeOf },
      scoring,
      weights,
    );
  }

  /** The nearest utterances of a vector (`search_k` of them). */
  search(vector: Float32Array): SearchHits {
    const { index, table } = this.compiled;
    return index.search(vector, Math.min(table.routerConfig.search_k, table.records.size));
  }

  /** Dense route scores from utterance hits under a scoring (the kNN part alone). */
  aggregate(hits: SearchHits, scoring: Scoring = this.currentScoring): RouteScore[] {
    const { table } = this.compiled;
    return aggregateHits(
      hits.labels,
      hits.scores,
      table.routeOf,
      scoring.aggregation,
      scoring.topK,
      table.sizeOf,
    );
  }

  /**
   * A read-only view of what the router compiled, in label order: each utterance with its route
   * and vector, and the hybrid tables. For checks such as `semroute lint`; not for routing.
   */
  inspect(): RouterInspection {
    const { table, hybrid } = this.compiled;
    return {
      config: table.routerConfig,
      utterances: table.ordered().map(([label, r]) => ({
        label,
        route: r.route,
        text: r.text,
        template: r.template,
        vector: r.vector,
      })),
      lexicalRouteNorms: hybrid?.lexical.toData().routeNorms,
    };
  }

  routeNameAt(index: number): string {
    return this.compiled.table.nameAt(index);
  }

  routeIndexOf(name: string): number | undefined {
    return this.compiled.table.indexOf(name);
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
    query: string | null,
    options: RouteOptions,
    started: number,
    embedded: number,
    coverage?: number | undefined,
    language = 'und',
  ): RouteResult {
    const { table } = this.compiled;
    const config = table.routerConfig;
    const languages = this.languages();
    // Routes bound to other languages are not candidates; ones bound to this language are, and
    // take the prompt when no route passes its threshold (non-English traffic sent on purpose).
    const mine = languages.byLanguage.get(language);
    let ranked = this.rank(this.probe(vector, query, mine));
    if (languages.bound.size > 0)
      ranked = ranked.filter((c) => !languages.bound.has(c.route) || (mine?.has(c.route) ?? false));
    let chosen = decide(ranked, table.thresholds);
    let byLanguage = false;
    if (chosen < 0 && mine !== undefined) {
      chosen = ranked.findIndex((c) => mine.has(c.route));
      byLanguage = chosen >= 0;
    }
    const searched = performance.now();
    const report = ranked[Math.max(chosen, 0)];
    const best = report === undefined ? undefined : table.records.get(report.best);
    return {
      name: chosen < 0 ? null : table.nameAt(ranked[chosen]!.route),
      score: report?.score ?? 0,
      threshold: report === undefined ? config.score_threshold : table.thresholds[report.route]!,
      matched: best === undefined ? null : { utterance: best.text, template: best.template ?? null },
      candidates: ranked.slice(0, options.candidates ?? 5).map((c) => ({
        route: table.nameAt(c.route),
        score: c.score,
        threshold: table.thresholds[c.route]!,
        ...(c.components === undefined ? {} : { components: c.components }),
      })),
      defaultRoute: config.default_route ?? null,
      reason: byLanguage ? 'language' : chosen < 0 ? 'below_threshold' : 'matched',
      language,
      query,
      coverage: coverage ?? null,
      timing: { embedMs: embedded - started, searchMs: searched - embedded, totalMs: searched - started },
    };
  }

  /**
   * No decision from the encoder: no text at all, or (with a coverage) text it cannot read — then
   * a route bound to the prompt's language (a Chinese prompt to a `cmn` route) still takes it.
   */
  private noText(
    started: number,
    text?: string | undefined,
    coverage?: number | undefined,
    language = 'und',
  ): RouteResult {
    const config = this.routerConfig;
    const mine = text === undefined ? undefined : this.languages().byLanguage.get(language);
    const first = mine === undefined ? undefined : Math.min(...mine);
    if (first !== undefined) {
      const { table } = this.compiled;
      return {
        name: table.nameAt(first),
        score: 0,
        threshold: table.thresholds[first]!,
        matched: null,
        candidates: [],
        defaultRoute: config.default_route ?? null,
        reason: 'language',
        language,
        query: text ?? null,
        coverage: coverage ?? null,
        timing: { embedMs: 0, searchMs: 0, totalMs: performance.now() - started },
      };
    }
    return {
      name: null,
      score: 0,
      threshold: config.score_threshold,
      matched: null,
      candidates: [],
      defaultRoute: config.default_route ?? null,
      reason: coverage === undefined ? 'no_text' : 'out_of_vocabulary',
      language,
      query: text ?? null,
      coverage: coverage ?? null,
      timing: { embedMs: 0, searchMs: 0, totalMs: performance.now() - started },
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
      requireRoute(config, name);
      return { ...config, routes: config.routes.filter((r) => r.name !== name) };
    });
  }

  /** Replaces fields of a route; re-embeds only utterances that changed. Atomic: on error nothing changes. */
  updateRoute(name: string, patch: Partial<RouteConfig>): Promise<void> {
    return this.mutate((config) => {
      const at = requireRoute(config, name);
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

  private mutate(change: (config: RouterConfig) => RouterConfig, file?: string): Promise<void> {
    const run = this.mutation.then(() => applyChange(this.compiled, change(this.routerConfig), file));
    this.mutation = run.catch(() => undefined);
    return run;
  }

  /** Hash of the threshold settings a fit starts from. */
  thresholdBasis(): string {
    return this.compiled.table.thresholdBasis();
  }

  /** Applies a fit (from fit() or from disk) when it was made for the current settings. */
  applyFit(fit: FitRecord | undefined): boolean {
    return this.compiled.table.applyFit(fit);
  }

  get fit(): FitRecord | undefined {
    return this.compiled.table.fitted;
  }

  /** Saves the fit beside the compiled artefact so that a restart loads it. */
  async saveFit(fit: FitRecord): Promise<void> {
    const { cacheDir, key } = this.compiled;
    if (cacheDir !== undefined) await writeFit(cacheDir, key, fit);
  }

  /** Writes the compiled artefact (vectors, index, manifest) under the cache folder. */
  save(): Promise<void> {
    return saveArtefact(this.compiled);
  }

  async close(): Promise<void> {
    if (this.compiled.ownsEncoder) await this.encoder.close();
  }
}

/** Utterances the encoder cannot read enough of: they would all look alike to it. */
function coverageWarnings(compiled: Compiled, file: string | undefined): string[] {
  const { encoder, table } = compiled;
  if (encoder.coverage === undefined) return [];
  const min = table.routerConfig.min_coverage;
  const unreadable = table.ordered().filter(([, r]) => encoder.coverage!(r.text) < min);
  if (unreadable.length === 0) return [];
  const examples = unreadable
    .slice(0, 3)
    .map(
      ([, r]) => `"${r.text}" (${table.nameAt(r.route)}, ${Math.round(encoder.coverage!(r.text) * 100)}%)`,
    );
  return [
    `${file ?? 'router config'}: ${unreadable.length} utterance(s) are mostly characters ${encoder.id} cannot read, e.g. ${examples.join(', ')}: to route such text, use a multilingual model ("encoder_type": "onnx" with a multilingual sentence-transformers export, e.g. semroute models pull Xenova/paraphrase-multilingual-MiniLM-L12-v2) or "encoder_type": "openai"`,
  ];
}

function requireRoute(config: RouterConfig, name: string): number {
  const at = config.routes.findIndex((r) => r.name === name);
  if (at < 0)
    throw new SemrouteError(ErrorCode.ROUTE_NOT_FOUND, `No route named "${name}"`, { path: 'name' });
  return at;
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
  if (options.language !== undefined && typeof options.language !== 'boolean')
    throw bad('language', 'a boolean');
}

/** Routes bound to languages by `metadata.languages` (codes as franc names them). */
interface LanguageRoutes {
  /** Every language some route names, for the detector's `only`. */
  named: string[];
  byLanguage: Map<string, Set<number>>;
  /** Routes that name any language: candidates only for prompts in one of theirs. */
  bound: Set<number>;
}

const LANGUAGE_ROUTES = new WeakMap<object, LanguageRoutes>();

function languageRoutes(config: RouterConfig): LanguageRoutes {
  const byLanguage = new Map<string, Set<number>>();
  const bound = new Set<number>();
  config.routes.forEach((route, index) => {
    const listed = (route.metadata as { languages?: unknown } | null | undefined)?.languages;
    if (!Array.isArray(listed)) return;
    for (const code of listed) {
      const iso = typeof code === 'string' ? languageCode(code) : undefined;
      if (iso === undefined) continue;
      bound.add(index);
      const set = byLanguage.get(iso) ?? new Set<number>();
      byLanguage.set(iso, set);
      set.add(index);
    }
  });
  return { named: [...byLanguage.keys()], byLanguage, bound };
}
