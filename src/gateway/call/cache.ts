/**
 * The response cache (`cache_responses`): identical requests to the same group within
 * `default_cache_time_seconds` get the stored answer. Streams are cached only with
 * `cache_streams` and replayed as one chunk. `cache: {"no-cache": true}` skips it. Each caller
 * has its own entries (a hit would tell one tenant that another sent that exact prompt) unless
 * `cache_shared: true`.
 */
import { createHash } from 'node:crypto';
import type { GatewayConfig } from '../../config/gateway-schema.js';
import type { ResponseCacheStore } from '../state/state-store.js';
import type { ChatBody, ChatCompletion } from '../types.js';

export interface CachedAnswer {
  response: ChatCompletion;
  deploymentId: string;
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(
      Object.keys(value)
        .sort()
        .map((k) => [k, sortKeys((value as Record<string, unknown>)[k])]),
    );
  }
  return value;
}

export class ResponseCache {
  constructor(
    private readonly config: GatewayConfig,
    private readonly store: ResponseCacheStore,
  ) {}

  /** The cache key of a request to a group, or undefined when it is not cached. */
  key(group: string, body: ChatBody, stream: boolean, caller: string | undefined): string | undefined {
    if (!this.config.cache_responses || (stream && !this.config.cache_streams)) return undefined;
    const {
      stream: _s,
      user: _u,
      metadata: _m,
      cache,
      ...rest
    } = body as ChatBody & { user?: unknown; metadata?: unknown; cache?: { 'no-cache'?: boolean } };
    if (cache?.['no-cache']) return undefined;
    return `cache:${createHash('sha256')
      .update(JSON.stringify([group, this.config.cache_shared ? '' : (caller ?? ''), sortKeys(rest)]))
      .digest('hex')}`;
  }

  async get(key: string): Promise<CachedAnswer | undefined> {
    const hit = await this.store.getCached(key);
    return hit === undefined ? undefined : (JSON.parse(hit) as CachedAnswer);
  }

  set(key: string, answer: CachedAnswer): Promise<void> {
    return this.store.setCached(key, JSON.stringify(answer), this.config.default_cache_time_seconds * 1000);
  }
}
