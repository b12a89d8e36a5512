/**
 * LiteLLM's complexity router (`model: auto_router/complexity_router`), read as LiteLLM
 * documents it: `complexity_router_config` (tiers, tier_boundaries, token_thresholds,
 * dimension_weights, the keyword lists, keyword_tier_rules, escalation_keywords,
 * reasoning_override_min_score, default_model, classifier_type) and
 * `complexity_router_default_model`. Parsed once, here, into what the planner runs. Besides
 * LiteLLM's `heuristic` classifier, `classifier_type: semroute` decides with a difficulty model
 * (`difficulty_model`: `default`, or the folder `semroute calibrate` wrote).
 */
import path from 'node:path';
import { z } from 'zod';
import {
  type ComplexitySettings,
  DEFAULT_COMPLEXITY,
  DIMENSIONS,
  TIERS,
  type Tier,
} from '../difficulty/complexity.js';
import { ErrorCode, formatPath, SemrouteError } from '../errors.js';
import { entryName, type GatewayConfig } from './gateway-schema.js';

export const COMPLEXITY_ROUTER = 'auto_router/complexity_router';

/** The classifier types semroute runs; LiteLLM's others call an LLM or a plugin. */
export const CLASSIFIERS = ['heuristic', 'semroute'] as const;
const LITELLM_CLASSIFIERS = ['heuristic_v2', 'llm', 'custom', 'heuristic_first', 'hybrid'];

/** Keys LiteLLM reads for features semroute does not run: accepted, and named in one warning. */
const NOT_RUN = [
  'adaptive',
  'adaptive_config',
  'session_affinity',
  'session_affinity_ttl_seconds',
  'classification_mode',
  'plan_mode_min_tier',
  'route_housekeeping_to_cheapest_tier',
  'enable_context_window_escalation',
  'modality_routing',
  'modality_pin_override',
  'semantic_keyword_matching',
  'embedding_model',
  'match_threshold',
  'reminder_markers',
  'plugins',
  'classifier_llm_config',
  'classifier_fallback',
  'heuristic_first_max_tier',
  'hybrid_boundary_margin',
  'custom_dimensions',
  'tier_definitions',
  'fallback_tier',
  'return_raw_model_name',
];

export interface TierTarget {
  /** The model_list group it sends to. */
  group: string;
  /** litellm_params of the tier (`reasoning_effort: high`, …), merged into the request. */
  params: Readonly<Record<string, unknown>> | undefined;
}

export interface ComplexityRouterSpec {
  readonly model: string;
  readonly classifier: (typeof CLASSIFIERS)[number];
  readonly settings: ComplexitySettings;
  readonly tiers: Readonly<Partial<Record<Tier, readonly TierTarget[]>>>;
  readonly labels: Readonly<Partial<Record<Tier, string>>>;
  /** Where a tier without a model goes; else its MEDIUM tier, else SIMPLE (LiteLLM's rule). */
  readonly defaultModel: string | undefined;
  /** `semroute` classifier: `default`, or the absolute path of a calibrated router folder. */
  readonly difficultyModel: string | undefined;
  /** `semroute` classifier: tier boundaries on the difficulty scale; undefined = from the model's operating point. */
  readonly difficultyBoundaries: ComplexitySettings['boundaries'] | undefined;
  readonly ignored: readonly string[];
}

const keywordList = z.array(z.string().min(1, 'a keyword cannot be empty'));
const target = z.union([
  z.string().min(1),
  z.looseObject({
    model_name: z.string().min(1),
    litellm_params: z.record(z.string(), z.unknown()).optional(),
  }),
]);
const boundaries = z
  .object({
    simple_medium: z.number().optional(),
    medium_complex: z.number().optional(),
    complex_reasoning: z.number().optional(),
  })
  .strict();

