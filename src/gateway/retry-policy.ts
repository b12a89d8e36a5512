/**
 * How many times a failure of a given kind is retried: `retry_policy` and
 * `model_group_retry_policy` (LiteLLM's keys, with or without the `Retries` suffix), else
 * `num_retries`. Client faults (bad request, authentication, context window, content policy)
 * are never retried on the same group: they would fail again.
 */
import type { UpstreamErrorKind } from '../errors.js';
import type { GatewayConfig } from './config.js';

const NEVER_RETRIED: ReadonlySet<UpstreamErrorKind> = new Set([
  'BadRequestError',
  'AuthenticationError',
  'PermissionDeniedError',
  'ContextWindowExceededError',
  'ContentPolicyViolationError',
]);

/** LiteLLM names some kinds differently in retry_policy; both spellings are accepted. */
const ALIASES: Partial<Record<UpstreamErrorKind, string[]>> = {
  Timeout: ['TimeoutError', 'Timeout'],
  ServiceUnavailableError: ['ServiceUnavailableError', 'InternalServerError'],
  APIConnectionError: ['APIConnectionError', 'InternalServerError'],
};

function lookup(
  policy: Record<string, number | { max_retries: number }> | undefined,
  kind: UpstreamErrorKind,
): number | undefined {
  if (policy === undefined) return undefined;
  for (const name of ALIASES[kind] ?? [kind]) {
    for (const key of [name, `${name}Retries`, `${name.replace(/Error$/, '')}ErrorRetries`]) {
      const entry = policy[key];
      if (entry !== undefined) return typeof entry === 'number' ? entry : entry.max_retries;
    }
  }
  return undefined;
}

export function retriesFor(config: GatewayConfig, group: string, kind: UpstreamErrorKind): number {
  if (NEVER_RETRIED.has(kind)) return 0;
  return (
    lookup(config.model_group_retry_policy?.[group], kind) ??
    lookup(config.retry_policy, kind) ??
    config.num_retries
  );
}

/** Kinds that move to the next fallback group. A bad request is the caller's to fix, everywhere. */
export function fallsBack(kind: UpstreamErrorKind): boolean {
  return kind !== 'BadRequestError';
}
