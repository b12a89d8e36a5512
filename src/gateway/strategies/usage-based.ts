import { type BalancingStrategy, hasCapacity } from './strategy.js';

/**
 * usage-based-routing: among deployments with room in their tpm/rpm minute window, the one
 * with the lowest share of its tpm used (then rpm). None with room: undefined (a 429 for the caller).
 */
export const usageBased = (): BalancingStrategy => ({
  name: 'usage-based-routing',
  needs: { usage: true },
  pick({ candidates, usage, estimatedTokens, random }) {
    const open = candidates.filter((d) => hasCapacity(d, usage.get(d.id), estimatedTokens));
    if (open.length === 0) return undefined;
    const load = (d: (typeof open)[number]) => {
      const u = usage.get(d.id) ?? { requests: 0, tokens: 0 };
      const tpm = d.tpm === undefined ? 0 : u.tokens / d.tpm;
      const rpm = d.rpm === undefined ? 0 : u.requests / d.rpm;
      return Math.max(tpm, rpm) + (d.tpm === undefined && d.rpm === undefined ? u.tokens * 1e-9 : 0);
    };
    const best = Math.min(...open.map(load));
    const ties = open.filter((d) => load(d) <= best + 1e-12);
    return ties[Math.floor(random() * ties.length)];
  },
});
