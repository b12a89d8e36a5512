/**
 * Load balancing: picks one deployment among the healthy ones of a group. One file per
 * strategy, chosen by `routing_strategy` from a map; all pass `test/gateway/strategy.case.ts`.
 */
import type { Deployment } from '../deployment.js';
import type { Usage } from '../state/state-store.js';

export interface StrategyInput {
  /** Healthy candidates (not cooling), never empty. */
  candidates: readonly Deployment[];
  /** Tokens the request is expected to use (input estimate + max_tokens). */
  estimatedTokens: number;
  /** Filled when the strategy declares it needs them. */
  usage: Map<string, Usage>;
  latency: Map<string, number>;
  inFlight: Map<string, number>;
  /** Injected randomness, 0 ≤ r < 1. */
  random: () => number;
}

export interface BalancingStrategy {
  readonly name: string;
  /** State the router must fetch before `pick` (fetching costs a round trip with Redis). */
  readonly needs: { usage?: boolean; latency?: boolean; inFlight?: boolean };
  /** The chosen deployment, or undefined when none may take the request (limits reached). */
  pick(input: StrategyInput): Deployment | undefined;
}

export interface StrategyOptions {
  /** Latency window in ms (routing_strategy_args.ttl, given in seconds). Default 60 s. */
  ttlMs?: number | undefined;
  /** Deployments within this fraction of the fastest are chosen among at random. Default 0. */
  lowestLatencyBuffer?: number | undefined;
}

/** Weighted random choice; weights ≤ 0 count as 0, all-zero falls back to uniform. */
export function weightedChoice<T>(items: readonly T[], weight: (item: T) => number, random: () => number): T {
  const weights = items.map((i) => Math.max(0, weight(i)));
  const total = weights.reduce((a, b) => a + b, 0);
  if (total <= 0) return items[Math.floor(random() * items.length)]!;
  let r = random() * total;
  for (let i = 0; i < items.length; i++) {
    r -= weights[i]!;
    if (r < 0) return items[i]!;
  }
  return items[items.length - 1]!;
}

/** True when a deployment has room for one more request of `tokens` in its rpm/tpm window. */
export function hasCapacity(d: Deployment, usage: Usage | undefined, tokens: number): boolean {
  const u = usage ?? { requests: 0, tokens: 0 };
  if (d.rpm !== undefined && u.requests + 1 > d.rpm) return false;
  if (d.tpm !== undefined && u.tokens + tokens > d.tpm) return false;
  return true;
}
