/**
 * router.json: LiteLLM's auto-router file, accepted unchanged, plus semroute's extensions.
 * Validated once here, then frozen. zod is the single source of the types.
 */
import { z } from 'zod';
import { ErrorCode, formatPath, SemrouteError } from '../errors.js';
import { parseJson, readTextFile } from './json-source.js';
import { deepFreeze } from './freeze.js';
import { BUILTIN_SLOTS } from './slots.js';
import { DEFAULT_BUDGET, type ExpansionBudget, expandUtterance, type Variant } from './templates.js';

const slotLists = z.record(
  z.string().min(1),
  z.array(z.string()).min(1, 'a slot list needs at least one value'),
);
const threshold = z
  .number()
  .min(0, 'a threshold is between 0 and 1')
  .max(1, 'a threshold is between 0 and 1');

export const RouteSchema = z
  .object({
    /** The route's name; in a gateway, the model group it sends to. */
    name: z.string().trim().min(1, 'a route needs a non-empty name'),
    /** Example prompts, possibly templates with [slot] placeholders. */
    utterances: z.array(z.string().trim().min(1, 'an utterance cannot be empty')).default([]),
    /**
     * What the route is for ("coding assistant"): routed on as one more utterance (not a
     * template). A route may have a description and no utterances.
     */
    description: z.string().trim().nullish(),
    function_schemas: z.array(z.record(z.string(), z.unknown())).nullish(),
    llm: z.unknown().optional(),
    /** Overrides the router's threshold. 0 is honoured (it accepts any score). */
    score_threshold: threshold.nullish(),
    metadata: z.record(z.string(), z.unknown()).nullish(),
    /** Slot lists for this route's templates; override router and built-in lists of the same name. */
    slots: slotLists.optional(),
  })
  .refine((route) => route.utterances.length > 0 || Boolean(route.description?.trim()), {
    path: ['utterances'],
    message: 'a route needs at least one utterance, or a description',
  });

export const AggregationSchema = z.enum(['max', 'mean', 'top_k_mean']);

const weight = z.number().min(0, 'a weight is 0 or more').max(1, 'a weight is at most 1');

/** The mix of the hybrid score; scaled to sum to 1. Defaults 0.35 / 0.35 / 0.30. */
export const HybridWeightsSchema = z
  .object({
    /** The kNN score (the aggregation over the route's nearest utterances). */
    knn: weight.default(0.35),
    /** Cosine to the route's centroid (the normalised mean of its utterance vectors). */
    centroid: weight.default(0.35),
    /** TF-IDF cosine to the route's words and character n-grams. */
    lexical: weight.default(0.3),
  })
  .refine((w) => w.knn + w.centroid + w.lexical > 0, 'at least one weight must be above 0');

export const IndexOptionsSchema = z.object({
  /**
   * `auto` (exact below `exact_below` utterances, else HNSW) or a kind of `vector-index/create.ts`
   * (`hnsw`, `exact`). Default auto. Checked against that map where the router is compiled.
   */
  type: z.string().min(1).default('auto'),
  /** HNSW graph degree. Default 16. */
  M: z.number().int().min(2).max(128).default(16),
  /** HNSW build beam. Default 100. */
  ef_construction: z.number().int().min(8).max(4096).default(100),
  /**
   * HNSW search beam (raised to k when smaller). Absent: scales with the index size (16 up to
   * 20k utterances, 32 to 50k, then 64).
   */
  ef_search: z.number().int().min(1).max(4096).optional(),
  /**
   * Below this many utterances `auto` uses exact search. Default 128: there an exact scan costs
   * ~50 µs more than HNSW (64 vs 13 µs at 100 vectors in `npm run bench`), small beside the
   * ~1.4 ms embedding, and it is exact and builds no graph.
   */
  exact_below: z.number().int().min(0).default(128),
});