const ConfigSchema = z.looseObject({
  tiers: z
    .partialRecord(
      z.enum(TIERS),
      z.union([target, z.array(target).min(1, 'a tier list needs at least one model')]),
    )
    .optional(),
  tier_labels: z.partialRecord(z.enum(TIERS), z.string()).optional(),
  tier_boundaries: boundaries.optional(),
  token_thresholds: z
    .object({ simple: z.number().optional(), complex: z.number().optional() })
    .strict()
    .optional(),
  dimension_weights: z.partialRecord(z.enum(DIMENSIONS), z.number()).optional(),
  code_keywords: keywordList.optional(),
  reasoning_keywords: keywordList.optional(),
  technical_keywords: keywordList.optional(),
  simple_keywords: keywordList.optional(),
  custom_technical_keywords: keywordList.optional(),
  keyword_tier_rules: z.array(z.object({ keywords: keywordList.min(1), tier: z.enum(TIERS) })).optional(),
  escalation_keywords: z.array(z.string()).optional(),
  reasoning_override_min_score: z.number().optional(),
  default_model: z.string().optional(),
  classifier_type: z.string().optional(),
  difficulty_model: z.string().min(1).optional(),
  difficulty_boundaries: boundaries.optional(),
});

/** LiteLLM's default tiers, when a config names none. */
const DEFAULT_TIERS: Record<Tier, string> = {
  SIMPLE: 'gpt-4o-mini',
  MEDIUM: 'gpt-4o',
  COMPLEX: 'claude-sonnet-4-20250514',
  REASONING: 'claude-sonnet-4-20250514',
};

