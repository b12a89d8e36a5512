/**
 * A chat request's own fields checked and split before anything is routed: what the gateway
 * consumes (LiteLLM's `timeout`, OpenRouter's auto fields) and what goes upstream. A bad field
 * costs no embedding and leaves no routing decision behind.
 */
import { ErrorCode, SemrouteError } from '../../errors.js';
import type { ModelTable } from '../models.js';
import type { ChatBody } from '../types.js';
import { type ProviderPreferences, providerPreferences } from './provider-preferences.js';

export interface PreparedChat<B = ChatBody> {
  /** What is sent upstream (gateway-only fields removed). */
  readonly body: B;
  readonly stream: boolean;
  /** The request's own timeout for each upstream call, ms. */
  readonly timeoutMs: number | undefined;
  /** Tags for tag routing: `tags`, `metadata.tags`, and the x-litellm-tags header's. */
  readonly tags: readonly string[] | undefined;
  /** OpenRouter's `provider` preferences, checked. */
  readonly provider: ProviderPreferences | undefined;
}

/** OpenRouter's request fields, which SDKs send inside `extra_body` when they do not know them. */
const OPENROUTER_FIELDS = ['models', 'provider', 'plugins', 'session_id', 'route', 'transforms'] as const;

/**
 * A body whose `extra_body` holds OpenRouter fields (a raw JSON request that wrote them where
 * the SDKs would merge them from): those fields at the top, as the SDKs send them flattened. A
 * field given both ways keeps its top-level value.
 */
export function hoistOpenRouterFields<B extends Record<string, unknown>>(body: B): B {
  const extra = body.extra_body;
  if (extra === null || typeof extra !== 'object' || Array.isArray(extra)) return body;
  const e = extra as Record<string, unknown>;
  if (!OPENROUTER_FIELDS.some((f) => f in e)) return body;
  const rest = { ...e };
  const lifted: Record<string, unknown> = {};
  for (const f of OPENROUTER_FIELDS) {
    if (!(f in rest)) continue;
    if (!(f in body)) lifted[f] = rest[f];
    delete rest[f];
  }
  return { ...body, ...lifted, extra_body: rest } as B;
}

function tagList(value: unknown, path: string): string[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value) || value.some((t) => typeof t !== 'string')) {
    throw new SemrouteError(ErrorCode.INPUT_INVALID, `${path} must be a list of strings`, {
      path,
      expected: 'a list of tag names',
    });
  }
  return value as string[];
}

/** Headers a request may not set upstream: credentials are the deployment's, framing is undici's. */
export const RESERVED_HEADERS: ReadonlySet<string> = new Set([
  'authorization',
  'api-key',
  'x-api-key',
  'host',
  'content-length',
  'content-type',
  'transfer-encoding',
  'connection',
  'keep-alive',
  'upgrade',
  'te',
  'trailer',
  'proxy-authorization',
]);
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
/** What undici refuses in a header value (CR, LF, NUL and other controls but tab). */
const BAD_HEADER_VALUE = /[^\t\x20-\x7e\x80-\xff]/;
const MAX_EXTRA_HEADERS = 64;
const MAX_HEADER_VALUE = 8 * 1024;

/**
 * A request's `extra_headers`, checked where the request arrives: a name or value no HTTP
 * request may carry is the request's 400 naming the header, never a failed upstream call (undici
 * refuses it locally, and that once counted as the deployment's connection error and cooled it).
 */
export function checkExtraHeaders(body: Record<string, unknown>): void {
  const value = body.extra_headers;
  if (value === undefined || value === null) return;
  const fail = (path: string, message: string, expected: string): never => {
    throw new SemrouteError(ErrorCode.INPUT_INVALID, message, { path, expected });
  };
  if (typeof value !== 'object' || Array.isArray(value))
    fail(
      'extra_headers',
      'extra_headers must be an object of header names to values',
      'an object of strings',
    );
  const entries = Object.entries(value as Record<string, unknown>);
  if (entries.length > MAX_EXTRA_HEADERS)
    fail(
      'extra_headers',
      `extra_headers has ${entries.length} headers; at most ${MAX_EXTRA_HEADERS}`,
      `at most ${MAX_EXTRA_HEADERS} headers`,
    );
  for (const [name, v] of entries) {
    const path = `extra_headers.${name}`;
    if (!HEADER_NAME.test(name))
      fail(
        path,
        `extra_headers: ${JSON.stringify(name.slice(0, 100))} is not a header name`,
        'an HTTP token (letters, digits, -)',
      );
    if (RESERVED_HEADERS.has(name.toLowerCase()))
      fail(
        path,
        `extra_headers.${name} cannot be set by a request: the deployment's credentials and the connection's framing are the gateway's`,
        'a header other than credentials or framing',
      );
    if (typeof v !== 'string' || v.length > MAX_HEADER_VALUE || BAD_HEADER_VALUE.test(v))
      fail(
        path,
        `extra_headers.${name} must be a string of printable characters (no CR, LF or NUL), at most ${MAX_HEADER_VALUE} bytes`,
        'a header value',
      );
  }
}

