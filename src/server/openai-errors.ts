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
  [ErrorCode.MODEL_NOT_FOUND]: 404,
  [ErrorCode.MODEL_NOT_ALLOWED]: 403,
  [ErrorCode.NO_DEPLOYMENT_AVAILABLE]: 429,
  [ErrorCode.ABORTED]: 499,
};

/** The status for an upstream failure: the upstream's own, else 504 for a timeout and 502 otherwise. */
function upstreamStatus(error: UpstreamError): number {
  if (error.status !== undefined && error.status >= 400) return error.status;
  return error.kind === 'Timeout' ? 504 : 502;
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

/** Status and body for anything thrown while serving a request. Never leaks a stack or a key. */
export function toOpenAIError(
  error: unknown,
  secrets: readonly string[] = [],
): { status: number; body: OpenAIErrorBody } {
  const status = statusOf(error);
  let body: OpenAIErrorBody;
  if (error instanceof UpstreamError)
    body = openAIError(status, `${error.kind}: ${error.message}`, error.kind);
  else if (error instanceof SemrouteError)
    body = openAIError(status, error.message, error.code, error.path ?? null);
  else if (status < 500) {
    const e = error as { code?: string; message?: string };
    body = openAIError(status, e.message ?? 'Bad request', e.code ?? null);
  } else body = openAIError(500, 'Internal error in semroute', 'internal_error');
  body.error.message = redactSecrets(body.error.message, secrets);
  return { status, body };
}