export function complexityRouters(config: GatewayConfig, baseDir: string): ComplexityRouterSpec[] {
  const out: ComplexityRouterSpec[] = [];
  config.model_list.forEach((entry, i) => {
    const p = entry.litellm_params as Record<string, unknown> & { model: string };
    if (p.model !== COMPLEXITY_ROUTER) return;
    const at = `model_list[${i}].litellm_params.complexity_router_config`;
    // LiteLLM #33655: two routers under one name silently served only the first one's tiers.
    if (out.some((o) => o.model === entry.model_name)) {
      throw new SemrouteError(
        ErrorCode.CONFIG_INVALID,
        `${entryName(i, entry)}: a second complexity router named ${entry.model_name}: give each router its own model_name (to route by tags, tag the deployments of the tiers' groups)`,
        { path: `model_list[${i}].model_name`, expected: 'one complexity router per model_name' },
      );
    }
    const fail = (pathAt: string, message: string, expected: string): never => {
      throw new SemrouteError(ErrorCode.CONFIG_INVALID, `${entryName(i, entry)}: ${pathAt}: ${message}`, {
        path: pathAt,
        expected,
      });
    };
    const parsed = ConfigSchema.safeParse(p.complexity_router_config ?? {});
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      fail(
        issue.path.length === 0 ? at : `${at}.${formatPath(issue.path)}`,
        issue.message,
        'complexity_router_config as LiteLLM documents it',
      );
    }
    const c = parsed.data!;
    const classifier = c.classifier_type ?? 'heuristic';
    if (!(CLASSIFIERS as readonly string[]).includes(classifier)) {
      const theirs = LITELLM_CLASSIFIERS.includes(classifier)
        ? ` (LiteLLM's ${classifier} calls a model or a plugin to classify)`
        : '';
      fail(
        `${at}.classifier_type`,
        `"${classifier}" is not a classifier semroute runs${theirs}; it runs ${CLASSIFIERS.join(' or ')}`,
        CLASSIFIERS.join(' or '),
      );
    }
    const list = (given: string[] | undefined, fallback: string[]) =>
      given && given.length > 0 ? given : fallback;
    const technical = list(c.technical_keywords, DEFAULT_COMPLEXITY.keywords.technical);
    const extra = (c.custom_technical_keywords ?? []).filter(
      (k) => !technical.some((t) => t.toLowerCase() === k.toLowerCase()),
    );
    const b = { ...DEFAULT_COMPLEXITY.boundaries, ...stripUndefined(c.tier_boundaries ?? {}) };
    const settings: ComplexitySettings = {
      boundaries: b,
      tokens: { ...DEFAULT_COMPLEXITY.tokens, ...stripUndefined(c.token_thresholds ?? {}) },
      // A weight left out scores 0, as LiteLLM reads the map; no map means the defaults.
      weights:
        c.dimension_weights === undefined
          ? DEFAULT_COMPLEXITY.weights
          : (Object.fromEntries(
              DIMENSIONS.map((d) => [d, c.dimension_weights![d] ?? 0]),
            ) as ComplexitySettings['weights']),
      keywords: {
        code: list(c.code_keywords, DEFAULT_COMPLEXITY.keywords.code),
        reasoning: list(c.reasoning_keywords, DEFAULT_COMPLEXITY.keywords.reasoning),
        technical: [...technical, ...extra],
        simple: list(c.simple_keywords, DEFAULT_COMPLEXITY.keywords.simple),
      },
      reasoningOverrideMinScore: c.reasoning_override_min_score ?? b.simple_medium,
      keywordTierRules: c.keyword_tier_rules ?? [],
      escalationKeywords: c.escalation_keywords ?? DEFAULT_COMPLEXITY.escalationKeywords,
    };
    const tiers: Partial<Record<Tier, TierTarget[]>> = {};
    for (const [tier, given] of Object.entries(c.tiers ?? DEFAULT_TIERS) as Array<[Tier, unknown]>) {
      const items = (Array.isArray(given) ? given : [given]) as Array<
        string | { model_name: string; litellm_params?: Record<string, unknown> }
      >;
      const seen = new Set<string>();
      tiers[tier] = items.map((t, j) => {
        const group = typeof t === 'string' ? t : t.model_name;
        if (seen.has(group))
          fail(
            `${at}.tiers.${tier}[${j}]`,
            `${group} is listed twice in the tier`,
            'each model once per tier',
          );
        seen.add(group);
        return {
          group,
          params: typeof t === 'string' ? undefined : Object.freeze({ ...(t.litellm_params ?? {}) }),
        };
      });
    }
    // complexity_router_default_model wins; unset, LiteLLM derives it from MEDIUM, then SIMPLE.
    const defaultModel =
      (typeof p.complexity_router_default_model === 'string'
        ? p.complexity_router_default_model
        : undefined) ??
      c.default_model ??
      tiers.MEDIUM?.[0]?.group ??
      tiers.SIMPLE?.[0]?.group;
    if (
      classifier !== 'semroute' &&
      (c.difficulty_model !== undefined || c.difficulty_boundaries !== undefined)
    )
      fail(
        `${at}.difficulty_model`,
        'difficulty_model and difficulty_boundaries are read by classifier_type: semroute only',
        'classifier_type: semroute',
      );
    const difficultyModel =
      classifier !== 'semroute'
        ? undefined
        : c.difficulty_model === undefined || c.difficulty_model === 'default'
          ? 'default'
          : path.resolve(baseDir, c.difficulty_model);
    const db = c.difficulty_boundaries;
    out.push(
      Object.freeze({
        model: entry.model_name,
        classifier: classifier as ComplexityRouterSpec['classifier'],
        settings,
        tiers: Object.freeze(tiers),
        labels: Object.freeze({ ...(c.tier_labels ?? {}) }),
        defaultModel,
        difficultyModel,
        difficultyBoundaries:
          db === undefined
            ? undefined
            : {
                simple_medium: db.simple_medium ?? 0.7,
                medium_complex: db.medium_complex ?? 0.8,
                complex_reasoning: db.complex_reasoning ?? 0.9,
              },
        ignored: NOT_RUN.filter((k) => k in c),
      }),
    );
  });
  return out;
}

function stripUndefined<T extends Record<string, unknown>>(
  o: T,
): { [K in keyof T]: Exclude<T[K], undefined> } {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as never;
}
