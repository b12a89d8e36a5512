import { type BalancingStrategy, weightedChoice } from './strategy.js';

/**
 * LiteLLM's default: random, weighted by `weight`, else `rpm`, else `tpm`, else uniform.
 * It reads no state, so it costs nothing per request; limits are usage-based-routing's job.
 */
export const simpleShuffle = (): BalancingStrategy => ({
  name: 'simple-shuffle',
  needs: {},
  pick({ candidates, random }) {
    const key = candidates.some((d) => d.weight !== undefined)
      ? (d: (typeof candidates)[number]) => d.weight ?? 0
      : candidates.some((d) => d.rpm !== undefined)
        ? (d: (typeof candidates)[number]) => d.rpm ?? 0
        : (d: (typeof candidates)[number]) => d.tpm ?? 0;
    return weightedChoice(candidates, key, random);
  },
});
