/**
 * What an answer cost, from its token usage and the deployment's prices (`model_info`'s
 * `input_cost_per_token` / `output_cost_per_token`, or LiteLLM's same keys in litellm_params),
 * and what a cost-quality decision saved: the same usage priced at the most expensive candidate
 * (its cheapest deployment), minus the cost. Undefined when a price is not known: a figure is
 * never made up.
 */
import type { Deployment } from './deployment.js';
import type { TokenUsage } from './events.js';

export function priced(d: Deployment | undefined): boolean {
  return (
    d !== undefined && (d.info.inputCostPerToken !== undefined || d.info.outputCostPerToken !== undefined)
  );
}

/** USD for `usage` at `d`'s prices; undefined without prices. */
export function costOf(d: Deployment | undefined, usage: TokenUsage): number | undefined {
  if (d === undefined || !priced(d)) return undefined;
  return usage.prompt * (d.info.inputCostPerToken ?? 0) + usage.completion * (d.info.outputCostPerToken ?? 0);
}

/** The cheapest priced deployment of a group, by input + output price. */
export function cheapestPriced(deployments: readonly Deployment[]): Deployment | undefined {
  let best: Deployment | undefined;
  let price = Number.POSITIVE_INFINITY;
  for (const d of deployments) {
    if (!priced(d)) continue;
    const p = (d.info.inputCostPerToken ?? 0) + (d.info.outputCostPerToken ?? 0);
    if (p < price) {
      price = p;
      best = d;
    }
  }
  return best;
}

/**
 * The most one call to any of `deployments` can cost: `inputTokens` in and up to `outputCap`
 * tokens out (else each model's max_output_tokens, else `fallbackCap`). 0 when none is priced.
 */
export function mostCostly(
  deployments: readonly Deployment[],
  inputTokens: number,
  outputCap: number | undefined,
  fallbackCap: number,
): number {
  let most = 0;
  for (const d of deployments) {
    if (!priced(d)) continue;
    const out = outputCap ?? d.info.maxOutputTokens ?? fallbackCap;
    most = Math.max(
      most,
      inputTokens * (d.info.inputCostPerToken ?? 0) + out * (d.info.outputCostPerToken ?? 0),
    );
  }
  return most;
}
