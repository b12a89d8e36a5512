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
