/** Every way an upstream call fails, as an UpstreamError with a kind (`classifyUpstream`). */
import { classifyUpstream, ErrorCode, SemrouteError, UpstreamError } from '../../errors.js';
import type { Deployment } from '../deployment.js';

/** Maps anything a call throws to UpstreamError (or ABORTED when the caller aborted). */
export function toUpstreamError(
  error: unknown,
  deployment: Deployment,
  signal: AbortSignal | undefined,
): SemrouteError {
  if (error instanceof SemrouteError) return error;
  if (signal?.aborted)
    return new SemrouteError(ErrorCode.ABORTED, 'The request was aborted by the client', { cause: error });
  const e = error as { message?: string; code?: string };
  const timeout = e.code === 'UND_ERR_HEADERS_TIMEOUT' || e.code === 'UND_ERR_BODY_TIMEOUT';
  const message = e.message ?? String(error);
  return new UpstreamError(
    timeout ? 'Timeout' : classifyUpstream(undefined, message),
    `${deployment.group} (${deployment.id}): ${timeout ? `timed out: ${message}` : message}`,
    undefined,
    {},
    { cause: error },
  );
}

export function headerRecord(headers: Record<string, string | string[] | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers))
    if (v !== undefined) out[k] = Array.isArray(v) ? v.join(', ') : v;
  return out;
}

/** A non-2xx answer as an UpstreamError: OpenAI's error JSON when there is one, the text otherwise. */
export function httpError(
  deployment: Deployment,
  statusCode: number,
  headers: Record<string, string | string[] | undefined>,
  text: string,
): UpstreamError {
  let message = text.slice(0, 2_000) || `HTTP ${statusCode}`;
  let code: string | null = null;
  try {
    const body = JSON.parse(text) as {
      error?: { message?: unknown; code?: unknown } | string;
      message?: unknown;
    };
    const error = typeof body.error === 'string' ? { message: body.error } : body.error;
    if (typeof error?.message === 'string') message = error.message;
    else if (typeof body.message === 'string') message = body.message;
    if (typeof error === 'object' && typeof error.code === 'string') code = error.code;
  } catch {
    // Not JSON: the text is the message.
  }
  return new UpstreamError(
    classifyUpstream(statusCode, message, code),
    `${deployment.group} (${deployment.id}): ${message}`,
    statusCode,
    headerRecord(headers),
  );
}

/** The Timeout error of a call whose deadline passed, streamed or not. */
export function noAnswer(deployment: Deployment, timeoutMs: number, cause?: unknown): UpstreamError {
  return new UpstreamError(
    'Timeout',
    `${deployment.group} (${deployment.id}): no answer within ${timeoutMs} ms`,
    undefined,
    {},
    cause === undefined ? {} : { cause },
  );
}
