/**
 * The gateway's configuration in LiteLLM's shape: `model_list` plus router settings (the keys of
 * LiteLLM's `router_settings`, and the fallback keys of `litellm_settings`). Parsed once, here:
 * `os.environ/KEY` references resolved, validated, then frozen and marked as parsed, so that
 * whoever receives it (the gateway, the proxy's runtime) never parses it again.
 */
import { z } from 'zod';
import { ErrorCode, formatPath, SemrouteError } from '../errors.js';
import { resolveEnvRefs } from './env-refs.js';
import { deepFreeze } from './freeze.js';

const positive = z.number().positive();

export const LitellmParamsSchema = z.looseObject({
  /** Upstream model, e.g. `gpt-4o-mini`, `openai/gpt-4o`, `azure/gpt-4`, or `auto_router/<name>`. */
  model: z.string().min(1),
  api_base: z.string().min(1).optional(),
  api_key: z.string().optional(),
  api_version: z.string().optional(),
  organization: z.string().optional(),
  /** Request timeout in seconds. */
  timeout: positive.optional(),
  stream_timeout: positive.optional(),
  rpm: z.number().int().positive().optional(),
  tpm: z.number().int().positive().optional(),
  weight: z.number().nonnegative().optional(),
  order: z.number().int().min(1).optional(),
  /** Seconds this deployment cools after failing (overrides the router's cooldown_time). */
  cooldown_time: z.number().nonnegative().optional(),
  auto_router_config_path: z.string().optional(),
  auto_router_config: z.unknown().optional(),
  auto_router_default_model: z.string().optional(),
  auto_router_embedding_model: z.string().optional(),
});

export const ModelInfoSchema = z.looseObject({
  id: z.string().min(1).optional(),
  mode: z.enum(['chat', 'embedding', 'completion']).optional(),
  input_cost_per_token: z.number().nonnegative().optional(),
  output_cost_per_token: z.number().nonnegative().optional(),
  max_input_tokens: z.number().int().positive().optional(),
  max_tokens: z.number().int().positive().optional(),
  max_output_tokens: z.number().int().positive().optional(),
  /** Quality tier 0–10 for `auto` (semroute extension). */
  quality: z.number().min(0).max(10).optional(),
});

export const ModelEntrySchema = z.looseObject({
  model_name: z.string().min(1),
  litellm_params: LitellmParamsSchema,
  model_info: ModelInfoSchema.optional(),
  tpm: z.number().int().positive().optional(),
  rpm: z.number().int().positive().optional(),
  weight: z.number().nonnegative().optional(),
  order: z.number().int().min(1).optional(),
});

const fallbackList = z.array(z.record(z.string(), z.array(z.string().min(1))));
const retryEntry = z.union([z.number().int().min(0), z.object({ max_retries: z.number().int().min(0) })]);
const retryPolicy = z.record(z.string(), retryEntry);

export const RouterSettingsSchema = z.looseObject({
  routing_strategy: z.string().default('simple-shuffle'),
  routing_strategy_args: z
    .looseObject({ ttl: positive.optional(), lowest_latency_buffer: z.number().nonnegative().optional() })
    .optional(),
  /** Retries per group call. Default 2 (LiteLLM's default). */
  num_retries: z.number().int().min(0).default(2),
  /** Minimum seconds before a retry. Default 0. */
  retry_after: z.number().nonnegative().default(0),
  retry_policy: retryPolicy.optional(),
  model_group_retry_policy: z.record(z.string(), retryPolicy).optional(),
  /** Default request timeout in seconds. Default 600 (the OpenAI SDK's). */
  timeout: positive.default(600),
  /** Failures per minute tolerated before a deployment cools. Default 3. */
  allowed_fails: z.number().int().min(0).default(3),
  /** Seconds a deployment cools. Default 5 (LiteLLM's default). */
  cooldown_time: z.number().nonnegative().default(5),
  disable_cooldowns: z.boolean().default(false),
  /** Per-group overrides of allowed_fails / cooldown_time (semroute extension). */
  model_group_cooldown: z
    .record(
      z.string(),
      z.object({
        allowed_fails: z.number().int().min(0).optional(),
        cooldown_time: z.number().nonnegative().optional(),
      }),
    )
    .optional(),
  /** When every deployment of a group cools: wait for the first to return (up to this many seconds) instead of failing. */
  wait_for_cooldown_seconds: z.number().nonnegative().default(0),
  fallbacks: fallbackList.default([]),
  default_fallbacks: z.array(z.string()).default([]),
  context_window_fallbacks: fallbackList.default([]),
  content_policy_fallbacks: fallbackList.default([]),
  model_group_alias: z
    .record(
      z.string(),
      z.union([z.string(), z.object({ model: z.string(), hidden: z.boolean().optional() })]),
    )
    .default({}),
  cache_responses: z.boolean().default(false),
  /** Cache TTL in seconds. Default 3600. */
  default_cache_time_seconds: positive.default(3600),
  /** Also cache streamed requests (replayed as one chunk). Default false. */
  cache_streams: z.boolean().default(false),
  /** `auto`: semantic routes for OpenRouter-style auto (a router.json path). */
  auto_router_config_path: z.string().optional(),
  /** `auto`: default cost/quality tradeoff 0 (quality) … 10 (cost). Default 7. */
  cost_quality_tradeoff: z.number().min(0).max(10).default(7),
  /** `auto`: sticky session time in seconds. Default 300. */
  sticky_session_ttl: positive.default(300),
  /** Shared state for several instances (LiteLLM's names). `redis_url` wins over host/port. */
  redis_url: z.string().min(1).optional(),
  redis_host: z.string().min(1).optional(),
  // Numbers from `os.environ/…` arrive as strings.
  redis_port: z.coerce.number().int().min(1).max(65535).optional(),
  redis_password: z.string().optional(),
  /** Prefix of every Redis key, so several deployments can share a server. Default `semroute:`. */
  redis_key_prefix: z.string().default('semroute:'),
});

export const GatewayConfigSchema = RouterSettingsSchema.extend({
  model_list: z.array(ModelEntrySchema).min(1, 'model_list needs at least one deployment'),
});

export type ModelEntry = z.infer<typeof ModelEntrySchema>;
export type GatewayConfig = Readonly<z.infer<typeof GatewayConfigSchema>>;
export type GatewayConfigInput = z.input<typeof GatewayConfigSchema>;

/** Configs that went through parseGatewayConfig: frozen, never parsed again. */
const PARSED = new WeakSet<object>();

export function isParsedGatewayConfig(value: unknown): value is GatewayConfig {
  return typeof value === 'object' && value !== null && PARSED.has(value);
}

/**
 * Validates a gateway config (resolving `os.environ/` references first) and freezes it. A config
 * this function returned is returned as it is.
 */
export function parseGatewayConfig(
  raw: unknown,
  options: { file?: string | undefined; env?: NodeJS.ProcessEnv | undefined } = {},
): GatewayConfig {
  if (isParsedGatewayConfig(raw)) return raw;
  const resolved = resolveEnvRefs(raw, options.env ?? process.env, options.file);
  const result = GatewayConfigSchema.safeParse(resolved);
  if (!result.success) {
    const issues = result.error.issues.map((i) => ({ path: formatPath(i.path), message: i.message }));
    throw new SemrouteError(
      ErrorCode.CONFIG_INVALID,
      `${options.file ?? 'config'}: ${issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`,
      { file: options.file, path: issues[0]!.path, expected: issues[0]!.message, details: { issues } },
    );
  }
  const config = deepFreeze(result.data);
  PARSED.add(config);
  return config;
}
