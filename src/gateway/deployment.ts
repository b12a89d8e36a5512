/** A deployment: one upstream endpoint serving a model group, built once from its model_list entry. */
import { createHash } from 'node:crypto';
import type { ModelEntry } from '../config/gateway-schema.js';
import { bodyDefaults } from '../config/litellm-params.js';
import type { Target } from '../config/targets.js';
import { type ListedPrice, listedPrice } from './price-table.js';

export interface DeploymentInfo {
  /** USD per input token (model_info.input_cost_per_token, or litellm_params'). */
  inputCostPerToken: number | undefined;
  outputCostPerToken: number | undefined;
  maxInputTokens: number | undefined;
  /** model_info.max_output_tokens (or max_tokens): the most an answer can be, for budget holds. */
  maxOutputTokens: number | undefined;
  /** Quality tier 0–10 (model_info.quality, or the adaptive router's quality_tier), used by `auto`. */
  quality: number | undefined;
  /** model_info.mode (chat when absent). */
  mode: string;
  /** Where its prices came from: the config, or the shipped table (price-table.ts). */
  priceSource: 'model_info' | 'price_table' | undefined;
}

export interface Deployment {
  /**
   * model_info.id, or a hash of the entry. Two identical entries share it, as in LiteLLM: both
   * are candidates, and a cooldown on the id cools both.
   */
  readonly id: string;
  /** The model group (model_name) it serves; a wildcard pattern such as `anthropic/*`. */
  readonly group: string;
  /** Model name sent upstream (the provider prefix removed); `*` in a wildcard's is substituted per request. */
  readonly model: string;
  /** Where its calls go; undefined for a wildcard whose provider depends on the name asked for (`*`). */
  readonly target: Target | undefined;
  readonly info: DeploymentInfo;
  readonly tpm: number | undefined;
  readonly rpm: number | undefined;
  readonly weight: number | undefined;
  /** Lower orders are tried first (LiteLLM `order`). */
  readonly order: number | undefined;
  /** Per-deployment cooldown in seconds (litellm_params.cooldown_time). */
  readonly cooldownTime: number | undefined;
  /** Request timeout in ms (litellm_params.timeout). */
  readonly timeoutMs: number | undefined;
  /** Timeout of streamed requests in ms (litellm_params.stream_timeout; else timeoutMs). */
  readonly streamTimeoutMs: number | undefined;
  /** Tag routing: the tags it carries (litellm_params.tags). */
  readonly tags: readonly string[];
  /** Request defaults from litellm_params (temperature, max_tokens, …): the request's own values win. */
  readonly defaults: Readonly<Record<string, unknown>>;
  /** Fields merged into every body (litellm_params.extra_body). */
  readonly extraBody: Readonly<Record<string, unknown>> | undefined;
  /** litellm_params.drop_params; undefined = the router's. */
  readonly dropParams: boolean | undefined;
  /** Parameters always removed (litellm_params.additional_drop_params). */
  readonly alwaysDrop: readonly string[];
  /** Header names (lower case) a request's extra_headers may set here beyond the default ones. */
  readonly forwardHeaders: ReadonlySet<string>;
}

/** A stable text of a value: mapping keys sorted, so that key order does not change an id. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/** model_info.id, else a hash of the group and every param (the key itself hashed first, never kept). */
export function deploymentId(entry: ModelEntry): string {
  if (entry.model_info?.id) return entry.model_info.id;
  const { api_key, ...params } = entry.litellm_params;
  const key = api_key ? createHash('sha256').update(api_key).digest('hex').slice(0, 16) : '';
  return createHash('sha256')
    .update(canonical([entry.model_name, params, key]))
    .digest('hex')
    .slice(0, 16);
}

const ms = (seconds: number | undefined) => (seconds === undefined ? undefined : seconds * 1000);

/** LiteLLM's adaptive router rates models 1–3 (quality_tier); `auto` rates 0–10. */
function tierQuality(info: Record<string, unknown>): number | undefined {
  const prefs = info.adaptive_router_preferences as { quality_tier?: unknown } | undefined;
  const tier = Number(prefs?.quality_tier);
  return Number.isFinite(tier) && tier > 0 ? Math.min(10, (tier * 10) / 3) : undefined;
}

/**
 * The shipped price for a deployment whose config gives none — only when it calls its
 * provider's own endpoint: behind an api_base of its own (a vLLM, a local server, a proxy), a
 * well-known name says nothing about what a token costs there.
 */
function shippedPrice(entry: ModelEntry, target: Target | undefined): ListedPrice | undefined {
  const p = entry.litellm_params;
  const info = entry.model_info ?? {};
  const configured = [
    info.input_cost_per_token,
    info.output_cost_per_token,
    p.input_cost_per_token,
    p.output_cost_per_token,
  ];
  if (target === undefined || configured.some((c) => c !== undefined)) return undefined;
  if (p.api_base !== undefined || p.base_url !== undefined) return undefined;
  return listedPrice(target.provider.name, target.model);
}

function priceSource(
  listed: ListedPrice | undefined,
  input: number | undefined,
  output: number | undefined,
): DeploymentInfo['priceSource'] {
  if (listed !== undefined) return 'price_table';
  return input !== undefined || output !== undefined ? 'model_info' : undefined;
}

export function toDeployment(entry: ModelEntry, target?: Target): Deployment {
  const p = entry.litellm_params;
  const info = entry.model_info ?? {};
  const defaults = bodyDefaults(p);
  const listed = shippedPrice(entry, target);
  const inputCost = info.input_cost_per_token ?? p.input_cost_per_token ?? listed?.inputCostPerToken;
  const outputCost = info.output_cost_per_token ?? p.output_cost_per_token ?? listed?.outputCostPerToken;
  return Object.freeze({
    id: deploymentId(entry),
    group: entry.model_name,
    model: target?.model ?? p.model,
    target,
    info: {
      inputCostPerToken: inputCost,
      outputCostPerToken: outputCost,
      maxInputTokens: info.max_input_tokens,
      maxOutputTokens: info.max_output_tokens ?? info.max_tokens ?? listed?.maxOutputTokens,
      priceSource: priceSource(listed, inputCost, outputCost),
      quality: info.quality ?? tierQuality(info),
      mode: info.mode ?? 'chat',
    },
    tpm: entry.tpm ?? p.tpm,
    rpm: entry.rpm ?? p.rpm,
    weight: entry.weight ?? p.weight,
    order: entry.order ?? p.order,
    cooldownTime: p.cooldown_time,
    timeoutMs: ms(p.timeout),
    streamTimeoutMs: ms(p.stream_timeout ?? p.timeout),
    tags: p.tags ?? [],
    defaults,
    extraBody: p.extra_body,
    dropParams: p.drop_params,
    alwaysDrop: p.additional_drop_params ?? [],
    forwardHeaders: new Set((p.forward_client_headers ?? []).map((h) => h.toLowerCase())),
  });
}
