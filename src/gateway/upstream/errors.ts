/**
 * Every way an upstream call fails, as an UpstreamError with a kind (`classifyUpstream`) and a
 * message that says which upstream said what, so that a client and the log can tell a wrong
 * `api_base` from a wrong key from a model the upstream does not know.
 */
import { classifyUpstream, ErrorCode, SemrouteError, UpstreamError } from '../../errors.js';
import type { Deployment } from '../deployment.js';
import type { UpstreamClient } from './client.js';

/** "upstream coding (deployment 3f2a…)" */
export function upstreamName(deployment: Deployment): string {
  return `upstream ${deployment.group} (deployment ${deployment.id})`;
}

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
  // undici refused the request before sending it (a header value, a URL): this request's fault,
  // the deployment was never reached. Never retried, never charged, never fallen back on.
  if (e.code === 'UND_ERR_INVALID_ARG' || e.code === 'ERR_INVALID_CHAR' || e.code === 'ERR_INVALID_ARG_TYPE')
    return new SemrouteError(
      ErrorCode.INPUT_INVALID,
      `The request could not be sent to ${upstreamName(deployment)}: ${e.message ?? String(error)}`,
      { path: '(request)', cause: error },
    );
  const timeout = e.code === 'UND_ERR_HEADERS_TIMEOUT' || e.code === 'UND_ERR_BODY_TIMEOUT';
  const message = e.message ?? String(error);
  return new UpstreamError(
    timeout ? 'Timeout' : classifyUpstream(undefined, message),
    timeout
      ? `${upstreamName(deployment)} went silent: ${message}`
      : `${upstreamName(deployment)} could not be reached: ${message}${e.code ? ` (${e.code})` : ''}`,
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

/** What usually causes an answer like this one, said in config terms. */
export function hintFor(
  client: UpstreamClient | undefined,
  status: number,
  path?: string,
  message = '',
): string | undefined {
  if (
    status === 404 &&
    client !== undefined &&
    client.query === '' &&
    !/\/v\d+[a-z]*$/.test(client.basePath)
  ) {
    return `api_base ${client.origin}${client.basePath || '/'} has no /v1: OpenAI-compatible servers usually answer under …/v1`;
  }
  // A 404 that is not about the model: the server has no such path. Name the URL called, so a
  // wrong api_base (or a server that does not speak this wire) shows at once.
  if (status === 404 && client !== undefined && path !== undefined && !/model/i.test(message)) {
    return `the upstream has no POST ${client.origin}${client.basePath}${path}: check api_base, and that the server speaks this deployment's API there`;
  }
  if (status === 401 || status === 403)
    return 'check litellm_params.api_key of this deployment (or the variable its os.environ/ names)';
  if (status === 404) return 'check that the upstream serves this model name (litellm_params.model)';
  return undefined;
}

/** A non-2xx answer as an UpstreamError: OpenAI's error JSON when there is one, the text otherwise. */
export function httpError(
  deployment: Deployment,
  statusCode: number,
  headers: Record<string, string | string[] | undefined>,
  text: string,
  client?: UpstreamClient,
  /** The path called (under the client's base), for the hint of a 404. */
  path?: string,
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
  const hint = hintFor(client, statusCode, path, message);
  return new UpstreamError(
    classifyUpstream(statusCode, message, code),
    `${upstreamName(deployment)} answered HTTP ${statusCode}: ${message}${hint ? ` (hint: ${hint})` : ''}`,
    statusCode,
    headerRecord(headers),
    { details: { group: deployment.group, deployment: deployment.id, upstreamMessage: message, hint } },
  );
}

/** The Timeout error of a call whose deadline passed, streamed or not. */
export function noAnswer(deployment: Deployment, timeoutMs: number, cause?: unknown): UpstreamError {
  return new UpstreamError(
    'Timeout',
    `${upstreamName(deployment)} did not answer within ${timeoutMs} ms`,
    undefined,
    {},
    cause === undefined ? {} : { cause },
  );
}

/** A 200 whose body is not what the operation returns (empty, `null`, HTML, or too large). */
export function malformedAnswer(deployment: Deployment, what: string): UpstreamError {
  return new UpstreamError(
    'InternalServerError',
    `${upstreamName(deployment)} answered 200 with ${what}`,
    undefined,
  );
}
