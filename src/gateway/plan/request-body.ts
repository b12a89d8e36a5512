/**
 * A chat request's own fields checked and split before anything is routed: what the gateway
 * consumes (LiteLLM's `timeout`, OpenRouter's auto fields) and what goes upstream. A bad field
 * costs no embedding and leaves no routing decision behind.
 */
import { ErrorCode, SemrouteError } from '../../errors.js';
import type { ChatBody } from '../types.js';

export interface PreparedChat {
  /** What is sent upstream (gateway-only fields removed). */
  readonly body: ChatBody;
  readonly stream: boolean;
  /** The request's own timeout for each upstream call, ms. */
  readonly timeoutMs: number | undefined;
  /** Tags for tag routing: `tags`, `metadata.tags`, and the x-litellm-tags header's. */
  readonly tags: readonly string[] | undefined;
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

/** OpenRouter's `auto` fields: read by the planner, never sent upstream. */
const AUTO_FIELDS = ['models', 'plugins', 'session_id'] as const;

/**
 * Splits a request: LiteLLM's `timeout`, `tags` and `metadata` (LiteLLM's own, never sent to a
 * provider) stay here; the rest goes upstream. `headerTags` are the x-litellm-tags header's.
 */
export function prepareChat(body: ChatBody, headerTags?: readonly string[]): PreparedChat {
  const { timeout, request_timeout, tags, metadata, litellm_metadata, ...rest } = body as ChatBody & {
    timeout?: unknown;
    request_timeout?: unknown;
    tags?: unknown;
    metadata?: unknown;
    litellm_metadata?: unknown;
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
    body: rest as ChatBody,
    stream: body.stream === true,
    timeoutMs: typeof seconds === 'number' ? seconds * 1000 : undefined,
    tags: all.length > 0 ? all : undefined,
  };
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
  for (const m of body.messages as Array<{ content?: unknown }>) {
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
