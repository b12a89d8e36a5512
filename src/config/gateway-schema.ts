/**
 * The gateway's configuration in LiteLLM's shape: `model_list` plus router settings (the keys of
 * LiteLLM's `router_settings`, and the fallback keys of `litellm_settings`). Parsed once, here:
 * `os.environ/KEY` references resolved, validated, then frozen and marked as parsed, so that
 * whoever receives it (the gateway, the proxy's runtime) never parses it again.
 */
import { z } from 'zod';
import { ErrorCode, formatPath, SemrouteError } from '../errors.js';
import { BudgetDurationSchema } from './budget-duration.js';
import { flag, num, text } from './coerce.js';
import { describeUnset, resolveEnvRefs, type UnsetRef } from './env-refs.js';
import { deepFreeze } from './freeze.js';
import { isDynamicWildcard, providerEnv, resolveTarget, type Target } from './targets.js';
import { supportedProviders } from './providers.js';

const positive = num(z.number().positive());
const count = num(z.number().int().positive());
const nonNegative = num(z.number().nonnegative());
const stringList = z.array(text());

export const LitellmParamsSchema = z.looseObject({
  /** Upstream model, e.g. `gpt-4o-mini`, `openai/gpt-4o`, `anthropic/claude-…`, `auto_router/<name>`. */
  model: text().pipe(z.string().min(1)),
  api_base: text().pipe(z.string().min(1)).optional(),
  /** LiteLLM's other name for api_base. */
  base_url: text().pipe(z.string().min(1)).optional(),
  api_key: text().optional(),
  api_version: text().optional(),
  organization: text().optional(),
  /** Names the provider when the model string does not (LiteLLM's custom_llm_provider). */
  custom_llm_provider: text().optional(),
  /** Request timeout in seconds. */
  timeout: positive.optional(),
  stream_timeout: positive.optional(),
  rpm: count.optional(),
  tpm: count.optional(),
  weight: nonNegative.optional(),
  order: num(z.number().int().min(1)).optional(),
  /** Seconds this deployment cools after failing (overrides the router's cooldown_time). */
  cooldown_time: nonNegative.optional(),
  /** Tags for tag routing (router_settings.enable_tag_filtering). */
  tags: stringList.optional(),
  /** Headers sent with every call to this deployment. */
  extra_headers: z.record(z.string(), text()).optional(),
  /** Fields merged into every request body sent to this deployment. */
  extra_body: z.record(z.string(), z.unknown()).optional(),
  /** Drop request parameters the provider does not take instead of refusing the request. */
  drop_params: flag().optional(),
  /** Request parameters always removed before the call (top-level names). */
  additional_drop_params: stringList.optional(),
  /**
   * Headers a request's `extra_headers` may set on this deployment's calls beyond the default
   * ones (custom `x-…` names and `anthropic-beta`): provider identity such as
   * `OpenAI-Organization` or `OpenAI-Project` is the operator's unless listed here.
   */
  forward_client_headers: stringList.optional(),
  /** Costs may be given here too; LiteLLM copies them into model_info. */
  input_cost_per_token: nonNegative.optional(),
  output_cost_per_token: nonNegative.optional(),
  auto_router_config_path: text().optional(),
  auto_router_config: z.unknown().optional(),
  auto_router_default_model: text().optional(),
  auto_router_embedding_model: text().optional(),
  adaptive_router_config: z.unknown().optional(),
  adaptive_router_default_model: text().optional(),
});

export const ModelInfoSchema = z.looseObject({
  id: text().pipe(z.string().min(1)).optional(),
  /** LiteLLM's modes are many (chat, embedding, completion, batch, rerank, …): any name is taken. */
  mode: text().optional(),
  input_cost_per_token: nonNegative.optional(),
  output_cost_per_token: nonNegative.optional(),
  max_input_tokens: count.optional(),
  max_tokens: count.optional(),
  max_output_tokens: count.optional(),
  /** Quality tier 0–10 for `auto` (semroute extension). */
  quality: num(z.number().min(0).max(10)).optional(),
});

