/**
 * Calls one deployment's OpenAI-compatible HTTP API with undici directly: headers built once per
 * deployment, the request body sent as the caller gave it (plus the upstream model name), JSON
 * read back. The official SDK cost about 240 µs of CPU per call here against 55 µs for this,
 * most of a proxied request's own work (`npm run bench`). Every failure becomes an UpstreamError
 * with a kind; the gateway owns retries.
 */
import { overBudget, processBufferBudget } from './buffer-budget.js';
import { ErrorCode, SemrouteError } from '../../errors.js';
import { withFields } from '../../internal/objects.js';
import type { Deployment } from '../deployment.js';
import type { ChatBody, ChatCompletion, EmbeddingResponse } from '../types.js';
import type { CallOptions, UpstreamClient } from './client.js';
import { CallStop } from './call-stop.js';
import { httpError, malformedAnswer, toUpstreamError } from './errors.js';

/** Largest upstream answer read, in bytes, when the call does not say. 32 MiB. */
export const DEFAULT_MAX_RESPONSE_BYTES = 32 * 1024 * 1024;

/**
 * The request body as JSON, or INPUT_INVALID: a body the proxy cannot serialise (nested too deep
 * for the stack) is the request's fault, never the upstream's, and must not count against a
 * deployment.
 */
export function serialise(body: unknown): string {
  try {
    const text = JSON.stringify(body);
    if (typeof text === 'string') return text;
  } catch (cause) {
    throw new SemrouteError(
      ErrorCode.INPUT_INVALID,
      `The request body cannot be sent upstream: ${(cause as Error).message}`,
      {
        path: '(body)',
        expected: 'a JSON body of ordinary depth',
        cause,
      },
    );
  }
  throw new SemrouteError(ErrorCode.INPUT_INVALID, 'The request body is empty', { path: '(body)' });
}

/** One POST to a deployment, for undici's request() and dispatch() alike. */
export function postOptions(
  client: UpstreamClient,
  path: string,
  body: string,
  timeoutMs: number,
  headers?: Record<string, string>,
) {
  const full = `${client.basePath}${path}${client.query}`;
  const sent = headers === undefined ? client.headers : { ...headers, ...client.headers };
  return {
    origin: client.origin,
    path: full,
    method: 'POST' as const,
    headers:
      client.authorize === undefined
        ? sent
        : { ...sent, ...client.authorize({ path: full, body, headers: sent }) },
    body,
    // Our own deadline covers the wait for an answer; once a body flows, a silence this long ends it.
    headersTimeout: 0,
    bodyTimeout: timeoutMs,
  };
}

interface Answer {
  statusCode: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
}

/**
 * One POST, its whole answer gathered, through undici's dispatch API: no Readable body, no
 * async-resource wrapper and no AbortController per call; the handler aborts the request itself
 * when the deadline passes or the caller's signal fires. About a fifth of a proxied request's
 * own CPU went to those three with `request()`. The deadline covers the whole exchange.
 */
function exchange(
  client: UpstreamClient,
  deployment: Deployment,
  path: string,
  body: string,
  options: CallOptions,
): Promise<Answer> {
  const { signal, timeoutMs } = options;
  const maxBytes = options.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES;
  let received = 0;
  /** Bytes this answer holds of the process's budget, given back when it settles. */
  let taken = 0;
  return new Promise<Answer>((resolve, reject) => {
    let settled = false;
    let statusCode = 0;
    let headers: Record<string, string | string[] | undefined> = {};
    const chunks: Buffer[] = [];
    let call: CallStop | undefined;
    const settle = (error: SemrouteError | undefined, answer?: Answer) => {
      if (settled) return;
      settled = true;
      processBufferBudget.give(taken);
      taken = 0;
      call?.detach();
      if (error) reject(error);
      else resolve(answer!);
    };
    call = new CallStop(signal, deployment, timeoutMs, (error) => settle(error));
    if (settled) return;
    const stops = call;
    try {
      client.dispatcher.dispatch(postOptions(client, path, body, timeoutMs, options.headers), {
        onRequestStart(c) {
          stops.attach(c);
        },
        onResponseStart(_c, code, responseHeaders) {
          statusCode = code;
          headers = responseHeaders;
        },
        onResponseData(_c, chunk) {
          if (settled) return;
          received += chunk.length;
          if (received > maxBytes)
            stops.stop(malformedAnswer(deployment, `more than ${maxBytes} bytes (max_response_bytes)`));
          else if (!processBufferBudget.take(chunk.length)) stops.stop(overBudget(processBufferBudget.limit));
          else {
            taken += chunk.length;
            chunks.push(chunk);
          }
        },
        onResponseEnd() {
          settle(undefined, { statusCode, headers, text: Buffer.concat(chunks).toString('utf8') });
        },
        onResponseError(_c, error) {
          settle(toUpstreamError(error, deployment, signal));
        },
      });
    } catch (error) {
      settle(toUpstreamError(error, deployment, signal));
    }
  });
}

export async function postJson<T>(
  client: UpstreamClient,
  deployment: Deployment,
  path: string,
  body: unknown,
  options: CallOptions,
  /** What a good answer has, checked before anyone reads it. */
  shape: { field: string; what: string; kind?: 'array' | 'object' },
): Promise<T> {
  const answer = await exchange(client, deployment, path, serialise(body), options);
  if (answer.statusCode >= 400)
    throw httpError(deployment, answer.statusCode, answer.headers, answer.text, client, path);
  let parsed: unknown;
  try {
    parsed = JSON.parse(answer.text);
  } catch {
    throw malformedAnswer(
      deployment,
      `a body that is not JSON (${JSON.stringify(answer.text.slice(0, 80))})`,
    );
  }
  if (
    parsed === null ||
    typeof parsed !== 'object' ||
    !(shape.kind === 'object'
      ? typeof (parsed as Record<string, unknown>)[shape.field] === 'object'
      : Array.isArray((parsed as Record<string, unknown>)[shape.field]))
  ) {
    throw malformedAnswer(
      deployment,
      `JSON that is not ${shape.what} (no ${shape.field} ${shape.kind === 'object' ? 'object' : 'array'})`,
    );
  }
  return parsed as T;
}

/** An OpenAI-compatible chat completion; the body names its upstream model. */
export function callChat(
  client: UpstreamClient,
  deployment: Deployment,
  body: ChatBody,
  options: CallOptions,
): Promise<ChatCompletion> {
  return postJson(client, deployment, '/chat/completions', withFields(body, { stream: false }), options, {
    field: 'choices',
    what: 'a chat completion',
  });
}

/** OpenAI-compatible embeddings; the body names its upstream model. */
export function callEmbedding(
  client: UpstreamClient,
  deployment: Deployment,
  body: Record<string, unknown>,
  options: CallOptions,
): Promise<EmbeddingResponse> {
  return postJson(client, deployment, '/embeddings', body, options, {
    field: 'data',
    what: 'an embeddings list',
  });
}
