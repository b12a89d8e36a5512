/**
 * Shared state in Redis, for several proxies behind one load balancer. Every write is one
 * atomic step (a Lua script or MULTI), and every read goes to Redis at pick time: nothing is
 * batched or synced later, so a cooldown set by one instance holds in the next request of any
 * other (LiteLLM #34836 enforced them late because of batched sync).
 *
 * Time comes from the injected clock, not Redis: minute windows, deadlines and expiries are
 * computed by the caller and stored in the values, and Redis TTLs only collect garbage. Instances
 * therefore need clocks in step (NTP), as they do for any rate limit.
 */
import { createRequire } from 'node:module';
import type { Redis } from 'ioredis';

/**
 * ioredis, loaded when the first Redis store is made: a proxy without Redis (the default) does
 * not pay its ~15 MB of resident memory. Its CommonJS entry loads synchronously.
 */
let redisClass: typeof Redis | undefined;
function loadRedis(): typeof Redis {
  redisClass ??= (createRequire(import.meta.url)('ioredis') as { Redis: typeof Redis }).Redis;
  return redisClass;
}
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

const MINUTE = 60_000;
const LATENCY_SAMPLES = 50;
/** Keys of a minute window outlive it a little, for reads near the boundary. */
const WINDOW_TTL = 2 * MINUTE;
/** In-flight counters of an instance that died are forgotten after this long. */
const IN_FLIGHT_TTL = 10 * MINUTE;
const LATENCY_TTL = 60 * MINUTE;

const RESERVE = `
local r = tonumber(redis.call('HGET', KEYS[1], 'r') or '0')
local t = tonumber(redis.call('HGET', KEYS[1], 't') or '0')
local tokens = tonumber(ARGV[1])
local rpm = tonumber(ARGV[2])
local tpm = tonumber(ARGV[3])
if rpm > 0 and r + 1 > rpm then return 0 end
if tpm > 0 and t + tokens > tpm then return 0 end
redis.call('HINCRBY', KEYS[1], 'r', 1)
redis.call('HINCRBY', KEYS[1], 't', tokens)
redis.call('PEXPIRE', KEYS[1], ARGV[4])
return 1`;

const COOL_DOWN = `
local current = tonumber(redis.call('GET', KEYS[1]) or '0')
local deadline = math.max(current, tonumber(ARGV[1]))
local ttl = deadline - tonumber(ARGV[2])
if ttl > 0 then redis.call('SET', KEYS[1], string.format('%d', deadline), 'PX', math.floor(ttl) + 1000) end
return string.format('%d', deadline)`;

const IN_FLIGHT = `
local v = redis.call('INCRBY', KEYS[1], ARGV[1])
if v <= 0 then redis.call('DEL', KEYS[1]) return 0 end
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return v`;

/**
 * A conversation stored with its caller's index (a sorted set by time): past the quota, that
 * caller's oldest are removed in the same step, and no one else's.
 * KEYS: value key, index key. ARGV: value, ttl ms, id, now, quota, value-key prefix.
 */
const PUT_CONVERSATION = `
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
redis.call('ZADD', KEYS[2], ARGV[4], ARGV[3])
redis.call('PEXPIRE', KEYS[2], ARGV[2])
local excess = redis.call('ZCARD', KEYS[2]) - tonumber(ARGV[5])
if excess > 0 then
  local old = redis.call('ZRANGE', KEYS[2], 0, excess - 1)
  redis.call('ZREMRANGEBYRANK', KEYS[2], 0, excess - 1)
  for _, id in ipairs(old) do redis.call('DEL', ARGV[6] .. id) end
end
return 1`;

/**
 * A hold on N budget tallies (hashes: s = spent, h = held), all or none: every bucket is checked
 * before any is touched, in one script, so concurrent holds from any instance see each other.
 * KEYS: the tallies. ARGV: usd, then per key its limit and the epoch ms its key may go (0: never).
 */
const HOLD_SPEND = `
local usd = tonumber(ARGV[1])
local spent = {}
local full = -1
for i, key in ipairs(KEYS) do
  local s = redis.call('HGET', key, 's') or '0'
  local h = tonumber(redis.call('HGET', key, 'h') or '0')
  spent[i + 1] = s
  if full < 0 and tonumber(s) + h >= tonumber(ARGV[2 * i]) then full = i - 1 end
end
spent[1] = tostring(full)
if full >= 0 then return spent end
for i, key in ipairs(KEYS) do
  redis.call('HINCRBYFLOAT', key, 'h', usd)
  local expire = tonumber(ARGV[2 * i + 1])
  if expire > 0 then redis.call('PEXPIREAT', key, expire) end
end
return spent`;

