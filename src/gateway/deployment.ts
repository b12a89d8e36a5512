/** A deployment: one upstream endpoint serving a model group, built once from its model_list entry. */
import { createHash } from 'node:crypto';
import type { ModelEntry } from '../config/gateway-schema.js';

export interface DeploymentInfo {
  /** USD per input token (model_info.input_cost_per_token). */
  inputCostPerToken: number | undefined;
  outputCostPerToken: number | undefined;
  maxInputTokens: number | undefined;
  /** Quality tier 0–10 (model_info.quality), used by `auto`. */
  quality: number | undefined;
}

export interface Deployment {
  /** Stable id: model_info.id, or a hash of the deployment's parameters. */
  readonly id: string;
  /** The model group (model_name) it serves. */
  readonly group: string;
  /** Model name sent upstream (litellm_params.model without a provider prefix the upstream does not know). */
  readonly model: string;
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
}

/** Strips a provider prefix (`openai/gpt-4o` → `gpt-4o`); other prefixes are sent as they are. */
export function upstreamModel(model: string): string {
  for (const prefix of [
    'openai/',
    'azure/',
    'hosted_vllm/',
    'ollama/',
    'lm_studio/',
    'groq/',
    'custom_openai/',
  ]) {
    if (model.startsWith(prefix)) return model.slice(prefix.length);
  }
  return model;
}

export function deploymentId(entry: ModelEntry): string {
  if (entry.model_info?.id) return entry.model_info.id;
  const { litellm_params: p } = entry;
  const key = p.api_key ? createHash('sha256').update(p.api_key).digest('hex').slice(0, 8) : '';
  const basis = JSON.stringify([entry.model_name, p.model, p.api_base ?? '', p.api_version ?? '', key]);
  return createHash('sha256').update(basis).digest('hex').slice(0, 16);
}

const ms = (seconds: number | undefined) => (seconds === undefined ? undefined : seconds * 1000);

export function toDeployment(entry: ModelEntry): Deployment {
  const p = entry.litellm_params;
  const info = entry.model_info ?? {};
  return Object.freeze({
    id: deploymentId(entry),
    group: entry.model_name,
    model: upstreamModel(p.model),
    info: {
      inputCostPerToken: info.input_cost_per_token,
      outputCostPerToken: info.output_cost_per_token,
      maxInputTokens: info.max_input_tokens,
      quality: info.quality,
    },
    tpm: entry.tpm ?? p.tpm,
    rpm: entry.rpm ?? p.rpm,
    weight: entry.weight ?? p.weight,
    order: entry.order ?? p.order,
    cooldownTime: p.cooldown_time,
    timeoutMs: ms(p.timeout),
    streamTimeoutMs: ms(p.stream_timeout ?? p.timeout),
  });
}
