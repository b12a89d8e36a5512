/**
 * Picking a deployment of a group: healthy ones only (cooling ones wait, or fail with when the
 * first returns), untried ones first, the lowest `order` first, a sticky one if it is there, then
 * the balancing strategy. The pick counts the request against the deployment's rpm/tpm window in
 * the same atomic step that checks the limit; one that filled up meanwhile (here or on another
 * instance) is set aside and the pick repeated.
 */
import type { GatewayConfig } from '../../config/gateway-schema.js';
import { ErrorCode, SemrouteError, UpstreamError } from '../../errors.js';
import type { Deployment } from '../deployment.js';
import type { Health } from '../health.js';
import type { ModelTable } from '../models.js';
import type { UsageCounters } from '../state/state-store.js';
import type { BalancingStrategy } from '../strategies/strategy.js';
import { filterByTags } from './tags.js';
import {
  allowedBy,
  named,
  priceOf,
  type ProviderPreferences,
  type ProviderSort,
} from '../plan/provider-preferences.js';

/** Where a deployment's throughput samples (output tokens per second) are kept, beside its latency. */
export const throughputKey = (id: string) => `${id}:tokens_per_second`;

export interface PickerDeps {
  config: GatewayConfig;
  table: ModelTable;
  health: Health;
  store: UsageCounters;
  strategy: BalancingStrategy;
  now: () => number;
  random: () => number;
  sleep: (ms: number, signal?: AbortSignal) => Promise<void>;
}

export interface PickOptions {
  /** Tokens the request is expected to use (counted against tpm). */
  tokens: number;
  /** A deployment to take when it is healthy (a sticky session's). */
  prefer?: string | undefined;
  /** Deployments already tried by this request: others first. */
  exclude?: ReadonlySet<string> | undefined;
  signal?: AbortSignal | undefined;
  /** Count the request against rpm/tpm. Default true; false only looks (explain). */
  reserve?: boolean | undefined;
  /** The request's tags (tag routing, when enabled). */
  tags?: readonly string[] | undefined;
  /** OpenRouter's provider preferences (plan/provider-preferences.ts). */
  provider?: ProviderPreferences | undefined;
}

export class Picker {
  constructor(private readonly deps: PickerDeps) {}

  async pick(group: string, options: PickOptions): Promise<Deployment> {
    const { config, table, health, store, now, sleep } = this.deps;
    const listed = table.deployments(group);
    if (listed.length === 0) throw table.notFound(group);
    // Deployments of a provider semroute cannot call are never picked; a group of only those
    // is the request's 400 (or its fallback's turn).
    const members = listed.filter((d) => d.target?.unavailable === undefined);
    if (members.length === 0)
      throw new SemrouteError(ErrorCode.PROVIDER_UNSUPPORTED, `${group}: ${listed[0]!.target!.unavailable}`, {
        path: 'model',
        expected: 'a model served by a provider semroute calls',
      });
    const tagged = config.enable_tag_filtering
      ? filterByTags(group, members, options.tags, config.tag_filtering_match_any)
      : members;
    const all = allowedBy(options.provider, tagged);
    if (all.length === 0) {
      throw new SemrouteError(
        ErrorCode.INPUT_INVALID,
        `${group}: no deployment is left by the request's provider.only / provider.ignore (deployments: ${tagged.map((d) => `${d.id} (${d.target?.provider.name ?? 'wildcard'})`).join(', ')})`,
        { path: 'provider.only', expected: 'a deployment id or provider name of the group' },
      );
    }
    const full = new Set<string>();
    for (;;) {
      const { healthy, earliestReturn } = await health.available(all);
      if (healthy.length > 0) {
        const open = healthy.filter((d) => !full.has(d.id));
        const chosen = open.length === 0 ? undefined : await this.choose(open, options);
        if (chosen === undefined) {
          throw new UpstreamError(
            'RateLimitError',
            `${group}: every deployment is at its rpm/tpm limit`,
            429,
            {
              'retry-after': String(Math.ceil((60_000 - (now() % 60_000)) / 1000)),
            },
          );
        }
        if (options.reserve === false || (await store.reserve(chosen.id, options.tokens, chosen)))
          return chosen;
        full.add(chosen.id);
        continue;
      }
      const wait = (earliestReturn ?? now()) - now();
      if (wait > 0 && wait <= config.wait_for_cooldown_seconds * 1000) {
        await sleep(wait, options.signal);
        continue;
      }
      const at = new Date(earliestReturn ?? now()).toISOString();
      // What cooled them, as far as this process saw it.
      const last = all
        .map((d) => health.lastFailure(d.id))
        .filter((f) => f !== undefined)
        .sort((a, b) => b.at - a.at)[0];
      const why =
        last === undefined
          ? ' (cooled by another instance, or before this process started)'
          : `; the last failure: ${last.kind}${last.status === undefined ? '' : ` (HTTP ${last.status})`}: ${last.message.slice(0, 300)}`;
      throw new SemrouteError(
        ErrorCode.NO_DEPLOYMENT_AVAILABLE,
        `All ${all.length} deployment(s) of "${group}" are cooling down; the first returns in ${Math.max(0, wait / 1000).toFixed(1)} s (${at})${why}`,
        { details: { group, retryAt: earliestReturn, lastFailure: last } },
      );
    }
  }

