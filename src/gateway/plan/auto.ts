/**
 * OpenRouter-style `auto`: pick a model group from a pool (the request's `models`, or the
 * `auto-router` plugin's `allowed_models` wildcards, or every chat group), narrowed by the
 * semantic route when one is configured, then ranked by a blend of quality and cost:
 * tradeoff 0 = best quality, 10 = cheapest (OpenRouter's `cost_quality_tradeoff`).
 */
import type { Deployment } from '../deployment.js';
import { AUTO_MODELS } from '../models.js';

export interface AutoRequest {
  models?: unknown;
  plugins?: unknown;
  session_id?: unknown;
  messages?: unknown;
}

export interface AutoOptions {
  allowedModels: string[] | undefined;
  tradeoff: number | undefined;
}

/** Reads `models` and the `auto-router` plugin from a request body. */
export function autoOptions(body: AutoRequest): AutoOptions {
  let allowedModels: string[] | undefined;
  let tradeoff: number | undefined;
  if (Array.isArray(body.models)) {
    allowedModels = body.models.filter((m): m is string => typeof m === 'string' && !AUTO_MODELS.has(m));
  }
  if (Array.isArray(body.plugins)) {
    for (const plugin of body.plugins) {
      if (plugin === null || typeof plugin !== 'object' || (plugin as { id?: unknown }).id !== 'auto-router')
        continue;
      const p = plugin as { allowed_models?: unknown; cost_quality_tradeoff?: unknown };
      if (Array.isArray(p.allowed_models))
        allowedModels = p.allowed_models.filter((m): m is string => typeof m === 'string');
      if (typeof p.cost_quality_tradeoff === 'number')
        tradeoff = Math.min(10, Math.max(0, p.cost_quality_tradeoff));
    }
  }
  return { allowedModels: allowedModels?.length ? allowedModels : undefined, tradeoff };
}

/** OpenRouter's pattern syntax: `*` matches any run of characters, everything else literally. */
export function wildcardMatcher(pattern: string): (name: string) => boolean {
  const source = pattern
    .split('*')
    .map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
    .join('.*');
  const re = new RegExp(`^${source}$`);
  return (name) => re.test(name);
}

export function filterPool(groups: readonly string[], patterns: readonly string[] | undefined): string[] {
  if (patterns === undefined) return [...groups];
  const matchers = patterns.map(wildcardMatcher);
  return groups.filter((g) => matchers.some((m) => m(g)));
}

export interface GroupProfile {
  group: string;
  /** 0–10, higher is better; undefined when unknown. */
  quality: number | undefined;
  /** USD per token (input + output), cheapest deployment; undefined when unknown. */
  cost: number | undefined;
}

export function profileGroup(
  group: string,
  deployments: readonly Deployment[],
  routeQuality?: number,
): GroupProfile {
  const qualities = deployments.map((d) => d.info.quality).filter((q): q is number => q !== undefined);
  const costs = deployments
    .filter((d) => d.info.inputCostPerToken !== undefined || d.info.outputCostPerToken !== undefined)
    .map((d) => (d.info.inputCostPerToken ?? 0) + (d.info.outputCostPerToken ?? 0));
  return {
    group,
    quality: routeQuality ?? (qualities.length ? Math.max(...qualities) : undefined),
    cost: costs.length ? Math.min(...costs) : undefined,
  };
}

/**
 * Ranks candidates: score = (1 − w)·quality + w·cheapness, both scaled to 0–1 across the
 * candidates (unknown quality counts as the middle, unknown cost as the most expensive),
 * w = tradeoff / 10. Ties keep the given order.
 */
export function rankByTradeoff(profiles: readonly GroupProfile[], tradeoff: number): GroupProfile[] {
  const w = tradeoff / 10;
  const costs = profiles.map((p) => p.cost).filter((c): c is number => c !== undefined);
  const [minCost, maxCost] = costs.length ? [Math.min(...costs), Math.max(...costs)] : [0, 0];
  const scored = profiles.map((p, i) => {
    const quality = (p.quality ?? 5) / 10;
    const cheapness =
      p.cost === undefined ? 0 : maxCost === minCost ? 1 : (maxCost - p.cost) / (maxCost - minCost);
    return { p, i, score: (1 - w) * quality + w * cheapness };
  });
  scored.sort((a, b) => b.score - a.score || a.i - b.i);
  return scored.map((s) => s.p);
}
