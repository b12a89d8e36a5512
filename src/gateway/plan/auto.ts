/**
 * OpenRouter-style `auto`: pick a model group from a pool (the request's `models`, or the
 * `auto-router` plugin's `allowed_models` wildcards, or every chat group), narrowed by the
 * semantic route when one is configured, then ranked by a blend of quality and cost:
 * tradeoff 0 = best quality, 10 = cheapest (OpenRouter's `cost_quality_tradeoff`).
 */
import { ErrorCode, SemrouteError } from '../../errors.js';
import type { Deployment } from '../deployment.js';
import { compileGlob } from '../glob.js';
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

/** Most patterns a request's `models` or `allowed_models` may hold, and the longest. */
export const MAX_POOL_PATTERNS = 64;
export const MAX_PATTERN_LENGTH = 256;

/** A client's list of model patterns, checked: strings, few and short (every one is matched). */
function patternList(value: unknown, path: string, skip?: ReadonlySet<string>): string[] | undefined {
  if (value === undefined || value === null) return undefined;
  if (!Array.isArray(value)) {
    throw new SemrouteError(ErrorCode.INPUT_INVALID, `${path} must be a list of model names or patterns`, {
      path,
      expected: 'a list of strings',
    });
  }
  if (value.length > MAX_POOL_PATTERNS) {
    throw new SemrouteError(
      ErrorCode.INPUT_INVALID,
      `${path} has ${value.length} entries; at most ${MAX_POOL_PATTERNS} are accepted`,
      { path, expected: `at most ${MAX_POOL_PATTERNS} model names or patterns` },
    );
  }
  value.forEach((m, i) => {
    if (typeof m !== 'string' || m.length === 0 || m.length > MAX_PATTERN_LENGTH) {
      throw new SemrouteError(
        ErrorCode.INPUT_INVALID,
        `${path}[${i}] must be a model name or pattern of 1 to ${MAX_PATTERN_LENGTH} characters`,
        { path: `${path}[${i}]`, expected: `a string of 1 to ${MAX_PATTERN_LENGTH} characters` },
      );
    }
  });
  return (value as string[]).filter((m) => !skip?.has(m));
}

/** Reads and checks `models` and the `auto-router` plugin of a request body. */
export function autoOptions(body: AutoRequest): AutoOptions {
  let allowedModels = patternList(body.models, 'models', AUTO_MODELS);
  let tradeoff: number | undefined;
  if (Array.isArray(body.plugins)) {
    body.plugins.forEach((plugin, i) => {
      if (plugin === null || typeof plugin !== 'object' || (plugin as { id?: unknown }).id !== 'auto-router')
        return;
      const p = plugin as { allowed_models?: unknown; cost_quality_tradeoff?: unknown };
      allowedModels = patternList(p.allowed_models, `plugins[${i}].allowed_models`) ?? allowedModels;
      if (typeof p.cost_quality_tradeoff === 'number')
        tradeoff = Math.min(10, Math.max(0, p.cost_quality_tradeoff));
    });
  }
  return { allowedModels: allowedModels?.length ? allowedModels : undefined, tradeoff };
}

/** The groups any pattern matches (glob.ts: linear time, whatever the pattern). */
export function filterPool(groups: readonly string[], patterns: readonly string[] | undefined): string[] {
  if (patterns === undefined) return [...groups];
  const globs = patterns.map(compileGlob);
  return groups.filter((g) => globs.some((glob) => glob.test(g)));
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
  return scoreByTradeoff(profiles, tradeoff).map((s) => s.profile);
}

/** The ranking with each candidate's blended score (the highest first), for explanations. */
export function scoreByTradeoff(
  profiles: readonly GroupProfile[],
  tradeoff: number,
): Array<{ profile: GroupProfile; score: number }> {
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
  return scored.map((s) => ({ profile: s.p, score: s.score }));
}
