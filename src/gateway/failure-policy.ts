/**
 * What each kind of upstream failure means for the gateway, in one table: whether it is retried
 * on the same group, whether it counts against the deployment (and cools it at once), whether
 * the request moves on to a fallback group, and which fallback list applies. Retries per kind
 * come from `retry_policy` / `model_group_retry_policy` (LiteLLM's keys), else `num_retries`.
 */
import type { GatewayConfig } from '../config/gateway-schema.js';
import { ErrorCode, type SemrouteError, UpstreamError, type UpstreamErrorKind } from '../errors.js';

export interface KindPolicy {
  /** Retried on the same group (another deployment when it has one). Client faults never are. */
  readonly retried: boolean;
  /** Counts toward the deployment's `allowed_fails`: the caller's faults do not. */
  readonly counted: boolean;
  /** Cools the deployment at once, without waiting for `allowed_fails`. */
  readonly coolsAtOnce: boolean;
  /** Moves to the next fallback group. A bad request is the caller's to fix, everywhere. */
  readonly fallsBack: boolean;
  /** The fallback list tried first for this kind (else `fallbacks`, then `default_fallbacks`). */
  readonly fallbackList?: 'context_window_fallbacks' | 'content_policy_fallbacks';
  /** Names this kind goes by in `retry_policy` (LiteLLM spells some differently). */
  readonly retryPolicyNames: readonly string[];
}

const policy = (p: Partial<KindPolicy> & Pick<KindPolicy, 'retryPolicyNames'>): KindPolicy =>
  Object.freeze({ retried: true, counted: true, coolsAtOnce: false, fallsBack: true, ...p });

export const FAILURE_POLICY: Readonly<Record<UpstreamErrorKind, KindPolicy>> = Object.freeze({
  BadRequestError: policy({
    retried: false,
    counted: false,
    fallsBack: false,
    retryPolicyNames: ['BadRequestError'],
  }),
  AuthenticationError: policy({
    retried: false,
    coolsAtOnce: true,
    retryPolicyNames: ['AuthenticationError'],
  }),
  PermissionDeniedError: policy({ retried: false, retryPolicyNames: ['PermissionDeniedError'] }),
  NotFoundError: policy({ coolsAtOnce: true, retryPolicyNames: ['NotFoundError'] }),
  ContextWindowExceededError: policy({
    retried: false,
    counted: false,
    fallbackList: 'context_window_fallbacks',
    retryPolicyNames: ['ContextWindowExceededError'],
  }),
  ContentPolicyViolationError: policy({
    retried: false,
    counted: false,
    fallbackList: 'content_policy_fallbacks',
    retryPolicyNames: ['ContentPolicyViolationError'],
  }),
  RateLimitError: policy({ coolsAtOnce: true, retryPolicyNames: ['RateLimitError'] }),
  Timeout: policy({ retryPolicyNames: ['TimeoutError', 'Timeout'] }),
  RequestTimeout: policy({ retried: false, counted: false, fallsBack: false, retryPolicyNames: [] }),
  InternalServerError: policy({ retryPolicyNames: ['InternalServerError'] }),
  ServiceUnavailableError: policy({ retryPolicyNames: ['ServiceUnavailableError', 'InternalServerError'] }),
  APIConnectionError: policy({ retryPolicyNames: ['APIConnectionError', 'InternalServerError'] }),
});

/**
 * semroute's own errors that say "this group cannot serve it now, another may": its deployments
 * are all cooling, none carries the request's tags, or all are of a provider semroute cannot call. Every other one of ours (a bad request
 * field, a provider without that endpoint) is the request's, and no fallback changes it.
 */
const FALLS_BACK_CODES: ReadonlySet<string> = new Set([
  ErrorCode.NO_DEPLOYMENT_AVAILABLE,
  ErrorCode.TAGS_NOT_MATCHED,
  ErrorCode.PROVIDER_UNSUPPORTED,
]);

/** Whether a group's failure moves the request to the next fallback group. */
export function fallsBack(error: SemrouteError): boolean {
  if (error instanceof UpstreamError) return FAILURE_POLICY[error.kind].fallsBack;
  return FALLS_BACK_CODES.has(error.code);
}

/** An upstream status that cools at once whatever its kind (408: the upstream timed us out). */
const COOLS_AT_ONCE_STATUS: ReadonlySet<number> = new Set([408]);

export function coolsAtOnce(kind: UpstreamErrorKind, status: number | undefined): boolean {
  return FAILURE_POLICY[kind].coolsAtOnce || (status !== undefined && COOLS_AT_ONCE_STATUS.has(status));
}

type RetryPolicy = Readonly<Record<string, number | { max_retries: number }>>;

function lookup(policy: RetryPolicy | undefined, kind: UpstreamErrorKind): number | undefined {
  if (policy === undefined) return undefined;
  for (const name of FAILURE_POLICY[kind].retryPolicyNames) {
    for (const key of [name, `${name}Retries`, `${name.replace(/Error$/, '')}ErrorRetries`]) {
      const entry = policy[key];
      if (entry !== undefined) return typeof entry === 'number' ? entry : entry.max_retries;
    }
  }
  return undefined;
}

/** How many times a failure of this kind is retried within the group. */
export function retriesFor(config: GatewayConfig, group: string, kind: UpstreamErrorKind): number {
  if (!FAILURE_POLICY[kind].retried) return 0;
  return (
    lookup(config.model_group_retry_policy?.[group], kind) ??
    lookup(config.retry_policy, kind) ??
    config.num_retries
  );
}
