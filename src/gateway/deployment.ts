/** A deployment: one upstream endpoint serving a model group. */

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
  /** Request timeout in ms. */
  readonly timeoutMs: number | undefined;
}