export const RouterConfigSchema = z.object({
  /** `use-lite` (default, local), `onnx`/`huggingface` (local folder), `openai`. */
  encoder_type: z.string().min(1).nullish(),
  encoder_name: z.string().min(1).nullish(),
  /** Encoder settings: api_key, base_url, dimensions, threads, batch_size … */
  encoder_options: z.record(z.string(), z.unknown()).optional(),
  routes: z.array(RouteSchema).min(1, 'a router needs at least one route'),
  /** Slot lists for all routes' templates. */
  slots: slotLists.optional(),
  /**
   * `hybrid`: 0.35 · kNN + 0.35 · centroid cosine + 0.30 · TF-IDF cosine, the best routing
   * quality of the local model (CLINC150: README). `dense`: the kNN score alone, as LiteLLM's
   * auto router (semantic-router) scores. Absent: hybrid, unless the file sets thresholds —
   * then dense, the scale those thresholds were chosen on (with a warning saying so). `head`:
   * hybrid, with the candidates ordered by a softmax head trained on the routes' utterances and
   * descriptions at compile (`semantic/head.ts`); thresholds keep the hybrid scale.
   */
  scoring: z.enum(['hybrid', 'dense', 'head']).optional(),
  /** The hybrid mix (scaled to sum to 1). */
  hybrid_weights: HybridWeightsSchema.default(HybridWeightsSchema.parse({})),
  /** How a route's utterance scores combine (the kNN part). Default `top_k_mean`. */
  aggregation: AggregationSchema.default('top_k_mean'),
  /** Utterance hits per route that `top_k_mean` averages. Default 3. */
  top_k: z.number().int().min(1).max(100).default(3),
  /**
   * Nearest utterances retrieved per query before aggregation. Default 50: CLINC150 accuracy is
   * the same from 20 to 100 (71.1%), but templates make near-duplicate variants that crowd
   * other routes out of a short list, and the candidates shown would be fewer.
   */
  search_k: z.number().int().min(1).max(10_000).default(50),
  /**
   * Threshold for routes without their own. Default by scoring: 0.47 for `hybrid`, 0.5 for
   * `dense` (see DEFAULT_THRESHOLDS).
   */
  score_threshold: threshold.optional(),
  /**
   * Queries (and utterances) the encoder can read less of than this share are not routed:
   * reason `out_of_vocabulary`, the default route applies. The local model maps every character
   * of a script it does not know (Chinese, Thai, emoji…) to one unknown token, so such texts
   * would all look alike. Default 0.5.
   */
  min_coverage: z.number().min(0).max(1).default(0.5),
  /** Route (or model) the caller should use when no route passes. */
  default_route: z.string().min(1).nullish(),
  /** Most variants one template utterance may expand into. Default 1000. */
  template_limit: z.number().int().min(1).max(1_000_000).default(1000),
  /**
   * Most utterances the whole router may have once templates are expanded (each costs an
   * embedding at compile, and the expansion is checked before it is built). Default 20,000;
   * the text of all of them is held to 400 characters a variant on average.
   */
  max_variants: z.number().int().min(1).max(1_000_000).default(DEFAULT_BUDGET.variants),
  index: IndexOptionsSchema.default(IndexOptionsSchema.parse({})),
});

/**
 * The router threshold when a file gives none, by scoring. Hybrid: the threshold CLINC150's
 * val split picks under the balanced objective, averaged over K=10 and K=30 (0.46 and 0.50;
 * README, "Routing quality"). Dense: 0.5, as before hybrid scoring.
 */
export const DEFAULT_THRESHOLDS = Object.freeze({ hybrid: 0.47, dense: 0.5, head: 0.47 });

export type ScoringName = keyof typeof DEFAULT_THRESHOLDS;

export type RouteConfig = z.infer<typeof RouteSchema>;
export type RouterConfig = Omit<z.infer<typeof RouterConfigSchema>, 'score_threshold' | 'scoring'> & {
  /** The scoring: the file's, or inferred (see the schema). */
  scoring: ScoringName;
  /** The router's threshold: the file's, or the default of its scoring. */
  score_threshold: number;
};
export type RouterConfigInput = z.input<typeof RouterConfigSchema>;
export type Aggregation = z.infer<typeof AggregationSchema>;
export type IndexOptions = z.infer<typeof IndexOptionsSchema>;
export type HybridWeights = z.infer<typeof HybridWeightsSchema>;

export interface LoadedRouterConfig {
  config: RouterConfig;
  /** Unknown keys and other things worth a look; never fatal. */
  warnings: string[];
  file: string | undefined;
  /** Every route's utterances with templates expanded, in route order: expanded once, here. */
  utterances: readonly ExpandedUtterance[];
}

const ROOT_KEYS = new Set(Object.keys(RouterConfigSchema.shape));
const ROUTE_KEYS = new Set(Object.keys(RouteSchema.shape));
const INDEX_KEYS = new Set(Object.keys(IndexOptionsSchema.shape));
const WEIGHT_KEYS = new Set(['knn', 'centroid', 'lexical']);

function unknownKeys(raw: unknown, file: string | undefined): string[] {
  const warnings: string[] = [];
  const where = file ?? 'router config';
  const check = (value: unknown, known: Set<string>, at: string) => {
    if (value === null || typeof value !== 'object' || Array.isArray(value)) return;
    for (const key of Object.keys(value)) {
      if (!known.has(key))
        warnings.push(`${where}: ${at === '' ? key : `${at}.${key}`}: unknown key, ignored`);
    }
  };
  check(raw, ROOT_KEYS, '');
  const root = raw as { routes?: unknown; index?: unknown; hybrid_weights?: unknown };
  check(root.index, INDEX_KEYS, 'index');
  check(root.hybrid_weights, WEIGHT_KEYS, 'hybrid_weights');
  if (Array.isArray(root.routes)) {
    for (const [i, r] of root.routes.entries()) check(r, ROUTE_KEYS, `routes[${i}]`);
  }
  return warnings;
}