export const ModelEntrySchema = z.looseObject({
  model_name: text().pipe(z.string().min(1)),
  litellm_params: LitellmParamsSchema,
  model_info: ModelInfoSchema.optional(),
  tpm: count.optional(),
  rpm: count.optional(),
  weight: nonNegative.optional(),
  order: num(z.number().int().min(1)).optional(),
});

const fallbackList = z.array(z.record(z.string(), z.array(z.string().min(1))));
const retries = num(z.number().int().min(0));
const retryEntry = z.union([retries, z.object({ max_retries: retries })]);
const retryPolicy = z.record(z.string(), retryEntry);

export const RouterSettingsSchema = z.looseObject({
  routing_strategy: z.string().default('simple-shuffle'),
  routing_strategy_args: z
    .looseObject({ ttl: positive.optional(), lowest_latency_buffer: nonNegative.optional() })
    .optional(),
  /** Retries per group call. Default 2 (LiteLLM's default). */
  num_retries: retries.default(2),
  /** Minimum seconds before a retry. Default 0. */
  retry_after: nonNegative.default(0),
  retry_policy: retryPolicy.optional(),
  model_group_retry_policy: z.record(z.string(), retryPolicy).optional(),
  /** Timeout of each upstream call, seconds. Default 600 (the OpenAI SDK's), or request_timeout when that is set. */
  timeout: positive.default(600),
  /**
   * The whole request's budget, seconds: retries, Retry-After waits and fallbacks all fit in it
   * (LiteLLM's litellm_settings.request_timeout). Default the larger of 600 and `timeout`.
   */
  request_timeout: positive.optional(),
  /** Largest upstream answer read, bytes; a larger one is the upstream's failure (502). Default 32 MiB. */
  max_response_bytes: count.default(32 * 1024 * 1024),
  /** Failures per minute tolerated before a deployment cools. Default 3. */
  allowed_fails: retries.default(3),
  /** Seconds a deployment cools. Default 5 (LiteLLM's default). */
  cooldown_time: nonNegative.default(5),
  disable_cooldowns: flag().default(false),
  /** Per-group overrides of allowed_fails / cooldown_time (semroute extension). */
  model_group_cooldown: z
    .record(
      z.string(),
      z.object({ allowed_fails: retries.optional(), cooldown_time: nonNegative.optional() }),
    )
    .optional(),
  /** When every deployment of a group cools: wait for the first to return (up to this many seconds) instead of failing. */
  wait_for_cooldown_seconds: nonNegative.default(0),
  fallbacks: fallbackList.default([]),
  default_fallbacks: z.array(z.string()).default([]),
  context_window_fallbacks: fallbackList.default([]),
  content_policy_fallbacks: fallbackList.default([]),
  model_group_alias: z
    .record(z.string(), z.union([z.string(), z.object({ model: z.string(), hidden: flag().optional() })]))
    .default({}),
  /** Tag routing (LiteLLM): requests with tags go to deployments carrying them. Default false. */
  enable_tag_filtering: flag().default(false),
  /** A deployment matches when it has any of the request's tags (true) or all of them (false). Default true. */
  tag_filtering_match_any: flag().default(true),
  /** Drop request parameters a provider does not take instead of refusing (litellm_settings.drop_params). */
  drop_params: flag().default(false),
  cache_responses: flag().default(false),
  /**
   * One cache for every caller. Default false: each key (virtual or master) has its own entries,
   * so a hit never tells one tenant what another asked.
   */
  cache_shared: flag().default(false),
  /** Cache TTL in seconds. Default 3600. */
  default_cache_time_seconds: positive.default(3600),
  /** Also cache streamed requests (replayed as one chunk). Default false. */
  cache_streams: flag().default(false),
  /** `auto`: semantic routes for OpenRouter-style auto (a router.json path). */
  auto_router_config_path: z.string().optional(),
  /**
   * `auto`: the difficulty model that makes it prompt-aware (an easy prompt to the cheapest
   * candidate, a hard one to the best): `default` (shipped), a folder `semroute calibrate` wrote,
   * or `none` (rank by cost and quality alone). Default `default`.
   */
  auto_difficulty_model: z.string().min(1).default('default'),
  /**
   * Shadow grading (loop/shadow.ts): for `share` of routed requests, ask the other candidates
   * too and have `judge` (a group) grade every answer into the decision log, within
   * `max_usd_per_day`. Needs general_settings.decision_log.
   */
  shadow: z
    .object({
      share: num(z.number().min(0).max(1)),
      candidates: z.array(z.string().min(1)).optional(),
      judge: z.string().min(1),
      max_usd_per_day: num(z.number().nonnegative()),
    })
    .strict()
    .optional(),
  /** `auto`: default cost/quality tradeoff 0 (quality) … 10 (cost). Default 7. */
  cost_quality_tradeoff: num(z.number().min(0).max(10)).default(7),
  /**
   * The whole proxy's budget, USD (LiteLLM's litellm_settings.max_budget), per `budget_duration`
   * window (`30s` … `1mo`; none: for as long as the state lives). Every key's spend counts.
   */
  max_budget: nonNegative.optional(),
  budget_duration: BudgetDurationSchema.optional(),
  /** `auto`: sticky session time in seconds. Default 300. */
  sticky_session_ttl: positive.default(300),
  /** Shared state for several instances (LiteLLM's names). `redis_url` wins over host/port. */
  redis_url: text().pipe(z.string().min(1)).optional(),
  redis_host: text().pipe(z.string().min(1)).optional(),
  redis_port: num(z.number().int().min(1).max(65535)).optional(),
  redis_password: text().optional(),
  /**
   * Longest a stream may run once its first chunk is in, seconds: a stream that trickles on is
   * closed then (a silence is `stream_timeout`'s). Default 1800.
   */
  max_stream_seconds: positive.default(1800),
  /**
   * Bytes of plain upstream answers the process holds at once (each is gathered whole before it
   * is parsed); past it, the answer being gathered fails with a 503. Default 256 MiB.
   */
  max_buffered_bytes: num(z.number().int().positive()).optional(),
  /** Prefix of every Redis key, so several deployments can share a server. Default `semroute:`. */
  redis_key_prefix: z.string().default('semroute:'),
});