/** Ends a hold. KEYS: the tallies, then the totals hash. ARGV: held, spent, then the totals' names. */
const SETTLE_SPEND = `
local held = tonumber(ARGV[1])
local spent = tonumber(ARGV[2])
local after = {}
for i = 1, #KEYS - 1 do
  local h = tonumber(redis.call('HINCRBYFLOAT', KEYS[i], 'h', -held))
  if h < 0 then redis.call('HSET', KEYS[i], 'h', '0') end
  if spent ~= 0 then after[i] = redis.call('HINCRBYFLOAT', KEYS[i], 's', spent)
  else after[i] = redis.call('HGET', KEYS[i], 's') or '0' end
end
if spent ~= 0 then
  for j = 3, #ARGV do redis.call('HINCRBYFLOAT', KEYS[#KEYS], ARGV[j], spent) end
end
return after`;

/** A window's tally outlives its end a little, for `/key/info` near the boundary. */
const SPEND_GRACE = 10 * MINUTE;

interface Scripts {
  semrouteHoldSpend(...args: Array<string | number>): Promise<string[]>;
  semrouteSettleSpend(...args: Array<string | number>): Promise<string[]>;
  semrouteConversation(
    value: string,
    index: string,
    text: string,
    ttl: number,
    id: string,
    now: number,
    quota: number,
    prefix: string,
  ): Promise<number>;
  semrouteReserve(key: string, tokens: number, rpm: number, tpm: number, ttl: number): Promise<number>;
  semrouteCoolDown(key: string, until: number, now: number): Promise<string>;
  semrouteInFlight(key: string, delta: number, ttl: number): Promise<number>;
}

export interface RedisStoreOptions {
  /** `redis://[:password@]host:port[/db]`; wins over host/port. */
  url?: string | undefined;
  host?: string | undefined;
  port?: number | undefined;
  password?: string | undefined;
  /** Prepended to every key, so several deployments can share one server. Default `semroute:`. */
  prefix?: string | undefined;
  clock?: Clock | undefined;
  /** A command that takes longer fails (and the caller falls back). Default 500 ms. */
  commandTimeoutMs?: number | undefined;
  /** Called on connection errors (ioredis emits them as events; unhandled they would crash the process). */
  onError?: ((error: Error) => void) | undefined;
  /** Conversations each caller keeps. Default CONVERSATIONS_PER_CALLER. */
  conversationQuota?: number | undefined;
}

export class RedisStateStore implements StateStore {
  readonly redis: Redis;
  private readonly scripts: Scripts;
  private readonly prefix: string;
  private readonly now: Clock;
  private readonly conversationQuota: number;

  constructor(options: RedisStoreOptions = {}) {
    this.prefix = options.prefix ?? 'semroute:';
    this.conversationQuota = options.conversationQuota ?? CONVERSATIONS_PER_CALLER;
    this.now = options.clock ?? Date.now;
    const common = {
      // Fail commands at once while disconnected: the caller has local state to fall back on,
      // and a queue would hold requests hostage to a server that may not come back.
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      commandTimeout: options.commandTimeoutMs ?? 500,
      connectTimeout: 2_000,
      // Reconnect forever, at most every 2 s.
      retryStrategy: (times: number) => Math.min(100 * times, 2_000),
      lazyConnect: false,
    };
    const RedisClient = loadRedis();
    this.redis =
      options.url !== undefined
        ? new RedisClient(options.url, common)
        : new RedisClient({
            ...common,
            host: options.host ?? '127.0.0.1',
            port: options.port ?? 6379,
            ...(options.password !== undefined ? { password: options.password } : {}),
          });
    this.redis.on('error', (error: Error) => options.onError?.(error));
    this.redis.defineCommand('semrouteReserve', { numberOfKeys: 1, lua: RESERVE });
    this.redis.defineCommand('semrouteCoolDown', { numberOfKeys: 1, lua: COOL_DOWN });
    this.redis.defineCommand('semrouteInFlight', { numberOfKeys: 1, lua: IN_FLIGHT });
    this.redis.defineCommand('semrouteConversation', { numberOfKeys: 2, lua: PUT_CONVERSATION });
    this.redis.defineCommand('semrouteHoldSpend', { lua: HOLD_SPEND });
    this.redis.defineCommand('semrouteSettleSpend', { lua: SETTLE_SPEND });
    this.scripts = this.redis as unknown as Scripts;
  }

  /** True while connected and able to take commands. */
  get ready(): boolean {
    return this.redis.status === 'ready';
  }

