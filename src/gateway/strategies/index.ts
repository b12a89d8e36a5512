import type { GatewayConfig } from '../../config/gateway-schema.js';
import { ErrorCode, SemrouteError } from '../../errors.js';
import { costBased } from './cost-based.js';
import { latencyBased } from './latency-based.js';
import { leastBusy } from './least-busy.js';
import { simpleShuffle } from './simple-shuffle.js';
import type { BalancingStrategy, StrategyOptions } from './strategy.js';
import { usageBased } from './usage-based.js';

export type StrategyFactory = (options: StrategyOptions) => BalancingStrategy;

/** routing_strategy names, as LiteLLM spells them. */
export const STRATEGIES: Readonly<Record<string, StrategyFactory>> = Object.freeze({
  'simple-shuffle': simpleShuffle,
  'usage-based-routing': usageBased,
  'usage-based-routing-v2': usageBased,
  'latency-based-routing': latencyBased,
  'least-busy': leastBusy,
  'cost-based-routing': costBased,
});

/** The strategy `routing_strategy` names (custom ones first), or CONFIG_INVALID listing the known ones. */
export function createStrategy(
  config: GatewayConfig,
  custom: Readonly<Record<string, StrategyFactory>> = {},
): BalancingStrategy {
  const name = config.routing_strategy;
  const factory = custom[name] ?? STRATEGIES[name];
  if (factory === undefined) {
    const known = [...Object.keys(STRATEGIES), ...Object.keys(custom)];
    throw new SemrouteError(
      ErrorCode.CONFIG_INVALID,
      `router_settings.routing_strategy: "${name}" is unknown; use one of ${known.join(', ')}`,
      { path: 'router_settings.routing_strategy', expected: known.join(' | ') },
    );
  }
  return factory({
    ttlMs: (config.routing_strategy_args?.ttl ?? 60) * 1000,
    lowestLatencyBuffer: config.routing_strategy_args?.lowest_latency_buffer,
  });
}