export const GatewayConfigSchema = RouterSettingsSchema.extend({
  model_list: z
    .array(ModelEntrySchema, {
      error: (issue) =>
        issue.input === undefined
          ? 'missing: semroute serves the models its config lists (it has no database to add them later)'
          : undefined,
    })
    .min(1, 'model_list needs at least one deployment'),
});

/** What parsing worked out beyond the file's own keys. */
export interface Resolution {
  /** Where each model_list entry's calls go, by index; undefined for auto_router entries and `*` wildcards. */
  readonly targets: readonly (Target | undefined)[];
  /** Provider variables read at parse time (for wildcards resolved per request). */
  readonly env: Readonly<Record<string, string>>;
  /** `os.environ/` references whose variable is not set (read as absent). */
  readonly unset: readonly UnsetRef[];
  /** Things the operator should hear about at start (no key for a hosted provider, …). */
  readonly warnings: readonly string[];
}

export type ModelEntry = z.infer<typeof ModelEntrySchema>;
export type GatewayConfig = Readonly<z.infer<typeof GatewayConfigSchema>> & { readonly resolved: Resolution };
export type GatewayConfigInput = z.input<typeof GatewayConfigSchema>;

/** Configs that went through parseGatewayConfig: frozen, never parsed again. */
const PARSED = new WeakSet<object>();

export function isParsedGatewayConfig(value: unknown): value is GatewayConfig {
  return typeof value === 'object' && value !== null && PARSED.has(value);
}

export const AUTO_ROUTER_PREFIX = 'auto_router/';

export function isAutoRouterEntry(entry: { litellm_params: { model: string } }): boolean {
  return entry.litellm_params.model.startsWith(AUTO_ROUTER_PREFIX);
}

/** `model_list[3] (coding)` */
export function entryName(index: number, entry: { model_name?: unknown }): string {
  return `model_list[${index}]${typeof entry.model_name === 'string' ? ` (${entry.model_name})` : ''}`;
}

