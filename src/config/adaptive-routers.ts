/**
 * LiteLLM's adaptive router (`model: auto_router/adaptive_router`) read as an `auto` pool: its
 * `available_models` are the pool, its `weights` the cost/quality tradeoff, each candidate's
 * `model_info.adaptive_router_preferences.quality_tier` its quality. semroute ranks the pool
 * the way `auto` does and keeps a conversation on the model that first answered it; LiteLLM's
 * Thompson-sampling feedback loop (which needs its database) is not reproduced, and the
 * operator is told so at start.
 */
import { z } from 'zod';
import { ErrorCode, formatPath, SemrouteError } from '../errors.js';
import { entryName, type GatewayConfig } from './gateway-schema.js';
import { ADAPTIVE_ROUTER } from './semantic-models.js';

export interface AdaptiveRouter {
  /** The model name clients ask for. */
  readonly model: string;
  /** Groups it picks from. */
  readonly pool: readonly string[];
  /** cost_quality_tradeoff 0–10 from `weights.cost` (LiteLLM's weights sum to 1). */
  readonly tradeoff: number | undefined;
  /** Where a request goes when no pool member is left (adaptive_router_default_model). */
  readonly defaultModel: string | undefined;
}

const AdaptiveConfigSchema = z.looseObject({
  available_models: z.array(z.string().min(1)).min(1, 'needs at least one model'),
  weights: z
    .object({ quality: z.coerce.number().min(0), cost: z.coerce.number().min(0) })
    .refine((w) => w.quality + w.cost > 0, 'quality + cost must be above 0')
    .optional(),
});

/** Keys of adaptive_router_config that tune LiteLLM's bandit, which semroute does not run. */
const BANDIT_KEYS = ['exploration_rate', 'evaluation_priors', 'evaluation_prior_max_mass'];

export function adaptiveRouters(config: GatewayConfig, warn: (message: string) => void): AdaptiveRouter[] {
  const out: AdaptiveRouter[] = [];
  config.model_list.forEach((entry, i) => {
    const p = entry.litellm_params;
    if (p.model !== ADAPTIVE_ROUTER) return;
    const at = `model_list[${i}].litellm_params.adaptive_router_config`;
    const parsed = AdaptiveConfigSchema.safeParse(p.adaptive_router_config);
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      const path = issue.path.length === 0 ? at : `${at}.${formatPath(issue.path)}`;
      throw new SemrouteError(ErrorCode.CONFIG_INVALID, `${entryName(i, entry)}: ${path}: ${issue.message}`, {
        path,
        expected: 'adaptive_router_config: { available_models: [model_name, …], weights: { quality, cost } }',
      });
    }
    const { available_models: pool, weights } = parsed.data;
    const ignored = BANDIT_KEYS.filter((k) => k in parsed.data);
    warn(
      `${entryName(i, entry)}: ${ADAPTIVE_ROUTER} ranks ${pool.join(', ')} by cost and quality_tier, sticky per session; LiteLLM's learning from feedback is not reproduced${ignored.length ? ` (ignored: ${ignored.join(', ')})` : ''}`,
    );
    out.push({
      model: entry.model_name,
      pool,
      tradeoff: weights === undefined ? undefined : (10 * weights.cost) / (weights.quality + weights.cost),
      defaultModel: p.adaptive_router_default_model,
    });
  });
  return out;
}
