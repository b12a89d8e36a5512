/**
 * Shared routing state: usage windows, failures and cooldowns, latency windows, in-flight
 * counts, sticky sessions and the response cache. Every operation is one atomic step in Redis
 * (INCR/EXPIRE, Lua or MULTI) so a second implementation can keep the same semantics.
 * One conformance suite: `test/gateway/state-store.case.ts`.
 */

export interface Usage {
  requests: number;
  tokens: number;
}

export interface Limits {
  rpm?: number | undefined;
  tpm?: number | undefined;
}

export interface StoreStatus {
  kind: string;
  /** Whether other instances see this state. */
  shared: boolean;
  /** False while the shared backend is unreachable (and local state serves). */
  connected: boolean;
  /** Where state lives right now: the shared backend, or this instance's memory while it is away. */
  mode?: 'shared' | 'local' | undefined;
  /** When the current connected/disconnected period began (ISO). */
  since?: string | undefined;
  lastError?: string | undefined;
}

export interface StateStore {
  /** Adds to the current minute's usage of a deployment (tokens may be negative, to correct an estimate). */
  addUsage(id: string, requests: number, tokens: number): Promise<void>;
  /**
   * Counts one request of `tokens` in the current minute if it stays within the limits, in one
   * atomic step; false (and nothing counted) when it would not. Concurrent requests, here or on
   * other instances, cannot overshoot an rpm/tpm limit.
   */
  reserve(id: string, tokens: number, limits: Limits): Promise<boolean>;
  /** The current minute's usage of each id (zeros when none). */
  usage(ids: readonly string[]): Promise<Map<string, Usage>>;
  /** Counts a failure in the current minute; returns the count so far. */
  recordFailure(id: string): Promise<number>;
  clearFailures(id: string): Promise<void>;
  /** Cools a deployment until `until` (epoch ms); an earlier deadline is replaced by a later one, never the reverse. */
  coolDown(id: string, until: number): Promise<number>;
  /** Cooldown deadlines of the ids still cooling. */
  cooldowns(ids: readonly string[]): Promise<Map<string, number>>;
  /** Records a latency sample (ms per output token or whole-call ms, as the caller decides). */
  recordLatency(id: string, ms: number): Promise<void>;
  /** Mean latency of samples younger than the TTL, per id (absent: no samples). */
  latencies(ids: readonly string[], ttlMs: number): Promise<Map<string, number>>;
  /** Adjusts and returns the in-flight count. */
  addInFlight(id: string, delta: number): Promise<number>;
  inFlight(ids: readonly string[]): Promise<Map<string, number>>;
  /** Sticky session value, or undefined when absent or expired. */
  getSticky(key: string): Promise<string | undefined>;
  /** Sets (and refreshes) a sticky session for `ttlMs`. */
  setSticky(key: string, value: string, ttlMs: number): Promise<void>;
  getCached(key: string): Promise<string | undefined>;
  setCached(key: string, value: string, ttlMs: number): Promise<void>;
  status(): StoreStatus;
  close(): Promise<void>;
}

export type Clock = () => number;