  /** Resolves once connected (or rejects after `timeoutMs`). */
  async connected(timeoutMs = 5_000): Promise<void> {
    if (this.ready) return;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.redis.off('ready', onReady);
        reject(new Error(`Redis not ready after ${timeoutMs} ms`));
      }, timeoutMs);
      const onReady = () => {
        clearTimeout(timer);
        resolve();
      };
      this.redis.once('ready', onReady);
    });
  }

  private key(kind: string, id: string, minute?: number): string {
    return minute === undefined ? `${this.prefix}${kind}:${id}` : `${this.prefix}${kind}:${id}:${minute}`;
  }

  private minute(): number {
    return Math.floor(this.now() / MINUTE);
  }

  async addUsage(id: string, requests: number, tokens: number): Promise<void> {
    const key = this.key('u', id, this.minute());
    await this.redis
      .multi()
      .hincrby(key, 'r', Math.round(requests))
      .hincrby(key, 't', Math.round(tokens))
      .pexpire(key, WINDOW_TTL)
      .exec()
      .then(check);
  }

  async reserve(id: string, tokens: number, limits: Limits): Promise<boolean> {
    const key = this.key('u', id, this.minute());
    const ok = await this.scripts.semrouteReserve(
      key,
      Math.round(tokens),
      limits.rpm ?? 0,
      limits.tpm ?? 0,
      WINDOW_TTL,
    );
    return ok === 1;
  }

  async usage(ids: readonly string[]): Promise<Map<string, Usage>> {
    const minute = this.minute();
    const pipeline = this.redis.pipeline();
    for (const id of ids) pipeline.hmget(this.key('u', id, minute), 'r', 't');
    const rows = check(await pipeline.exec()) as Array<[string | null, string | null]>;
    return new Map(
      ids.map((id, i) => {
        const [r, t] = rows[i] ?? [null, null];
        return [id, { requests: Number(r ?? 0), tokens: Number(t ?? 0) }];
      }),
    );
  }

  async recordFailure(id: string): Promise<number> {
    const key = this.key('f', id, this.minute());
    const [count] = check(await this.redis.multi().incr(key).pexpire(key, WINDOW_TTL).exec());
    return Number(count);
  }

  async clearFailures(id: string): Promise<void> {
    await this.redis.del(this.key('f', id, this.minute()));
  }

  async coolDown(id: string, until: number): Promise<number> {
    return Number(await this.scripts.semrouteCoolDown(this.key('c', id), Math.ceil(until), this.now()));
  }

  async cooldowns(ids: readonly string[]): Promise<Map<string, number>> {
    const out = new Map<string, number>();
    if (ids.length === 0) return out;
    const values = await this.redis.mget(ids.map((id) => this.key('c', id)));
    const now = this.now();
    ids.forEach((id, i) => {
      const until = Number(values[i] ?? 0);
      if (until > now) out.set(id, until);
    });
    return out;
  }

  async recordLatency(id: string, ms: number): Promise<void> {
    const key = this.key('l', id);
    check(
      await this.redis
        .multi()
        .lpush(key, `${this.now()}:${ms}`)
        .ltrim(key, 0, LATENCY_SAMPLES - 1)
        .pexpire(key, LATENCY_TTL)
        .exec(),
    );
  }

  async latencies(ids: readonly string[], ttlMs: number): Promise<Map<string, number>> {
    const pipeline = this.redis.pipeline();
    for (const id of ids) pipeline.lrange(this.key('l', id), 0, -1);
    const lists = check(await pipeline.exec()) as string[][];
    const cutoff = this.now() - ttlMs;
    const out = new Map<string, number>();
    ids.forEach((id, i) => {
      const fresh = (lists[i] ?? [])
        .map((s) => s.split(':').map(Number) as [number, number])
        .filter(([at]) => at >= cutoff);
      if (fresh.length > 0) out.set(id, fresh.reduce((a, [, ms]) => a + ms, 0) / fresh.length);
    });
    return out;
  }

  async addInFlight(id: string, delta: number): Promise<number> {
    return Number(await this.scripts.semrouteInFlight(this.key('i', id), delta, IN_FLIGHT_TTL));
  }

  async inFlight(ids: readonly string[]): Promise<Map<string, number>> {
    if (ids.length === 0) return new Map();
    const values = await this.redis.mget(ids.map((id) => this.key('i', id)));
    return new Map(ids.map((id, i) => [id, Math.max(0, Number(values[i] ?? 0))]));
  }

  private spendKey(bucket: SpendBucket): string {
    return `${this.prefix}s:${bucket.scope}:${bucket.window}`;
  }

  async holdSpend(buckets: readonly SpendBucket[], usd: number): Promise<SpendHold> {
    if (buckets.length === 0) return { full: -1, spent: [] };
    const args: Array<string | number> = [buckets.length, ...buckets.map((b) => this.spendKey(b)), usd];
    // A limit as Lua reads it: %.17g keeps every digit, and MAX_VALUE stays a number.
    for (const b of buckets)
      args.push(b.limit.toPrecision(17), b.end === undefined ? 0 : b.end + SPEND_GRACE);
    const [full, ...spent] = await this.scripts.semrouteHoldSpend(...args);
    return { full: Number(full), spent: spent.map(Number) };
  }

  async settleSpend(
    buckets: readonly SpendBucket[],
    heldUsd: number,
    spentUsd: number,
    totals: readonly string[],
  ): Promise<number[]> {
    const keys = [...buckets.map((b) => this.spendKey(b)), `${this.prefix}spend-totals`];
    const after = await this.scripts.semrouteSettleSpend(keys.length, ...keys, heldUsd, spentUsd, ...totals);
    return after.map(Number);
  }

  async tallies(buckets: readonly SpendBucket[]): Promise<SpendTally[]> {
    if (buckets.length === 0) return [];
    const pipeline = this.redis.pipeline();
    for (const b of buckets) pipeline.hmget(this.spendKey(b), 's', 'h');
    const replies = check(await pipeline.exec()) as Array<[string | null, string | null]>;
    return replies.map(([s, h]) => ({ spent: Number(s ?? 0), held: Math.max(0, Number(h ?? 0)) }));
  }

  async spendTotals(prefix: string): Promise<Map<string, number>> {
    const all = await this.redis.hgetall(`${this.prefix}spend-totals`);
    const out = new Map<string, number>();
    for (const [name, value] of Object.entries(all))
      if (name.startsWith(prefix)) out.set(name, Number(value));
    return out;
  }

  async getSticky(key: string): Promise<string | undefined> {
    return this.getExpiring(this.key('s', key));
  }

  async setSticky(key: string, value: string, ttlMs: number): Promise<void> {
    await this.setExpiring(this.key('s', key), value, ttlMs);
  }

  async getCached(key: string): Promise<string | undefined> {
    return this.getExpiring(this.key('r', key));
  }

  async getSession(token: string): Promise<string | undefined> {
    return this.getExpiring(this.key('u', token));
  }

  async setSession(token: string, value: string, ttlMs: number): Promise<void> {
    await this.setExpiring(this.key('u', token), value, ttlMs);
  }

  async deleteSession(token: string): Promise<void> {
    await this.redis.del(this.key('u', token));
  }

  async getConversation(caller: string, id: string): Promise<string | undefined> {
    return this.getExpiring(this.key('c', `${caller}:${id}`));
  }

  async putConversation(caller: string, id: string, value: string, ttlMs: number): Promise<void> {
    const ttl = Math.max(1, Math.ceil(ttlMs));
    await this.scripts.semrouteConversation(
      this.key('c', `${caller}:${id}`),
      this.key('ci', caller),
      `${Math.round(this.now() + ttlMs)}\n${value}`,
      ttl,
      id,
      this.now(),
      this.conversationQuota,
      this.key('c', `${caller}:`),
    );
  }

  async setCached(key: string, value: string, ttlMs: number): Promise<void> {
    await this.setExpiring(this.key('r', key), value, ttlMs);
  }

  /** Values carry their own deadline (by the injected clock); the Redis TTL only collects garbage. */
  private async setExpiring(key: string, value: string, ttlMs: number): Promise<void> {
    await this.redis.set(
      key,
      `${Math.round(this.now() + ttlMs)}\n${value}`,
      'PX',
      Math.max(1, Math.ceil(ttlMs)),
    );
  }

  private async getExpiring(key: string): Promise<string | undefined> {
    const raw = await this.redis.get(key);
    if (raw === null) return undefined;
    const cut = raw.indexOf('\n');
    if (cut < 0 || Number(raw.slice(0, cut)) <= this.now()) return undefined;
    return raw.slice(cut + 1);
  }

  status(): StoreStatus {
    return { kind: 'redis', shared: true, connected: this.ready };
  }

  async close(): Promise<void> {
    try {
      await this.redis.quit();
    } catch {
      this.redis.disconnect();
    }
  }
}

/** A MULTI or pipeline reply: the results, or the first command's error. */
function check(replies: Array<[Error | null, unknown]> | null): unknown[] {
  if (replies === null) throw new Error('Redis transaction aborted');
  return replies.map(([error, value]) => {
    if (error) throw error;
    return value;
  });
}