  /** The first of `pool` by OpenRouter's sort: price, measured latency, or measured throughput. */
  private async sorted(pool: readonly Deployment[], sort: ProviderSort): Promise<Deployment> {
    const { config, store } = this.deps;
    if (sort === 'price') return [...pool].sort((a, b) => priceOf(a) - priceOf(b))[0]!;
    const ttl = (config.routing_strategy_args?.ttl ?? 60) * 1000;
    const ids = pool.map((d) => (sort === 'latency' ? d.id : throughputKey(d.id)));
    const measured = await store.latencies(ids, ttl);
    // Unmeasured deployments go last for latency, first to be measured for throughput: neither
    // is known, so they keep config order behind those that are.
    const value = (d: Deployment) => measured.get(sort === 'latency' ? d.id : throughputKey(d.id));
    return [...pool].sort((a, b) => {
      const va = value(a);
      const vb = value(b);
      if (va === undefined || vb === undefined)
        return (va === undefined ? 1 : 0) - (vb === undefined ? 1 : 0);
      return sort === 'latency' ? va - vb : vb - va;
    })[0]!;
  }

  /** The strategy's choice among healthy deployments: untried first, lowest `order`, a preferred one if present. */
  private async choose(
    healthy: readonly Deployment[],
    options: PickOptions,
  ): Promise<Deployment | undefined> {
    const { config, store, strategy, random } = this.deps;
    const exclude = options.exclude;
    const fresh = exclude === undefined ? healthy : healthy.filter((d) => !exclude.has(d.id));
    let pool = fresh.length > 0 ? fresh : healthy;
    const lowestOrder = Math.min(...pool.map((d) => d.order ?? 1));
    pool = pool.filter((d) => (d.order ?? 1) === lowestOrder);
    const preferred = options.prefer === undefined ? undefined : pool.find((d) => d.id === options.prefer);
    if (preferred) return preferred;
    const prefs = options.provider;
    if (prefs?.order !== undefined) {
      const first = prefs.order.map((n) => pool.find((d) => named(d, [n]))).find((d) => d !== undefined);
      if (first !== undefined) return first;
    }
    if (prefs?.sort !== undefined) return this.sorted(pool, prefs.sort);
    const ids = pool.map((d) => d.id);
    const needs = strategy.needs;
    const [usage, latency, inFlight] = await Promise.all([
      needs.usage ? store.usage(ids) : new Map(),
      needs.latency ? store.latencies(ids, (config.routing_strategy_args?.ttl ?? 60) * 1000) : new Map(),
      needs.inFlight ? store.inFlight(ids) : new Map(),
    ]);
    return strategy.pick({
      candidates: pool,
      estimatedTokens: options.tokens,
      usage,
      latency,
      inFlight,
      random,
    });
  }
}
