/**
 * The body one deployment is sent, from the request's: the deployment's request defaults from
 * litellm_params (temperature, max_tokens, …) under the request's own values, as LiteLLM spreads
 * them; `extra_body` fields merged in (the deployment's, then the request's); parameters the
 * deployment always drops (`additional_drop_params`) removed; `extra_headers` taken out of the
 * body into headers (checked where the request arrived: plan/request-body.ts); the upstream model name.
 * A request with none of these costs one shallow copy.
 */
import { withFields } from '../../internal/objects.js';
import type { Deployment } from '../deployment.js';
import type { ChatBody } from '../types.js';

export interface UpstreamBody<T> {
  body: T & { model: string };
  /** Headers for this call from the request's extra_headers; undefined when none. */
  headers: Record<string, string> | undefined;
}

/** The request's extra_headers, checked at the edge (`checkExtraHeaders`), lower-cased. */
function requestHeaders(value: unknown): Record<string, string> | undefined {
  if (value === null || typeof value !== 'object') return undefined;
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(value)) if (typeof v === 'string') out[k.toLowerCase()] = v;
  return Object.keys(out).length > 0 ? out : undefined;
}

export function upstreamBody<T extends Record<string, unknown>>(
  d: Deployment,
  body: T,
  model: string,
): UpstreamBody<T> {
  const plain =
    d.extraBody === undefined &&
    d.alwaysDrop.length === 0 &&
    !('extra_body' in body) &&
    !('extra_headers' in body) &&
    Object.keys(d.defaults).length === 0;
  if (plain) return { body: withFields(body, { model }) as T & { model: string }, headers: undefined };
  const {
    extra_body: requestExtra,
    extra_headers: requestHeadersField,
    ...own
  } = body as Record<string, unknown>;
  const merged: Record<string, unknown> = { ...d.defaults, ...own };
  Object.assign(merged, d.extraBody ?? {});
  if (requestExtra !== null && typeof requestExtra === 'object') Object.assign(merged, requestExtra);
  for (const name of d.alwaysDrop) delete merged[name];
  merged.model = model;
  return { body: merged as T & { model: string }, headers: requestHeaders(requestHeadersField) };
}

export type ChatUpstreamBody = UpstreamBody<ChatBody>;
