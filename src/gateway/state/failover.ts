/**
 * Shared state that never fails a request: every operation goes to the shared store while it
 * answers, and to a local store when it does not. Losing Redis costs sharing (each instance
 * enforces limits and cooldowns on its own meanwhile), never a request. The change is logged
 * once each way, not per request, and reported by `status()` for `/health/readiness`.
 */
import type {
  Clock,
  Limits,
  SpendBucket,
  SpendHold,
  SpendTally,
  StateStore,
  StoreStatus,
  Usage,
} from './state-store.js';

export interface FailoverLogger {
  warn(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
}

/** The shared store plus what failover needs to know about its connection. */
export interface SharedStore extends StateStore {
  readonly ready: boolean;
  connected(timeoutMs: number): Promise<void>;
}

export class FailoverStateStore implements StateStore {
  private down = false;
  private since: number;
  private lastError: string | undefined;
  /** After a failure, the shared store is not tried again before this time (no per-request timeouts while it hangs). */
  private retryAt = 0;

  constructor(
    readonly shared: SharedStore,
    readonly local: StateStore,
    private readonly logger: FailoverLogger,
    private readonly now: Clock = Date.now,
    /** How long to stay on local state after a failure before trying the shared store again. */
    private readonly backoffMs = 1_000,
  ) {
    this.since = now();
  }

  async connected(timeoutMs: number): Promise<void> {
    try {
      await this.shared.connected(timeoutMs);
      // Connected now: no reason to stay on local state for the rest of a backoff.
      this.retryAt = 0;
    } catch {
      // Not there yet: local state serves, as it does whenever the shared store is away.
    }
  }

  private async use<T>(op: (store: StateStore) => Promise<T>): Promise<T> {
    if (this.shared.ready && this.now() >= this.retryAt) {
      try {
        const result = await op(this.shared);
        if (this.down) {
          this.down = false;
          this.since = this.now();
          this.logger.info(
            { state_store: this.shared.status().kind },
            'shared state store is back; using it again',
          );
        }
        return result;
      } catch (error) {
        this.fail(error as Error);
      }
    } else if (!this.down && !this.shared.ready) {
      this.fail(new Error('not connected'));
    }
    return op(this.local);
  }

  private fail(error: Error): void {
    this.retryAt = this.now() + this.backoffMs;
    this.lastError = error.message;
    if (this.down) return;
    this.down = true;
    this.since = this.now();
    this.logger.warn(
      { state_store: this.shared.status().kind, error: error.message },
      'shared state store unavailable; serving with local state until it returns',
    );
  }

  addUsage(id: string, requests: number, tokens: number): Promise<void> {
    return this.use((s) => s.addUsage(id, requests, tokens));
  }
  reserve(id: string, tokens: number, limits: Limits): Promise<boolean> {
    return this.use((s) => s.reserve(id, tokens, limits));
  }
  usage(ids: readonly string[]): Promise<Map<string, Usage>> {
    return this.use((s) => s.usage(ids));
  }
  holdSpend(buckets: readonly SpendBucket[], usd: number): Promise<SpendHold> {
    return this.use((s) => s.holdSpend(buckets, usd));
  }
  settleSpend(
    buckets: readonly SpendBucket[],
    heldUsd: number,
    spentUsd: number,
    totals: readonly string[],
  ): Promise<number[]> {
    return this.use((s) => s.settleSpend(buckets, heldUsd, spentUsd, totals));
  }
  tallies(buckets: readonly SpendBucket[]): Promise<SpendTally[]> {
    return this.use((s) => s.tallies(buckets));
  }
  spendTotals(prefix: string): Promise<Map<string, number>> {
    return this.use((s) => s.spendTotals(prefix));
  }
  recordFailure(id: string): Promise<number> {
    return this.use((s) => s.recordFailure(id));
  }
  clearFailures(id: string): Promise<void> {
    return this.use((s) => s.clearFailures(id));
  }
  coolDown(id: string, until: number): Promise<number> {
    return this.use((s) => s.coolDown(id, until));
  }
  cooldowns(ids: readonly string[]): Promise<Map<string, number>> {
    return this.use((s) => s.cooldowns(ids));
  }
  recordLatency(id: string, ms: number): Promise<void> {
    return this.use((s) => s.recordLatency(id, ms));
  }
  latencies(ids: readonly string[], ttlMs: number): Promise<Map<string, number>> {
    return this.use((s) => s.latencies(ids, ttlMs));
  }
  addInFlight(id: string, delta: number): Promise<number> {
    return this.use((s) => s.addInFlight(id, delta));
  }
  inFlight(ids: readonly string[]): Promise<Map<string, number>> {
    return this.use((s) => s.inFlight(ids));
  }
  getSticky(key: string): Promise<string | undefined> {
    return this.use((s) => s.getSticky(key));
  }
  setSticky(key: string, value: string, ttlMs: number): Promise<void> {
    return this.use((s) => s.setSticky(key, value, ttlMs));
  }
  getSession(token: string): Promise<string | undefined> {
    return this.use((s) => s.getSession(token));
  }
  setSession(token: string, value: string, ttlMs: number): Promise<void> {
    return this.use((s) => s.setSession(token, value, ttlMs));
  }
  deleteSession(token: string): Promise<void> {
    return this.use((s) => s.deleteSession(token));
  }
  getConversation(caller: string, id: string): Promise<string | undefined> {
    return this.use((s) => s.getConversation(caller, id));
  }
  putConversation(caller: string, id: string, value: string, ttlMs: number): Promise<void> {
    return this.use((s) => s.putConversation(caller, id, value, ttlMs));
  }
  getCached(key: string): Promise<string | undefined> {
    return this.use((s) => s.getCached(key));
  }
  setCached(key: string, value: string, ttlMs: number): Promise<void> {
    return this.use((s) => s.setCached(key, value, ttlMs));
  }

  status(): StoreStatus {
    const connected = this.shared.ready && !this.down;
    return {
      kind: this.shared.status().kind,
      shared: true,
      connected,
      since: new Date(this.since).toISOString(),
      mode: connected ? 'shared' : 'local',
      ...(connected ? {} : { lastError: this.lastError }),
    };
  }

  async close(): Promise<void> {
    await Promise.all([this.shared.close(), this.local.close()]);
  }
}