/** Validates a parsed router.json. Throws CONFIG_INVALID (all problems listed) or ROUTE_DUPLICATE. */
export function validateRouterConfig(raw: unknown, file?: string): LoadedRouterConfig {
  const result = RouterConfigSchema.safeParse(raw);
  if (!result.success) {
    const issues = result.error.issues.map((issue) => ({
      path: formatPath(issue.path),
      message: issue.message,
    }));
    const first = issues[0]!;
    const list = issues
      .slice(0, 10)
      .map((i) => `  ${i.path}: ${i.message}`)
      .join('\n');
    throw new SemrouteError(
      ErrorCode.CONFIG_INVALID,
      `${file ?? 'router config'}: ${issues.length} problem${issues.length === 1 ? '' : 's'}:\n${list}${issues.length > 10 ? `\n  … and ${issues.length - 10} more` : ''}`,
      { file, path: first.path, expected: first.message, details: { issues } },
    );
  }
  const data = result.data;
  const warnings = unknownKeys(raw, file);
  const thresholded =
    data.score_threshold !== undefined ||
    data.routes.some((r) => r.score_threshold !== undefined && r.score_threshold !== null);
  const scoring = data.scoring ?? (thresholded ? 'dense' : 'hybrid');
  if (data.scoring === undefined && thresholded) {
    warnings.push(
      `${file ?? 'router config'}: scoring: not set, and the file sets thresholds: scored "dense", the scale such thresholds are usually chosen on; add "scoring": "hybrid" for the better hybrid score (its scores run lower: re-tune the thresholds, e.g. with fit())`,
    );
  }
  const config: RouterConfig = {
    ...data,
    scoring,
    score_threshold: data.score_threshold ?? DEFAULT_THRESHOLDS[scoring],
  };
  const seen = new Map<string, number>();
  config.routes.forEach((route, i) => {
    const before = seen.get(route.name);
    if (before !== undefined) {
      throw new SemrouteError(
        ErrorCode.ROUTE_DUPLICATE,
        `${file ?? 'router config'}: routes[${i}].name: "${route.name}" is already the name of routes[${before}]`,
        { file, path: `routes[${i}].name`, expected: 'a unique route name' },
      );
    }
    seen.set(route.name, i);
  });
  // Expanded once, here: template errors surface at load time, and compile reuses the variants.
  const utterances = expandRoutes(config, file);
  return { config: deepFreeze(config), warnings, file, utterances };
}

export async function loadRouterConfig(file: string): Promise<LoadedRouterConfig> {
  const text = await readTextFile(file);
  return validateRouterConfig(parseJson(text, file), file);
}

export interface ExpandedUtterance extends Variant {
  route: string;
}

/** Expands every route's utterances (templates → variants), in route order. */
export function expandRoutes(config: RouterConfig, file?: string): ExpandedUtterance[] {
  const out: ExpandedUtterance[] = [];
  const budget = { variants: config.max_variants, chars: config.max_variants * 400 };
  // A loop, not push(...all): a spread of a large array overflows the stack.
  for (const [r, route] of config.routes.entries())
    for (const u of expandRoute(config, route, r, file, budget)) out.push(u);
  return out;
}

export function expandRoute(
  config: RouterConfig,
  route: RouteConfig,
  index: number,
  file?: string,
  budget?: ExpansionBudget,
): ExpandedUtterance[] {
  const slots = { ...BUILTIN_SLOTS, ...config.slots, ...route.slots };
  const seen = new Set<string>();
  const out: ExpandedUtterance[] = [];
  route.utterances.forEach((utterance, u) => {
    const variants = expandUtterance(utterance, {
      route: route.name,
      path: `routes[${index}].utterances[${u}]`,
      file,
      slots,
      limit: config.template_limit,
      budget,
    });
    for (const v of variants) {
      if (seen.has(v.text)) continue;
      seen.add(v.text);
      out.push({ ...v, route: route.name });
    }
  });
  // The description counts as one utterance of its own, taken literally ([brackets] in it are
  // not slots). Measured on CLINC150 with label names as descriptions: docs/router-json.md.
  const description = route.description?.trim();
  if (description && !seen.has(description))
    out.push({ text: description, template: undefined, route: route.name });
  return out;
}
