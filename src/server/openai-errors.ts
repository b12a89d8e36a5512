/**
 * Every error the proxy answers with, in OpenAI's shape
 * (`{"error": {"message", "type", "param", "code"}}`), and the one place that decides its HTTP
 * status: from the error code, or for an upstream failure from what the upstream answered.
 */
import { ErrorCode, SemrouteError, UpstreamError } from '../errors.js';
import { redactSecrets } from './secrets.js';

export interface OpenAIErrorBody {
  error: { message: string; type: string; param: string | null; code: string | null };
}

/** HTTP status per error code; codes absent here are the proxy's own failures (500). */
const STATUS: Readonly<Partial<Record<ErrorCode, number>>> = {
  [ErrorCode.INPUT_INVALID]: 400,
  [ErrorCode.EMPTY_QUERY]: 400,
  [ErrorCode.CONFIG_INVALID]: 400,
  [ErrorCode.CONFIG_SYNTAX]: 400,
  [ErrorCode.TEMPLATE_SLOT_UNDEFINED]: 400,
  [ErrorCode.TEMPLATE_SYNTAX]: 400,
  [ErrorCode.TEMPLATE_EXPLOSION]: 400,
  [ErrorCode.ROUTE_DUPLICATE]: 400,
  [ErrorCode.ROUTE_NOT_FOUND]: 404,
  [ErrorCode.POOL_EMPTY]: 400,
  [ErrorCode.PROVIDER_UNSUPPORTED]: 400,
  [ErrorCode.MODEL_NOT_FOUND]: 404,
  [ErrorCode.MODEL_NOT_ALLOWED]: 403,
  [ErrorCode.TAGS_NOT_MATCHED]: 403,
  [ErrorCode.NO_DEPLOYMENT_AVAILABLE]: 429,
  [ErrorCode.ABORTED]: 499,
  [ErrorCode.AUTH_MISSING]: 401,
  [ErrorCode.AUTH_INVALID]: 401,
  [ErrorCode.CROSS_ORIGIN]: 403,
  [ErrorCode.BUDGET_EXCEEDED]: 429,
  [ErrorCode.KEY_LIMITED]: 429,
  [ErrorCode.MASTER_KEY_REQUIRED]: 403,
  [ErrorCode.OVERLOADED]: 503,
  [ErrorCode.SHUTTING_DOWN]: 503,
};

/** The error `type` where it is not the status's: LiteLLM's clients look for `budget_exceeded`. */
const CODE_TYPE: Readonly<Partial<Record<ErrorCode, string>>> = {
  [ErrorCode.BUDGET_EXCEEDED]: 'budget_exceeded',
};

/** The `code` OpenAI's clients know, where ours has one (else the body carries ours). */
const CLIENT_CODE: Readonly<Partial<Record<ErrorCode, string>>> = {
  [ErrorCode.AUTH_MISSING]: 'invalid_api_key',
  [ErrorCode.AUTH_INVALID]: 'invalid_api_key',
  [ErrorCode.CROSS_ORIGIN]: 'cross_origin',
  [ErrorCode.SHUTTING_DOWN]: 'shutting_down',
  [ErrorCode.BUDGET_EXCEEDED]: 'budget_exceeded',
  [ErrorCode.KEY_LIMITED]: 'rate_limit_exceeded',
};

/** Headers an error answer carries whatever it is: a draining proxy closes the connection. */
const CODE_HEADERS: Readonly<Partial<Record<ErrorCode, Record<string, string>>>> = {
  [ErrorCode.SHUTTING_DOWN]: { connection: 'close' },
};

/**
 * The status for an upstream failure: the upstream's own (a 404 stays a 404, a 429 a 429), except
 * that an upstream refusing semroute's credentials (401, 403) is a 502: the client's key for the
 * proxy was fine, and a 401 would tell it otherwise. No status: 504 for a timeout, else 502.
 */
function upstreamStatus(error: UpstreamError): number {
  if (error.status === 401 || error.status === 403) return 502;
  if (error.status !== undefined && error.status >= 400) return error.status;
  return error.kind === 'Timeout' || error.kind === 'RequestTimeout' ? 504 : 502;
}

/** Retry-After for a cooling group; x-should-retry: false for what cannot pass as it is. */
function answerHeaders(error: unknown): Record<string, string> {
  if (noRetry(error)) return { 'x-should-retry': 'false' };
  if (error instanceof SemrouteError && CODE_HEADERS[error.code] !== undefined)
    return { ...CODE_HEADERS[error.code] };
  if (error instanceof SemrouteError && RETRY_AT.has(error.code)) {
    // Cooling because the upstream refused semroute's key: waiting will not fix that.
    const last = error.details?.lastFailure as { status?: number } | undefined;
    if (last?.status === 401 || last?.status === 403) return { 'x-should-retry': 'false' };
    const at = error.details?.retryAt;
    if (typeof at === 'number')
      return { 'retry-after': String(Math.max(1, Math.ceil((at - Date.now()) / 1000))) };
  }
  return {};
}