/** OpenRouter's `auto` fields: read by the planner, never sent upstream. */
const AUTO_FIELDS = ['models', 'plugins', 'session_id'] as const;

/**
 * Splits a request of any endpoint: LiteLLM's `timeout` (or `request_timeout`), `tags`,
 * `metadata` and `litellm_metadata` (LiteLLM's own, never sent to a provider) stay here; the rest
 * goes upstream. `extra_headers` are checked. `headerTags` are the x-litellm-tags header's.
 */
export function prepareRequest<B extends Record<string, unknown>>(
  body: B,
  headerTags?: readonly string[],
): PreparedChat<B> {
  checkExtraHeaders(body);
  const {
    timeout,
    request_timeout,
    tags,
    metadata,
    litellm_metadata,
    provider,
    route: _route,
    transforms: _transforms,
    ...rest
  } = body as B & {
    timeout?: unknown;
    request_timeout?: unknown;
    tags?: unknown;
    metadata?: unknown;
    litellm_metadata?: unknown;
    provider?: unknown;
    route?: unknown;
    transforms?: unknown;
  };
  const [key, seconds] = timeout !== undefined ? ['timeout', timeout] : ['request_timeout', request_timeout];
  // A client's timeout is seconds, as LiteLLM takes it; one under a millisecond can only time out.
  if (
    seconds !== undefined &&
    seconds !== null &&
    !(typeof seconds === 'number' && seconds >= 0.001 && seconds <= 86_400)
  ) {
    throw new SemrouteError(
      ErrorCode.INPUT_INVALID,
      `${key} must be a number of seconds from 0.001 to 86400`,
      {
        path: key,
        expected: 'seconds, 0.001 to 86400',
      },
    );
  }
  // The body's `tags` replace the header's (LiteLLM's rule); metadata.tags join them.
  const own = tags === undefined ? [...(headerTags ?? [])] : tagList(tags, 'tags');
  const meta =
    metadata !== null && typeof metadata === 'object' ? (metadata as { tags?: unknown }).tags : undefined;
  const all = [...new Set([...own, ...tagList(meta, 'metadata.tags')])];
  return {
    body: rest as unknown as B,
    stream: body.stream === true,
    timeoutMs: typeof seconds === 'number' ? seconds * 1000 : undefined,
    tags: all.length > 0 ? all : undefined,
    provider: providerPreferences(provider),
  };
}

/** A chat request split as every request is (`prepareRequest`). */
export function prepareChat(body: ChatBody, headerTags?: readonly string[]): PreparedChat {
  return prepareRequest(body, headerTags);
}

/**
 * OpenRouter's `models` beside a named model: the groups to try, in order, when it fails. Each
 * must be a model this gateway serves (a 400 naming `models[i]` otherwise); undefined when the
 * request has none.
 */
export function requestedFallbacks(body: { models?: unknown }, table: ModelTable): string[] | undefined {
  const list = body.models;
  if (list === undefined || list === null) return undefined;
  if (!Array.isArray(list) || list.length > 16)
    throw new SemrouteError(ErrorCode.INPUT_INVALID, 'models must be a list of up to 16 model names', {
      path: 'models',
      expected: 'a list of model names to fall back to, in order',
    });
  return list.map((m, i) => {
    if (typeof m !== 'string' || table.match(table.aliasTarget(m)) === undefined)
      throw new SemrouteError(
        ErrorCode.INPUT_INVALID,
        `models[${i}]: ${JSON.stringify(m)} is no model this gateway serves`,
        { path: `models[${i}]`, expected: 'a model_list group or alias' },
      );
    return m;
  });
}

/** The upstream body of an `auto` request: its pool fields stay here. */
export function withoutAutoFields(body: ChatBody): ChatBody {
  if (!AUTO_FIELDS.some((f) => f in body)) return body;
  const copy = { ...body };
  for (const f of AUTO_FIELDS) delete copy[f];
  return copy;
}

/** About how many tokens a request uses: ~4 characters a token for the input, plus max_tokens. */
export function estimateTokens(body: ChatBody): { input: number; total: number } {
  let chars = 0;
  for (const m of (Array.isArray(body.messages) ? body.messages : []) as Array<{ content?: unknown }>) {
    const c = m?.content;
    chars += typeof c === 'string' ? c.length : JSON.stringify(c ?? '').length;
  }
  const input = Math.ceil(chars / 4);
  const maxTokens =
    typeof body.max_tokens === 'number'
      ? body.max_tokens
      : typeof body.max_completion_tokens === 'number'
        ? body.max_completion_tokens
        : 256;
  return { input, total: input + maxTokens };
}
