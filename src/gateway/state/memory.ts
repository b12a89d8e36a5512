import {
  type Clock,
  CONVERSATIONS_PER_CALLER,
  type Limits,
  type SpendBucket,
  type SpendHold,
  type SpendTally,
  type StateStore,
  type StoreStatus,
  type Usage,
} from './state-store.js';

type Expiring = { value: string; expires: number };

const MINUTE = 60_000;
const LATENCY_SAMPLES = 50;

/**
 * A deployment's last LATENCY_SAMPLES latencies, oldest overwritten: a push per answered call
 * allocates nothing and moves nothing (an array's shift() of 50 objects was ~4 µs of a proxied
 * request, bench proxy profile).
 */
class LatencyRing {
  private readonly at = new Float64Array(LATENCY_SAMPLES);
  private readonly ms = new Float64Array(LATENCY_SAMPLES);
  private next = 0;
  private size = 0;

  push(at: number, ms: number): void {
    this.at[this.next] = at;
    this.ms[this.next] = ms;
    this.next = (this.next + 1) % LATENCY_SAMPLES;
    if (this.size < LATENCY_SAMPLES) this.size++;
  }

  /** The mean of the samples taken at `cutoff` or later, oldest first; undefined if none. */
  meanSince(cutoff: number): number | undefined {
    let sum = 0;
    let count = 0;
    const first = (this.next - this.size + LATENCY_SAMPLES) % LATENCY_SAMPLES;
    for (let i = 0; i < this.size; i++) {
      const k = (first + i) % LATENCY_SAMPLES;
      if (this.at[k]! >= cutoff) {
        sum += this.ms[k]!;
        count++;
      }
    }
    return count === 0 ? undefined : sum / count;
  }
}

/** In-process state. The clock is injected so tests move time without sleeping. */
export class MemoryStateStore implements StateStore {
  private readonly usageByMinute = new Map<string, { minute: number; usage: Usage }>();
  private readonly failures = new Map<string, { minute: number; count: number }>();
  private readonly cooling = new Map<string, number>();
  private readonly latency = new Map<string, LatencyRing>();
  private readonly flight = new Map<string, number>();
  private readonly sticky = new Map<string, { value: string; expires: number }>();
  private readonly cache = new Map<string, Expiring>();
  private readonly sessions = new Map<string, Expiring>();
  /** Budget tallies by `scope:window`; a window past its end is dropped when next touched. */
  private readonly spend = new Map<string, SpendTally & { end: number | undefined }>();
  private readonly totals = new Map<string, number>();
  /** Per caller, its conversations in the order they were stored (the oldest first). */
  private readonly conversations = new Map<string, Map<string, Expiring>>();

  constructor(
    private readonly now: Clock = Date.now,
    /** Most cached responses kept (LRU). Default 1000. */
    private readonly cacheCapacity = 1000,
    /** Most sticky sessions kept; the least recently pinned go first. Default 100,000. */
    private readonly stickyCapacity = 100_000,
    /** Conversations each caller keeps; its own oldest go first. */
    private readonly conversationQuota = CONVERSATIONS_PER_CALLER,
  ) {}

  private minute(): number {
    return Math.floor(this.now() / MINUTE);
  }

  async addUsage(id: string, requests: number, tokens: number): Promise<void> {
    const minute = this.minute();
    const entry = this.usageByMinute.get(id);
    if (entry === undefined || entry.minute !== minute) {
      this.usageByMinute.set(id, { minute, usage: { requests, tokens } });
    } else {
      entry.usage.requests += requests;
      entry.usage.tokens += tokens;
    }
  }

  async reserve(id: string, tokens: number, limits: Limits): Promise<boolean> {
    // No await between the check and the count: concurrent reserves cannot interleave.
    const minute = this.minute();
    const entry = this.usageByMinute.get(id);
    const current = entry?.minute === minute ? entry.usage : { requests: 0, tokens: 0 };
    if (limits.rpm !== undefined && current.requests + 1 > limits.rpm) return false;
    if (limits.tpm !== undefined && current.tokens + tokens > limits.tpm) return false;
    this.usageByMinute.set(id, {
      minute,
      usage: { requests: current.requests + 1, tokens: current.tokens + tokens },
    });
    return true;
  }

  async usage(ids: readonly string[]): Promise<Map<string, Usage>> {
    const minute = this.minute();
    return new Map(
      ids.map((id) => {
        const entry = this.usageByMinute.get(id);
        return [id, entry?.minute === minute ? { ...entry.usage } : { requests: 0, tokens: 0 }];
      }),
    );
  }

  async recordFailure(id: string): Promise<number> {
    const minute = this.minute();
    const entry = this.failures.get(id);
    const count = entry?.minute === minute ? entry.count + 1 : 1;
    this.failures.set(id, { minute, count });
    return count;
  }

  async clearFailures(id: string): Promise<void> {
    this.failures.delete(id);
  }

  async coolDown(id: string, until: number): Promise<number> {
    const deadline = Math.max(until, this.cooling.get(id) ?? 0);
    this.cooling.set(id, deadline);
    return deadline;
  }

  async cooldowns(ids: readonly string[]): Promise<Map<string, number>> {
    const now = this.now();
    const out = new Map<string, number>();
    for (const id of ids) {
      const until = this.cooling.get(id);
      if (until === undefined) continue;
      if (until > now) out.set(id, until);
      else this.cooling.delete(id);
    }
    return out;
  }

  async recordLatency(id: string, ms: number): Promise<void> {
    let ring = this.latency.get(id);
    if (ring === undefined) {
      ring = new LatencyRing();
      this.latency.set(id, ring);
    }
    ring.push(this.now(), ms);
  }

