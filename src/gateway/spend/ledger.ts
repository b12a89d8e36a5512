/**
 * Budgets and a key's own limits, enforced before a call and settled after it (LiteLLM's
 * `max_budget`, `budget_duration`, `rpm_limit`, `tpm_limit`, `max_parallel_requests`).
 *
 * A request opens a tab: the key's rpm/tpm are reserved and a parallel slot taken (refused: a
 * 429 before anything is routed). Before each group is called, the tab holds the most that group
 * could cost (its priciest deployment, the prompt's tokens and the answer's most); a budget whose
 * spend plus holds has reached its limit refuses the request. When the answer is done the hold
 * is released and the real cost spent. Every step is one atomic store operation, so concurrent
 * requests on any number of instances overshoot a budget by at most one request's cost.
 */
import type { BudgetDuration } from '../../config/budget-duration.js';
import { ErrorCode, SemrouteError } from '../../errors.js';
import type { SpendBucket, SpendStore, UsageCounters } from '../state/state-store.js';
import { budgetWindow } from './budget-window.js';

/** Who pays: a virtual key's limits, as the config gave them. */
export interface Account {
  /** A hash of the key (never the key). */
  readonly id: string;
  /** `key_alias`, else `key-<id>`: its name in spend reports and metrics. */
  readonly alias: string;
  readonly maxBudgetUsd?: number | undefined;
  readonly budgetDuration?: BudgetDuration | undefined;
  readonly rpm?: number | undefined;
  readonly tpm?: number | undefined;
  readonly maxParallel?: number | undefined;
}

/** The whole proxy's budget (litellm_settings.max_budget). */
export interface ProxyBudget {
  readonly maxBudgetUsd: number;
  readonly budgetDuration?: BudgetDuration | undefined;
}

export interface LedgerDeps {
  store: SpendStore & Pick<UsageCounters, 'reserve' | 'addUsage' | 'addInFlight'>;
  now: () => number;
  proxy?: ProxyBudget | undefined;
}

/** Where a budget stands now. */
export interface BudgetStatus {
  spentUsd: number;
  /** Held by requests in flight. */
  heldUsd: number;
  budgetUsd: number | undefined;
  /** When the window's spend starts again from zero (epoch ms); undefined: never. */
  resetAt: number | undefined;
}

/** A key without a budget still has its spend counted (for /key/info): a limit never reached. */
const UNLIMITED = Number.MAX_VALUE;
const MINUTE = 60_000;

const usageId = (account: Account) => `account:${account.id}`;
const parallelId = (account: Account) => `account:${account.id}:parallel`;

export class Ledger {
  constructor(private readonly deps: LedgerDeps) {}

  /** Whether anything is tracked for this caller: a key, or a proxy budget. */
  tracks(account: Account | undefined): boolean {
    return account !== undefined || this.deps.proxy !== undefined;
  }

  /** The key's bucket (first) and the proxy's, in the windows `now` falls in. */
  private buckets(account: Account | undefined, now: number): SpendBucket[] {
    const out: SpendBucket[] = [];
    if (account !== undefined) {
      const w = budgetWindow(account.budgetDuration, now);
      out.push({
        scope: `key:${account.id}`,
        window: w.start,
        end: w.end,
        limit: account.maxBudgetUsd ?? UNLIMITED,
      });
    }
    const proxy = this.deps.proxy;
    if (proxy !== undefined) {
      const w = budgetWindow(proxy.budgetDuration, now);
      out.push({ scope: 'proxy', window: w.start, end: w.end, limit: proxy.maxBudgetUsd });
    }
    return out;
  }

  /**
   * Opens a request's tab: the key's rpm/tpm counted for `tokens` and a parallel slot taken, or a
   * KEY_LIMITED refusal (nothing counted).
   */
  async open(account: Account | undefined, tokens: number): Promise<Tab> {
    const { store, now } = this.deps;
    let parallel = false;
    if (account?.maxParallel !== undefined) {
      const running = await store.addInFlight(parallelId(account), 1);
      parallel = true;
      if (running > account.maxParallel) {
        await store.addInFlight(parallelId(account), -1);
        throw limited(account, `max_parallel_requests ${account.maxParallel}`, now() + 1_000);
      }
    }
    if (account !== undefined && (account.rpm !== undefined || account.tpm !== undefined)) {
      const ok = await store.reserve(usageId(account), tokens, { rpm: account.rpm, tpm: account.tpm });
      if (!ok) {
        if (parallel) await store.addInFlight(parallelId(account), -1);
        const minuteEnd = (Math.floor(now() / MINUTE) + 1) * MINUTE;
        const which =
          account.rpm !== undefined && account.tpm !== undefined
            ? `rpm_limit ${account.rpm} / tpm_limit ${account.tpm}`
            : account.rpm !== undefined
              ? `rpm_limit ${account.rpm}`
              : `tpm_limit ${account.tpm}`;
        throw limited(account, which, minuteEnd);
      }
    }
    return new Tab(this.deps, account, this.buckets(account, now()), tokens, parallel);
  }

