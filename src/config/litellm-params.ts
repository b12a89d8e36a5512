/**
 * What each `litellm_params` key is for, as LiteLLM treats it (`Router._acompletion` spreads the
 * params into the call, so any OpenAI parameter there is a default the request overrides):
 * - keys semroute reads (connection, routing, accounting);
 * - keys only LiteLLM reads, for features semroute does not have: never sent upstream, and named
 *   in the start warning;
 * - everything else: a request default, sent with each call unless the request sets it.
 */
import { AUTO_ROUTER_PREFIX } from './gateway-schema.js';

/** Read by semroute. */
const READ = new Set([
  'model',
  'aws_access_key_id',
  'aws_secret_access_key',
  'aws_session_token',
  'aws_region_name',
  'aws_profile_name',
  'aws_bedrock_runtime_endpoint',
  'vertex_project',
  'vertex_location',
  'vertex_credentials',
  'vertex_ai_project',
  'vertex_ai_location',
  'api_base',
  'base_url',
  'api_key',
  'api_version',
  'organization',
  'custom_llm_provider',
  'timeout',
  'stream_timeout',
  'rpm',
  'tpm',
  'weight',
  'order',
  'cooldown_time',
  'tags',
  'extra_headers',
  'extra_body',
  'drop_params',
  'additional_drop_params',
  'forward_client_headers',
  'input_cost_per_token',
  'output_cost_per_token',
  'litellm_credential_name',
]);

/** Read by LiteLLM alone (cloud credentials, budgets, its own retries and logging): not sent upstream. */
const LITELLM_ONLY = new Set([
  'region_name',
  'azure_ad_token',
  'azure_ad_token_provider',
  'tenant_id',
  'client_id',
  'client_secret',
  'azure_username',
  'azure_password',
  'max_parallel_requests',
  'tag_regex',
  'max_budget',
  'budget_duration',
  'base_model',
  'model_info',
  'mock_response',
  'num_retries',
  'max_retries',
  'use_in_pass_through',
  'use_litellm_proxy',
  'merge_reasoning_content_in_choices',
  'configurable_clientside_auth_params',
  'allowed_openai_params',
  'api_type',
  'litellm_trace_id',
  'watsonx_region_name',
]);
const LITELLM_ONLY_PREFIXES =
  /^(aws_|vertex_|s3_|complexity_router_|input_cost_per_|output_cost_per_|cache_(read|creation)_input_token_cost)/;

function isLitellmOnly(key: string): boolean {
  return LITELLM_ONLY.has(key) || LITELLM_ONLY_PREFIXES.test(key);
}

function isRouterKey(key: string): boolean {
  return key.startsWith('auto_router_') || key.startsWith('adaptive_router_');
}

/** The request defaults of a deployment: its params that are neither read by semroute nor LiteLLM's own. */
export function bodyDefaults(params: Readonly<Record<string, unknown>>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(params)) {
    if (!READ.has(key) && !isLitellmOnly(key) && !isRouterKey(key)) out[key] = value;
  }
  return out;
}

/** Paths of params in a raw model_list that only LiteLLM reads (for the start warning). */
export function ignoredParams(modelList: unknown): string[] {
  if (!Array.isArray(modelList)) return [];
  const out: string[] = [];
  modelList.forEach((entry, i) => {
    const params = (entry as { litellm_params?: unknown })?.litellm_params;
    if (params === null || typeof params !== 'object') return;
    const model = (params as { model?: unknown }).model;
    // An auto_router entry's own keys are all read by its router.
    if (typeof model === 'string' && model.startsWith(AUTO_ROUTER_PREFIX)) return;
    for (const key of Object.keys(params)) {
      if (!READ.has(key) && isLitellmOnly(key)) out.push(`model_list[${i}].litellm_params.${key}`);
    }
  });
  return out;
}
