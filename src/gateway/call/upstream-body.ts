/**
 * The body one deployment is sent, from the request's: the deployment's request defaults from
 * litellm_params (temperature, max_tokens, …) under the request's own values, as LiteLLM spreads
 * them; `extra_body` fields merged in (the deployment's, then the request's); parameters the
 * deployment always drops (`additional_drop_params`) removed; `extra_headers` taken out of the
 * body into headers (checked where the request arrived: plan/request-body.ts); the upstream model name.
 * A request with none of these costs one shallow copy.
 */
import { ErrorCode, SemrouteError } from '../../errors.js';
import { withFields } from '../../internal/objects.js';
import type { Deployment } from '../deployment.js';
import type { ChatBody } from '../types.js';

export interface UpstreamBody<T> {
  body: T & { model: string };
  /** Headers for this call from the request's extra_headers; undefined when none. */
  headers: Record<string, string> | undefined;
}

/**
 * Headers a request may set on any deployment's call: its own `x-…` names (tracing, tenancy
 * tags) and `anthropic-beta`; never what tells an upstream who is calling or from where
 * (`x-forwarded-*`, `x-real-ip`), nor a cloud's own `x-amz-*`, `x-goog-*`, `x-ms-*`.
 */
const NOT_FORWARDED = /^x-(forwarded-|real-ip$|amz-|goog-|ms-|api-key$|stainless-)/;
export function forwardableByDefault(name: string): boolean {
  return name === 'anthropic-beta' || (name.startsWith('x-') && !NOT_FORWARDED.test(name));
}

/**
 * The request's extra_headers (checked at the edge, `checkExtraHeaders`), lower-cased. One this
 * deployment does not take from requests is the request's error, named: not dropped in silence.
 */
function requestHeaders(value: unknown, d: Deployment): Record<string, string> | undefined {
  if (value === null || typeof value !== 'object') return undefined;
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(value)) {
    if (typeof v !== 'string') continue;
    const name = k.toLowerCase();
    if (!forwardableByDefault(name) && !d.forwardHeaders.has(name))
      throw new SemrouteError(
        ErrorCode.INPUT_INVALID,
        `extra_headers.${k}: ${d.group} does not take this header from requests (its litellm_params.forward_client_headers lists the ones it does; custom x-… headers always pass)`,
        { path: `extra_headers.${k}`, expected: 'a custom x-… header, or one the deployment forwards' },
      );
    out[name] = v;
  }
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
  return { body: merged as T & { model: string }, headers: requestHeaders(requestHeadersField, d) };
}

export type ChatUpstreamBody = UpstreamBody<ChatBody>;
