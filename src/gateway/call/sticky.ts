/**
 * Sticky sessions for `auto`: a conversation stays on the model that first answered it, for
 * `sticky_session_ttl` seconds of inactivity. A session is `session_id` / `x-session-id` (or
 * LiteLLM's `metadata.litellm_session_id`), or else
 * the first system and user message. Keys are hashed (a client chooses the id, and a long one
 * must cost no more than a short one) and scoped by caller, so one key cannot move another's
 * sessions.
 */
import { createHash } from 'node:crypto';
import { contentText } from '../../semantic/messages.js';
import type { StickyStore } from '../state/state-store.js';

export interface StickyRequest {
  session_id?: unknown;
  metadata?: unknown;
  messages?: unknown;
}

export interface Pinned {
  group: string;
  deployment: string;
}

const hash = (text: string) => createHash('sha256').update(text).digest('hex').slice(0, 32);

/** The session's store key, or undefined when the request has neither an id nor a user message. */
export function sessionKey(
  body: StickyRequest,
  header: string | undefined,
  caller: string | undefined,
): string | undefined {
  const scope = `sticky:${caller ?? '-'}:`;
  const litellm = (body.metadata as { litellm_session_id?: unknown } | null | undefined)?.litellm_session_id;
  const id = typeof body.session_id === 'string' && body.session_id !== '' ? body.session_id : litellm;
  if (typeof id === 'string' && id !== '') return scope + hash(`id\u0000${id}`);
  if (header) return scope + hash(`id\u0000${header}`);
  if (!Array.isArray(body.messages)) return undefined;
  const messages: unknown[] = body.messages;
  const first = (role: string) => messages.find((m) => (m as { role?: unknown })?.role === role);
  const system = first('system') as { content?: unknown } | undefined;
  const user = first('user') as { content?: unknown } | undefined;
  if (!user) return undefined;
  return (
    scope + hash(`fp\u0000${system ? contentText(system.content) : ''}\u0000${contentText(user.content)}`)
  );
}

export class StickySessions {
  constructor(
    private readonly store: StickyStore,
    private readonly ttlMs: number,
  ) {}

  async get(key: string): Promise<Pinned | undefined> {
    const pinned = await this.store.getSticky(key);
    return pinned === undefined ? undefined : (JSON.parse(pinned) as Pinned);
  }

  /** Pins (or refreshes) a session on the group and deployment that answered it. */
  pin(key: string, pinned: Pinned): Promise<void> {
    return this.store.setSticky(key, JSON.stringify(pinned), this.ttlMs);
  }
}