  async latencies(ids: readonly string[], ttlMs: number): Promise<Map<string, number>> {
    const cutoff = this.now() - ttlMs;
    const out = new Map<string, number>();
    for (const id of ids) {
      const mean = this.latency.get(id)?.meanSince(cutoff);
      if (mean !== undefined) out.set(id, mean);
    }
    return out;
  }

  async addInFlight(id: string, delta: number): Promise<number> {
    const value = Math.max(0, (this.flight.get(id) ?? 0) + delta);
    if (value === 0) this.flight.delete(id);
    else this.flight.set(id, value);
    return value;
  }

  async inFlight(ids: readonly string[]): Promise<Map<string, number>> {
    return new Map(ids.map((id) => [id, this.flight.get(id) ?? 0]));
  }

  private tally(bucket: SpendBucket): SpendTally & { end: number | undefined } {
    const name = `${bucket.scope}:${bucket.window}`;
    let entry = this.spend.get(name);
    if (entry === undefined) {
      // Windows that have ended go as new ones open: a month of 30 s windows does not pile up.
      const now = this.now();
      for (const [old, e] of this.spend) if (e.end !== undefined && e.end <= now) this.spend.delete(old);
      entry = { spent: 0, held: 0, end: bucket.end };
      this.spend.set(name, entry);
    }
    return entry;
  }

  async holdSpend(buckets: readonly SpendBucket[], usd: number): Promise<SpendHold> {
    // No await between the checks and the holds: concurrent holds cannot interleave.
    const tallies = buckets.map((b) => this.tally(b));
    const full = tallies.findIndex((t, i) => t.spent + t.held >= buckets[i]!.limit);
    if (full < 0) for (const t of tallies) t.held += usd;
    return { full, spent: tallies.map((t) => t.spent) };
  }

  async settleSpend(
    buckets: readonly SpendBucket[],
    heldUsd: number,
    spentUsd: number,
    totals: readonly string[],
  ): Promise<number[]> {
    const spent = buckets.map((b) => {
      const t = this.tally(b);
      t.held = Math.max(0, t.held - heldUsd);
      t.spent += spentUsd;
      return t.spent;
    });
    if (spentUsd !== 0)
      for (const name of totals) this.totals.set(name, (this.totals.get(name) ?? 0) + spentUsd);
    return spent;
  }

  async tallies(buckets: readonly SpendBucket[]): Promise<SpendTally[]> {
    return buckets.map((b) => {
      const t = this.spend.get(`${b.scope}:${b.window}`);
      return { spent: t?.spent ?? 0, held: t?.held ?? 0 };
    });
  }

  async spendTotals(prefix: string): Promise<Map<string, number>> {
    return new Map([...this.totals].filter(([name]) => name.startsWith(prefix)));
  }

  async getSticky(key: string): Promise<string | undefined> {
    return this.live(this.sticky, key);
  }

  async setSticky(key: string, value: string, ttlMs: number): Promise<void> {
    // Re-inserting keeps the map in pinning order, so the oldest and first to expire are in front:
    // every conversation without a session id pins one entry, and none may stay forever.
    this.sticky.delete(key);
    this.sticky.set(key, { value, expires: this.now() + ttlMs });
    const now = this.now();
    for (const [oldest, entry] of this.sticky) {
      if (this.sticky.size <= this.stickyCapacity && entry.expires > now) break;
      this.sticky.delete(oldest);
    }
  }

  async getCached(key: string): Promise<string | undefined> {
    const value = this.live(this.cache, key);
    if (value !== undefined) {
      const entry = this.cache.get(key)!;
      this.cache.delete(key);
      this.cache.set(key, entry);
    }
    return value;
  }

  async setCached(key: string, value: string, ttlMs: number): Promise<void> {
    this.cache.delete(key);
    this.cache.set(key, { value, expires: this.now() + ttlMs });
    while (this.cache.size > this.cacheCapacity) this.cache.delete(this.cache.keys().next().value as string);
  }

  async getSession(token: string): Promise<string | undefined> {
    return this.live(this.sessions, token);
  }

  async setSession(token: string, value: string, ttlMs: number): Promise<void> {
    this.sessions.set(token, { value, expires: this.now() + ttlMs });
    // Expired sessions go as new ones come: a login storm cannot grow this for ever.
    const now = this.now();
    for (const [key, entry] of this.sessions) if (entry.expires <= now) this.sessions.delete(key);
  }

  async deleteSession(token: string): Promise<void> {
    this.sessions.delete(token);
  }

  async getConversation(caller: string, id: string): Promise<string | undefined> {
    const own = this.conversations.get(caller);
    return own === undefined ? undefined : this.live(own, id);
  }

  async putConversation(caller: string, id: string, value: string, ttlMs: number): Promise<void> {
    let own = this.conversations.get(caller);
    if (own === undefined) {
      own = new Map();
      this.conversations.set(caller, own);
    }
    own.delete(id);
    own.set(id, { value, expires: this.now() + ttlMs });
    const now = this.now();
    for (const [oldest, entry] of own) {
      if (own.size <= this.conversationQuota && entry.expires > now) break;
      own.delete(oldest);
    }
  }

  private live(map: Map<string, Expiring>, key: string): string | undefined {
    const entry = map.get(key);
    if (entry === undefined) return undefined;
    if (entry.expires <= this.now()) {
      map.delete(key);
      return undefined;
    }
    return entry.value;
  }

  /** Sticky sessions held: for leak checks. */
  get stickySize(): number {
    return this.sticky.size;
  }

  /** Deployments with in-flight entries: for leak checks. */
  get inFlightSize(): number {
    return this.flight.size;
  }

  status(): StoreStatus {
    return { kind: 'memory', shared: false, connected: true };
  }

  async close(): Promise<void> {}
}
