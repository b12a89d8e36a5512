import type { BalancingStrategy } from './strategy.js';

/** least-busy: the deployment with the fewest requests in flight; ties at random. */
export const leastBusy = (): BalancingStrategy => ({
  name: 'least-busy',
  needs: { inFlight: true },
  pick({ candidates, inFlight, random }) {
    const least = Math.min(...candidates.map((d) => inFlight.get(d.id) ?? 0));
    const ties = candidates.filter((d) => (inFlight.get(d.id) ?? 0) === least);
    return ties[Math.floor(random() * ties.length)];
  },
});
