/**
 * Shared state, one small interface per purpose: usage counters and limits, cooldowns, sticky
 * sessions, route-page sessions, stored conversations, the response cache and budgets' spend. Each consumer
 * asks for the purpose it needs; a backend (memory, Redis, Redis with failover) implements them
 * all behind `StateStore`. Every operation is one atomic step in Redis (INCR/EXPIRE, Lua or
 * MULTI) so both backends keep the same semantics. One conformance suite per purpose:
 * `test/gateway/state/state-store.case.ts`.
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

/** Per-deployment counters: rpm/tpm windows, latency samples, requests in flight. */
export interface UsageCounters {
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
  /** Records a latency sample (ms per output token or whole-call ms, as the caller decides). */
  recordLatency(id: string, ms: number): Promise<void>;
  /** Mean latency of samples younger than the TTL, per id (absent: no samples). */
  latencies(ids: readonly string[], ttlMs: number): Promise<Map<string, number>>;
  /** Adjusts and returns the in-flight count. */
  addInFlight(id: string, delta: number): Promise<number>;
  inFlight(ids: readonly string[]): Promise<Map<string, number>>;
}

/** Failures and cooldowns of deployments. */
export interface CooldownStore {
  /** Counts a failure in the current minute; returns the count so far. */
  recordFailure(id: string): Promise<number>;
  clearFailures(id: string): Promise<void>;
  /** Cools a deployment until `until` (epoch ms); an earlier deadline is replaced by a later one, never the reverse. */
  coolDown(id: string, until: number): Promise<number>;
  /** Cooldown deadlines of the ids still cooling. */
  cooldowns(ids: readonly string[]): Promise<Map<string, number>>;
}

/** `auto`'s sticky sessions: a conversation's model, for a TTL refreshed by each use. */
export interface StickyStore {
  /** Sticky session value, or undefined when absent or expired. */
  getSticky(key: string): Promise<string | undefined>;
  /** Sets (and refreshes) a sticky session for `ttlMs`. */
  setSticky(key: string, value: string, ttlMs: number): Promise<void>;
}

/** Route-page login sessions. */
export interface SessionStore {
  getSession(token: string): Promise<string | undefined>;
  setSession(token: string, value: string, ttlMs: number): Promise<void>;
  /** Logout: the session is gone at once, on every instance. */
  deleteSession(token: string): Promise<void>;
}

/**
 * Conversations the Responses API keeps (`previous_response_id`, `item_reference`), per caller.
 * Each caller has its own quota: a caller's new conversations evict only its own oldest, so one
 * tenant's traffic can never push another's out.
 */
export interface ConversationStore {
  getConversation(caller: string, id: string): Promise<string | undefined>;
  putConversation(caller: string, id: string, value: string, ttlMs: number): Promise<void>;
}

/** Answers of `cache_responses`, by request hash. */
export interface ResponseCacheStore {
  getCached(key: string): Promise<string | undefined>;
  setCached(key: string, value: string, ttlMs: number): Promise<void>;
}

/** One budget window's tally, for one scope (a key, the whole proxy). */
export interface SpendBucket {
  /** Whose budget: `key:<id>`, `proxy`. */
  readonly scope: string;
  /** Epoch ms its window began (0: a budget that never resets): a new window is a new tally. */
  readonly window: number;
  /** Epoch ms the window ends, after which its tally may be forgotten; undefined: never. */
  readonly end: number | undefined;
  /** The budget, USD. */
  readonly limit: number;
}

export interface SpendTally {
  /** USD settled in the window. */
  spent: number;
  /** USD held by requests in flight (their estimate, until they settle). */
  held: number;
}

export interface SpendHold {
  full: number;
  spent: number[];
}

/**
 * Budgets (`max_budget`): spend per window, with holds for requests in flight, so that concurrent
 * requests here or on other instances cannot overshoot a budget by more than one request.
 */
export interface SpendStore {
  /**
   * Holds `usd` in every bucket if each still has room (spent + held below its limit), in one
   * atomic step. `full` is -1 when held, else the index of the first bucket without room (and
   * nothing is held anywhere); `spent` is each bucket's settled spend.
   */
  holdSpend(buckets: readonly SpendBucket[], usd: number): Promise<SpendHold>;
  /**
   * Ends a hold in one atomic step: `heldUsd` leaves the buckets' held, `spentUsd` joins their
   * spent and the running totals named in `totals` (`key:<alias>`, `model:<group>`). Returns
   * each bucket's spend after.
   */
  settleSpend(
    buckets: readonly SpendBucket[],
    heldUsd: number,
    spentUsd: number,
    totals: readonly string[],
  ): Promise<number[]>;
  tallies(buckets: readonly SpendBucket[]): Promise<SpendTally[]>;
  /** The running totals whose names start with `prefix`, settled since the store began. */
  spendTotals(prefix: string): Promise<Map<string, number>>;
}

export interface StateStore
  extends UsageCounters,
    SpendStore,
    CooldownStore,
    StickyStore,
    SessionStore,
    ConversationStore,
    ResponseCacheStore {
  status(): StoreStatus;
  /**
   * Resolves once a shared backend is connected, or after `timeoutMs` whatever it is (then local
   * state serves until it connects). A proxy waits for it before taking traffic: requests in the
   * first moments would otherwise be counted on local state only (budgets, rate limits).
   */
  connected?(timeoutMs: number): Promise<void>;
  close(): Promise<void>;
}

/** Conversations one caller keeps at most; the oldest go first. */
export const CONVERSATIONS_PER_CALLER = 1_000;

export type Clock = () => number;
