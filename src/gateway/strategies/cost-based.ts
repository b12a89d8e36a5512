import { type BalancingStrategy, hasCapacity } from './strategy.js';

/**
 * cost-based-routing: the cheapest deployment by model_info costs (input + output per token)
 * that still has rpm/tpm room. Unknown costs sort last.
 */
export const costBased = (): BalancingStrategy => ({
  name: 'cost-based-routing',
  needs: { usage: true },
  pick({ candidates, usage, estimatedTokens, random }) {
    const open = candidates.filter((d) => hasCapacity(d, usage.get(d.id), estimatedTokens));
    if (open.length === 0) return undefined;
    const cost = (d: (typeof open)[number]) =>
      d.info.inputCostPerToken === undefined && d.info.outputCostPerToken === undefined
        ? Number.POSITIVE_INFINITY
        : (d.info.inputCostPerToken ?? 0) + (d.info.outputCostPerToken ?? 0);
    const cheapest = Math.min(...open.map(cost));
    const ties = open.filter((d) => cost(d) === cheapest);
    return ties[Math.floor(random() * ties.length)];
  },
});
