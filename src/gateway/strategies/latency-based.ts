import type { BalancingStrategy, StrategyOptions } from './strategy.js';

/**
 * latency-based-routing: the deployment with the lowest mean latency over the last `ttl`;
 * deployments within `lowest_latency_buffer` of the fastest share the traffic at random.
 * Deployments with no samples yet are tried first, so every one gets measured.
 */
export const latencyBased = (options: StrategyOptions = {}): BalancingStrategy => ({
  name: 'latency-based-routing',
  needs: { latency: true },
  pick({ candidates, latency, random }) {
    const unmeasured = candidates.filter((d) => !latency.has(d.id));
    if (unmeasured.length > 0) return unmeasured[Math.floor(random() * unmeasured.length)];
    const fastest = Math.min(...candidates.map((d) => latency.get(d.id)!));
    const limit = fastest * (1 + (options.lowestLatencyBuffer ?? 0));
    const near = candidates.filter((d) => latency.get(d.id)! <= limit);
    return near[Math.floor(random() * near.length)];
  },
});