  /** Where the key's budget stands (its bucket; the proxy's when `account` is undefined). */
  async status(account: Account | undefined): Promise<BudgetStatus> {
    const now = this.deps.now();
    const buckets = this.buckets(account, now);
    const bucket = buckets[0];
    if (bucket === undefined) return { spentUsd: 0, heldUsd: 0, budgetUsd: undefined, resetAt: undefined };
    const [tally] = await this.deps.store.tallies([bucket]);
    return {
      spentUsd: tally?.spent ?? 0,
      heldUsd: tally?.held ?? 0,
      budgetUsd: bucket.limit === UNLIMITED ? undefined : bucket.limit,
      resetAt: bucket.end,
    };
  }

  /** Spend since the state began, per key alias or per model group. */
  async totals(kind: 'key' | 'model'): Promise<Map<string, number>> {
    const prefix = `${kind}:`;
    const found = await this.deps.store.spendTotals(prefix);
    return new Map([...found].map(([name, usd]) => [name.slice(prefix.length), usd]));
  }
}

/** One request's hold on its budgets, settled once. */
export class Tab {
  private held = 0;
  /** Whether the budgets were checked once (a later cover only grows the hold). */
  private checked = false;
  private settled = false;
  /** The key's spend in its window before this request settles (for answer headers). */
  keySpentUsd: number | undefined;

  constructor(
    private readonly deps: LedgerDeps,
    readonly account: Account | undefined,
    private readonly buckets: readonly SpendBucket[],
    private readonly tokens: number,
    private readonly parallel: boolean,
  ) {}

  /** The key's budget, when it has one. */
  get keyBudgetUsd(): number | undefined {
    return this.account?.maxBudgetUsd;
  }

  /**
   * Makes sure at least `usd` is held, or refuses with BUDGET_EXCEEDED. The first call checks
   * the budgets even when `usd` is 0 (an unpriced model still cannot pass a spent budget).
   */
  async cover(usd: number): Promise<void> {
    if (this.buckets.length === 0 || this.settled) return;
    if (usd <= this.held && this.checked) return;
    const more = Math.max(0, usd - this.held);
    const { full, spent } = await this.deps.store.holdSpend(this.buckets, more);
    this.checked = true;
    if (this.account !== undefined) this.keySpentUsd = spent[0];
    if (full >= 0) throw this.exceeded(full, spent[full] ?? 0);
    this.held += more;
  }

  /**
   * Ends the tab: the hold released, `costUsd` spent and added to the totals of the key and
   * `group`, the key's parallel slot freed and its tokens corrected. Idempotent.
   */
  async settle(costUsd: number, group: string | undefined, tokensUsed?: number): Promise<void> {
    if (this.settled) return;
    this.settled = true;
    const { store } = this.deps;
    const work: Promise<unknown>[] = [];
    if (this.parallel && this.account !== undefined)
      work.push(store.addInFlight(parallelId(this.account), -1));
    if (this.account?.tpm !== undefined && tokensUsed !== undefined && tokensUsed !== this.tokens)
      work.push(store.addUsage(usageId(this.account), 0, tokensUsed - this.tokens));
    const totals: string[] = [];
    if (costUsd > 0) {
      if (this.account !== undefined) totals.push(`key:${this.account.alias}`);
      if (group !== undefined) totals.push(`model:${group}`);
    }
    if (this.buckets.length > 0 || totals.length > 0) {
      work.push(
        store.settleSpend(this.buckets, this.held, costUsd, totals).then((spent) => {
          if (this.account !== undefined) this.keySpentUsd = spent[0];
        }),
      );
    }
    this.held = 0;
    await Promise.all(work);
  }

  private exceeded(index: number, spentUsd: number): SemrouteError {
    const bucket = this.buckets[index]!;
    const proxy = bucket.scope === 'proxy';
    const who = proxy ? 'the proxy' : `key ${this.account?.alias ?? ''}`;
    const window = (proxy ? this.deps.proxy?.budgetDuration : this.account?.budgetDuration)?.text;
    // Spent: it passes when the window ends. Held by requests in flight: it may pass when they settle.
    const spentOut = spentUsd >= bucket.limit;
    const retryAt = spentOut ? bucket.end : this.deps.now() + 1_000;
    const message = spentOut
      ? `Budget has been exceeded for ${who}: spend ${spentUsd.toFixed(6)} USD, max_budget ${bucket.limit} USD${window === undefined ? '' : ` per ${window}`}${bucket.end === undefined ? '' : `; it resets at ${new Date(bucket.end).toISOString()}`}`
      : `Budget of ${who} is held by requests in flight: spend ${spentUsd.toFixed(6)} USD, max_budget ${bucket.limit} USD; retry when they finish`;
    return new SemrouteError(ErrorCode.BUDGET_EXCEEDED, message, {
      details: {
        scope: proxy ? 'proxy' : 'key',
        spendUsd: spentUsd,
        maxBudgetUsd: bucket.limit,
        ...(retryAt === undefined ? {} : { retryAt }),
      },
    });
  }
}

function limited(account: Account, which: string, retryAt: number): SemrouteError {
  return new SemrouteError(ErrorCode.KEY_LIMITED, `key ${account.alias} reached its ${which}`, {
    details: { retryAt },
  });
}