export interface Problem {
  path: string;
  message: string;
  /** The message names its place already (it is printed without the path). */
  placed?: boolean;
}

/** One error for every problem found, each with the variable behind it when an unset one is. */
export function configError(
  file: string | undefined,
  problems: Problem[],
  unset: readonly UnsetRef[],
): SemrouteError {
  const explained = problems.map((p) => {
    const refs = unset.filter((u) => u.path === p.path || u.path.startsWith(`${p.path}.`));
    return refs.length === 0
      ? p
      : { ...p, message: `${p.message} (os.environ/ not set: ${describeUnset(refs)})` };
  });
  return new SemrouteError(
    ErrorCode.CONFIG_INVALID,
    `${file ?? 'config'}: ${explained.map((i) => (i.placed ? i.message : `${i.path}: ${i.message}`)).join('; ')}`,
    { file, path: explained[0]!.path, expected: explained[0]!.message, details: { issues: explained } },
  );
}

/** Values a deployment needs to serve: missing because a variable is unset, they stop the start. */
function requiredUnset(unset: readonly UnsetRef[]): Problem[] {
  return unset
    .filter((u) => /^model_list\[\d+\]\.(model_name|litellm_params\.model)$/.test(u.path))
    .map((u) => ({
      path: u.path,
      message: `needs a value, but the environment variable ${u.name} is not set`,
    }));
}

export interface ParseOptions {
  file?: string | undefined;
  env?: NodeJS.ProcessEnv | undefined;
  /** Set when the caller resolved `os.environ/` references already (the proxy resolves the whole file). */
  unset?: readonly UnsetRef[] | undefined;
}

/**
 * Validates a gateway config (resolving `os.environ/` references first, as LiteLLM does), works
 * out where each deployment's calls go, and freezes it. A config this function returned is
 * returned as it is. Every problem found is reported at once.
 */
export function parseGatewayConfig(raw: unknown, options: ParseOptions = {}): GatewayConfig {
  if (isParsedGatewayConfig(raw)) return raw;
  const env = options.env ?? process.env;
  const { value, unset } =
    options.unset === undefined ? resolveEnvRefs(raw, env) : { value: raw, unset: options.unset };
  const missing = requiredUnset(unset);
  if (missing.length > 0) throw configError(options.file, missing, unset);
  const result = GatewayConfigSchema.safeParse(value);
  if (!result.success) {
    const issues = result.error.issues.map((i) => ({ path: formatPath(i.path), message: i.message }));
    throw configError(options.file, issues, unset);
  }
  const warnings: string[] = [];
  const problems: Problem[] = [];
  const variables = providerEnv(env);
  const targets = result.data.model_list.map((entry, i) => {
    const p = entry.litellm_params;
    if (isAutoRouterEntry(entry) || isDynamicWildcard(p)) return undefined;
    try {
      const place = { label: entryName(i, entry), path: `model_list[${i}]` };
      // `api_key: os.environ/NAME` with NAME unset: the error of a call that needs it names NAME.
      const unsetKey = unset.find((u) => u.path === `model_list[${i}].litellm_params.api_key`)?.name;
      return resolveTarget(p, variables, place, (w) => warnings.push(w), unsetKey);
    } catch (error) {
      if (!(error instanceof SemrouteError)) throw error;
      problems.push({ path: error.path ?? `model_list[${i}]`, message: error.message, placed: true });
      return undefined;
    }
  });
  if (problems.length > 0) throw configError(options.file, problems, unset);
  const unavailable = targets.flatMap((t, i) =>
    t?.unavailable === undefined ? [] : [`${entryName(i, result.data.model_list[i]!)} (${t.provider.name})`],
  );
  if (unavailable.length > 0)
    warnings.push(
      `deployments of providers semroute cannot call start unavailable (never picked; a request only they could serve is a 400; fallbacks skip them): ${unavailable.join(', ')}; supported providers: ${supportedProviders()}`,
    );
  const config = deepFreeze({ ...result.data, resolved: { targets, env: variables, unset, warnings } });
  PARSED.add(config);
  return config;
}