/** Refusals that pass again at a known time (`details.retryAt`): the answer's Retry-After. */
const RETRY_AT: ReadonlySet<ErrorCode> = new Set([
  ErrorCode.NO_DEPLOYMENT_AVAILABLE,
  ErrorCode.BUDGET_EXCEEDED,
  ErrorCode.KEY_LIMITED,
  ErrorCode.OVERLOADED,
]);

/** Failures a client should not retry as they are: the proxy's configuration must change first. */
function noRetry(error: unknown): boolean {
  return error instanceof UpstreamError && (error.status === 401 || error.status === 403);
}

const TYPE_BY_STATUS: Readonly<Record<number, string>> = {
  400: 'invalid_request_error',
  401: 'authentication_error',
  403: 'permission_error',
  404: 'not_found_error',
  413: 'invalid_request_error',
  429: 'rate_limit_error',
  503: 'service_unavailable',
};

export function openAIError(
  status: number,
  message: string,
  code: string | null = null,
  param: string | null = null,
): OpenAIErrorBody {
  return {
    error: {
      message,
      type: TYPE_BY_STATUS[status] ?? (status >= 500 ? 'api_error' : 'invalid_request_error'),
      param,
      code,
    },
  };
}

/** The HTTP status of anything thrown while serving a request. */
export function statusOf(error: unknown): number {
  if (error instanceof UpstreamError) return upstreamStatus(error);
  if (error instanceof SemrouteError) return STATUS[error.code] ?? 500;
  const e = error as { statusCode?: number };
  // fastify's own errors: body too large, bad JSON, wrong content type.
  if (typeof e?.statusCode === 'number' && e.statusCode >= 400 && e.statusCode < 500) return e.statusCode;
  return 500;
}

/**
 * Status, body and headers for anything thrown while serving a request. Never leaks a stack or a
 * key. `x-should-retry: false` tells the OpenAI and Anthropic SDKs not to retry what cannot pass.
 */
export function toOpenAIError(
  error: unknown,
  secrets: readonly string[] = [],
): { status: number; body: OpenAIErrorBody; headers: Record<string, string> } {
  const status = statusOf(error);
  let body: OpenAIErrorBody;
  if (error instanceof UpstreamError)
    body = openAIError(status, `${error.kind}: ${clientMessage(error)}`, error.kind);
  else if (error instanceof SemrouteError) {
    body = openAIError(status, error.message, CLIENT_CODE[error.code] ?? error.code, error.path ?? null);
    const type = CODE_TYPE[error.code];
    if (type !== undefined) body.error.type = type;
  } else if (status < 500) {
    const e = error as { code?: string; message?: string };
    body = openAIError(status, e.message ?? 'Bad request', e.code ?? null);
  } else body = openAIError(500, 'Internal error in semroute', 'internal_error');
  body.error.message = redactSecrets(body.error.message, secrets);
  return { status, body, headers: answerHeaders(error) };
}

/**
 * What a client is told of an upstream failure. A refusal of semroute's own credentials (401,
 * 403) is classified, never quoted: its text is about the operator's key (often quoting it, in
 * forms no list of secrets catches) and the client can do nothing with it. Other failures keep
 * the upstream's words (a bad parameter is the client's to fix), redacted. The raw text stays
 * in the log.
 */
function clientMessage(error: UpstreamError): string {
  if (
    error.kind === 'AuthenticationError' ||
    error.kind === 'PermissionDeniedError' ||
    error.status === 401 ||
    error.status === 403
  )
    return `the upstream refused the proxy's credentials (HTTP ${error.status ?? '401'}): the operator must fix the deployment's key`;
  return error.message;
}

/** Anthropic's error type for a status. */
export function anthropicErrorType(status: number): string {
  if (status === 401) return 'authentication_error';
  if (status === 402) return 'billing_error';
  if (status === 403) return 'permission_error';
  if (status === 404) return 'not_found_error';
  if (status === 413) return 'request_too_large';
  if (status === 429) return 'rate_limit_error';
  if (status === 529 || status === 503) return 'overloaded_error';
  if (status === 504) return 'timeout_error';
  return status >= 500 ? 'api_error' : 'invalid_request_error';
}

/** Anthropic's error body. */
export const anthropicError = (status: number, message: string) => ({
  type: 'error',
  error: { type: anthropicErrorType(status), message },
});

/** Whether a route speaks Anthropic's API: its clients read Anthropic's error shape. */
export const anthropicRoute = (url: string) => url.startsWith('/v1/messages');

/**
 * The whole error answer for a route: status, headers, and the body in the shape its clients
 * read (Anthropic's on /v1/messages, OpenAI's everywhere else).
 */
export function errorAnswer(
  url: string,
  error: unknown,
  secrets: readonly string[] = [],
): { status: number; body: unknown; headers: Record<string, string> } {
  const { status, body, headers } = toOpenAIError(error, secrets);
  return { status, headers, body: anthropicRoute(url) ? anthropicError(status, body.error.message) : body };
}
