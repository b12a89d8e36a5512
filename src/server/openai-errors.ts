/**
 * Every error the proxy answers with, in OpenAI's shape:
 * `{"error": {"message", "type", "param", "code"}}` with the matching HTTP status.
 */
import { ErrorCode, SemrouteError, UpstreamError } from '../errors.js';
import { redactSecrets } from './secrets.js';

export interface OpenAIErrorBody {
  error: { message: string; type: string; param: string | null; code: string | null };
}

const STATUS: Partial<Record<string, number>> = {
  [ErrorCode.INPUT_INVALID]: 400,
  [ErrorCode.EMPTY_QUERY]: 400,
  [ErrorCode.CONFIG_INVALID]: 400,
  [ErrorCode.CONFIG_SYNTAX]: 400,
  [ErrorCode.MODEL_NOT_FOUND]: 404,
  [ErrorCode.NO_DEPLOYMENT_AVAILABLE]: 429,
  [ErrorCode.ABORTED]: 499,
};

const TYPE_BY_STATUS: Record<number, string> = {
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

/** Status and body for anything thrown while serving a request. Never leaks a stack or a key. */
export function toOpenAIError(
  error: unknown,
  secrets: readonly string[] = [],
): { status: number; body: OpenAIErrorBody } {
  const { status, body } = describe(error);
  body.error.message = redactSecrets(body.error.message, secrets);
  return { status, body };
}

function describe(error: unknown): { status: number; body: OpenAIErrorBody } {
  if (error instanceof UpstreamError) {
    const status = error.httpStatus;
    return { status, body: openAIError(status, `${error.kind}: ${error.message}`, error.kind) };
  }
  if (error instanceof SemrouteError) {
    const fromDetails = typeof error.details?.status === 'number' ? error.details.status : undefined;
    const status = fromDetails ?? STATUS[error.code] ?? 500;
    return { status, body: openAIError(status, error.message, error.code, error.path ?? null) };
  }
  const e = error as { statusCode?: number; code?: string; message?: string };
  if (typeof e?.statusCode === 'number' && e.statusCode >= 400 && e.statusCode < 500) {
    // fastify's own errors: body too large, bad JSON, wrong content type.
    return {
      status: e.statusCode,
      body: openAIError(e.statusCode, e.message ?? 'Bad request', e.code ?? null),
    };
  }
  return { status: 500, body: openAIError(500, 'Internal error in semroute', 'internal_error') };
}
