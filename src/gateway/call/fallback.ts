/**
 * Fallbacks between groups: when the planned group fails (after its retries), the next group of
 * the list its failure kind names (`context_window_fallbacks`, `content_policy_fallbacks`), else
 * `fallbacks`, else `default_fallbacks`; `auto` falls back within its own pool. A group a
 * virtual key may not use is skipped. When every group fails, the error says why each did.
 */
import type { GatewayConfig } from '../../config/gateway-schema.js';
import { SemrouteError, UpstreamError } from '../../errors.js';
import { FAILURE_POLICY, fallsBack } from '../failure-policy.js';
import type { ModelTable } from '../models.js';

export interface FallbackDeps {
  config: GatewayConfig;
  table: ModelTable;
  onFallback?: ((from: string, to: string, error: SemrouteError) => void) | undefined;
}

export interface FallbackPlan {
  group: string;
  /** `auto`'s pool, when the request is `auto`. */
  pool: string[] | undefined;
  /** Names whose lists apply when the planned group has none (a complexity router's name). */
  aliases?: readonly string[] | undefined;
  /** False: the planned group only (OpenRouter's provider.allow_fallbacks: false). */
  fallbacks?: boolean | undefined;
  /** The request's own fallback list (OpenRouter's `models` beside a named model): first of all. */
  requested?: readonly string[] | undefined;
  allowedModels: readonly string[] | undefined;
  /** Upstream calls made so far, for the final error. */
  attempts(): number;
}

/** The groups to try after `group` failed with `error`. */
export function fallbacksFor(
  deps: FallbackDeps,
  group: string,
  error: SemrouteError,
  pool: readonly string[] | undefined,
  aliases: readonly string[] = [],
): string[] {
  const { config, table } = deps;
  const from = (list: GatewayConfig['fallbacks']) => {
    for (const name of [group, ...aliases]) {
      const found = list.find((f) => f[name] !== undefined)?.[name];
      if (found !== undefined) return found;
    }
    return undefined;
  };
  const listName = error instanceof UpstreamError ? FAILURE_POLICY[error.kind].fallbackList : undefined;
  const specific = listName === undefined ? undefined : from(config[listName]);
  const chain = (specific ?? from(config.fallbacks) ?? config.default_fallbacks).map((g) =>
    table.aliasTarget(g),
  );
  return chain.length > 0 || pool === undefined ? chain : pool.filter((g) => g !== group);
}

/** Calls `callGroup` on the planned group, then on fallbacks while failures allow it. */
export async function withFallbacks<T>(
  deps: FallbackDeps,
  plan: FallbackPlan,
  callGroup: (group: string, first: boolean) => Promise<T>,
): Promise<{ result: T; group: string; tried: string[] }> {
  const tried: string[] = [];
  /** Why each group failed, for the error when none is left. */
  const failures: string[] = [];
  let chain: string[] | undefined;
  let group = plan.group;
  for (;;) {
    try {
      return { result: await callGroup(group, tried.length === 0), group, tried };
    } catch (error) {
      if (!(error instanceof SemrouteError) || !fallsBack(error) || plan.fallbacks === false) throw error;
      chain ??=
        plan.requested !== undefined
          ? plan.requested.map((g) => deps.table.aliasTarget(g))
          : fallbacksFor(deps, plan.group, error, plan.pool, plan.aliases);
      tried.push(group);
      failures.push(`${group}: ${error instanceof UpstreamError ? `${error.kind}: ` : ''}${error.message}`);
      const allowed = plan.allowedModels;
      const next = chain.find((g) => !tried.includes(g) && (allowed === undefined || allowed.includes(g)));
      if (next === undefined)
        throw failures.length > 1 ? everyGroupFailed(error, failures, plan.attempts()) : error;
      deps.onFallback?.(group, next, error);
      group = next;
    }
  }
}

/** The error when the group and every fallback failed: the last one's kind and status, every group's reason. */
function everyGroupFailed(last: SemrouteError, failures: string[], attempts: number): SemrouteError {
  const message = `every model failed (${failures.length} groups, ${attempts} upstream calls): ${failures.join(' | ')}`;
  if (last instanceof UpstreamError)
    return new UpstreamError(last.kind, message, last.status, last.headers, { cause: last });
  return new SemrouteError(last.code, message, { cause: last, details: last.details });
}
