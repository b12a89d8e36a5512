/**
 * OpenRouter's `provider` object (provider routing), read as OpenRouter documents it and applied
 * to what semroute has: the deployments of a group (each one a provider of the model) and, for
 * `auto`, the candidate groups. `sort`: `price` (the cheapest first), `latency` (the lowest
 * measured call time first) or `throughput` (the most output tokens per second measured first);
 * `order`: deployments (by id or provider name) tried first, in that order; `only` / `ignore`:
 * the deployments allowed / left out; `allow_fallbacks: false`: nothing beyond them — no other
 * deployment, no fallback group. A bad value is the request's 400 naming the field.
 * OpenRouter's other keys (data_collection, quantizations, max_price, …) are read and ignored.
 */
import { ErrorCode, SemrouteError } from '../../errors.js';
import type { Deployment } from '../deployment.js';

export const PROVIDER_SORTS = ['price', 'latency', 'throughput'] as const;
export type ProviderSort = (typeof PROVIDER_SORTS)[number];

export interface ProviderPreferences {
  readonly sort: ProviderSort | undefined;
  readonly order: readonly string[] | undefined;
  readonly only: readonly string[] | undefined;
  readonly ignore: readonly string[] | undefined;
  readonly allowFallbacks: boolean;
}

const names = (value: unknown, path: string): string[] | undefined => {
  if (value === undefined || value === null) return undefined;
  if (
    !Array.isArray(value) ||
    value.length > 64 ||
    value.some((v) => typeof v !== 'string' || v.length === 0 || v.length > 256)
  )
    throw new SemrouteError(
      ErrorCode.INPUT_INVALID,
      `${path} must be a list of provider or deployment names`,
      {
        path,
        expected: 'up to 64 names',
      },
    );
  return value as string[];
};

/** The request's `provider` object, checked; undefined when it has none. */
export function providerPreferences(value: unknown): ProviderPreferences | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'object' || Array.isArray(value))
    throw new SemrouteError(
      ErrorCode.INPUT_INVALID,
      'provider must be an object (OpenRouter provider routing)',
      {
        path: 'provider',
        expected: '{ sort, order, only, ignore, allow_fallbacks }',
      },
    );
  const p = value as Record<string, unknown>;
  let sort: ProviderSort | undefined;
  if (p.sort !== undefined && p.sort !== null) {
    // OpenRouter also takes { by: "price" }.
    const s = typeof p.sort === 'object' ? (p.sort as { by?: unknown }).by : p.sort;
    if (typeof s !== 'string' || !(PROVIDER_SORTS as readonly string[]).includes(s))
      throw new SemrouteError(
        ErrorCode.INPUT_INVALID,
        `provider.sort: ${JSON.stringify(s)} is not price, latency or throughput`,
        {
          path: 'provider.sort',
          expected: PROVIDER_SORTS.join(' | '),
        },
      );
    sort = s as ProviderSort;
  }
  if (p.allow_fallbacks !== undefined && p.allow_fallbacks !== null && typeof p.allow_fallbacks !== 'boolean')
    throw new SemrouteError(ErrorCode.INPUT_INVALID, 'provider.allow_fallbacks must be true or false', {
      path: 'provider.allow_fallbacks',
      expected: 'true or false',
    });
  return Object.freeze({
    sort,
    order: names(p.order, 'provider.order'),
    only: names(p.only, 'provider.only'),
    ignore: names(p.ignore, 'provider.ignore'),
    allowFallbacks: p.allow_fallbacks !== false,
  });
}

/** Whether a deployment goes by one of these names: its id, its provider, or its upstream model. */
export function named(d: Deployment, list: readonly string[]): boolean {
  const provider = d.target?.provider.name;
  return list.some((n) => n === d.id || n === provider || n === d.target?.model || n === d.group);
}

/** The deployments `only` and `ignore` allow. */
export function allowedBy(
  prefs: ProviderPreferences | undefined,
  deployments: readonly Deployment[],
): Deployment[] {
  if (prefs === undefined) return [...deployments];
  return deployments.filter(
    (d) =>
      (prefs.only === undefined || named(d, prefs.only)) &&
      (prefs.ignore === undefined || !named(d, prefs.ignore)),
  );
}

/** USD per token of a deployment (input + output), Infinity when it has no price. */
export const priceOf = (d: Deployment) =>
  d.info.inputCostPerToken === undefined && d.info.outputCostPerToken === undefined
    ? Number.POSITIVE_INFINITY
    : (d.info.inputCostPerToken ?? 0) + (d.info.outputCostPerToken ?? 0);
