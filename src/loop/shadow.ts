/**
 * Shadow grading (`router_settings.shadow: {share, candidates, judge, max_usd_per_day}`): for a
 * sampled share of routed requests, after the client has its answer, the gateway also asks the
 * other candidates the same question, has a judge (any configured group) grade every answer,
 * the served one included, 0–10, and writes the graded outcomes into the decision log as a
 * `shadow` line joined to the request's id. `semroute calibrate` reads them back.
 *
 * Off the client's path: it starts when the answer is done, its calls are its own requests
 * (endpoint `shadow`, never logged as decisions, never shadowed again), and nothing it does
 * reaches the client. Within the daily budget: what its calls cost is counted, and past
 * `max_usd_per_day` (UTC days) it skips. A candidate or judge that fails, or a judge that
 * answers anything but a number from 0 to 10, costs a counted skip and nothing else.
 */
import { createContext, type RequestContext } from '../gateway/context.js';
import type { EventListeners } from '../gateway/events.js';
import type { Gateway } from '../gateway/gateway.js';
import { askOf } from '../difficulty/features.js';
import { sha256 } from './decision-log.js';

export interface ShadowSettings {
  /** Share of routed requests graded, 0–1. */
  share: number;
  /** The groups asked besides the one that served (default: the decision's candidates). */
  candidates?: readonly string[] | undefined;
  /** The group that grades. */
  judge: string;
  /** USD the shadow calls may spend per UTC day. */
  maxUsdPerDay: number;
}

export interface ShadowDeps {
  gateway: () => Gateway;
  /** Where graded lines go (the decision log). */
  write: (line: object) => void;
  keepPrompts: boolean;
  random?: (() => number) | undefined;
  now?: (() => number) | undefined;
  onSkip?: ((reason: ShadowSkip) => void) | undefined;
  onGraded?: (() => void) | undefined;
}

export type ShadowSkip = 'budget' | 'candidate_failed' | 'judge_failed' | 'judge_nonsense' | 'no_text';

export const JUDGE_PROMPT =
  'You grade answers to a user request. Reply with one integer from 0 (useless or wrong) to 10 (fully correct and helpful), and nothing else.';

/** A judge's reply as a grade in [0, 1], or undefined when it is not one integer 0–10. */
export function parseGrade(reply: string | null | undefined): number | undefined {
  const m = /^\s*(\d{1,2})(?:\s*\/\s*10)?\s*\.?\s*$/.exec(reply ?? '');
  if (m === null) return undefined;
  const n = Number(m[1]);
  return n >= 0 && n <= 10 ? n / 10 : undefined;
}

interface Seen {
  messages: readonly unknown[];
}

export class ShadowGrader {
  private readonly seen = new WeakMap<RequestContext, Seen>();
  private day = '';
  private spent = 0;
  /** Shadow work in flight (tests and shutdown wait for it). */
  private readonly running = new Set<Promise<void>>();
  readonly counts = { sampled: 0, graded: 0, skipped: {} as Record<ShadowSkip, number> };

  constructor(
    readonly settings: ShadowSettings,
    private readonly deps: ShadowDeps,
  ) {}

  listeners(): EventListeners {
    return {
      received: (ctx, request) => {
        if (ctx.endpoint === 'shadow' || request.messages === undefined) return;
        this.seen.set(ctx, { messages: request.messages });
      },
      succeeded: (ctx, s) => {
        const seen = this.seen.get(ctx);
        this.seen.delete(ctx);
        if (seen === undefined || ctx.endpoint === 'shadow') return;
        // Routed requests only: their candidates are what calibration chooses between.
        const decision = s.served.decision;
        if (decision === undefined && s.served.route === undefined) return;
        if ((this.deps.random ?? Math.random)() >= this.settings.share) return;
        this.counts.sampled++;
        const candidates = this.settings.candidates ?? decision?.candidates ?? [];
        const job = this.grade(
          ctx,
          seen.messages,
          s.served.model,
          s.answer,
          candidates,
          s.costUsd ?? 0,
        ).catch(() => {});
        this.running.add(job);
        void job.finally(() => this.running.delete(job));
      },
    };
  }

  /** Waits for the shadow work under way. */
  async idle(): Promise<void> {
    while (this.running.size > 0) await Promise.all([...this.running]);
  }

  private skip(reason: ShadowSkip): void {
    this.counts.skipped[reason] = (this.counts.skipped[reason] ?? 0) + 1;
    this.deps.onSkip?.(reason);
  }

  private withinBudget(): boolean {
    const today = new Date((this.deps.now ?? Date.now)()).toISOString().slice(0, 10);
    if (today !== this.day) {
      this.day = today;
      this.spent = 0;
    }
    return this.spent < this.settings.maxUsdPerDay;
  }

  private async ask(model: string, messages: readonly unknown[]): Promise<{ text: string; cost: number }> {
    const ctx = createContext({ endpoint: 'shadow' });
    const outcome = await this.deps
      .gateway()
      .chatCompletion({ model, messages: [...messages] }, { context: ctx });
    if (outcome.stream) throw new Error('unexpected stream');
    const cost = outcome.costUsd ?? 0;
    this.spent += cost;
    return { text: outcome.response.choices[0]?.message.content ?? '', cost };
  }

  private async grade(
    ctx: RequestContext,
    messages: readonly unknown[],
    served: string,
    answer: string | undefined,
    candidates: readonly string[],
    servedCost: number,
  ): Promise<void> {
    if (answer === undefined || answer === '') return this.skip('no_text');
    if (!this.withinBudget()) return this.skip('budget');
    const question = askOf(messages).text;
    const answers: Record<string, string> = { [served]: answer };
    const costs: Record<string, number> = { [served]: servedCost };
    for (const group of candidates) {
      if (group === served || answers[group] !== undefined) continue;
      if (!this.withinBudget()) return this.skip('budget');
      try {
        const got = await this.ask(group, messages);
        answers[group] = got.text;
        costs[group] = got.cost;
      } catch {
        return this.skip('candidate_failed');
      }
    }
    const outcomes: Record<string, number> = {};
    let judgeCost = 0;
    for (const [group, text] of Object.entries(answers)) {
      if (!this.withinBudget()) return this.skip('budget');
      let reply: { text: string; cost: number };
      try {
        reply = await this.ask(this.settings.judge, [
          { role: 'system', content: JUDGE_PROMPT },
          { role: 'user', content: `Request:\n${question}\n\nAnswer:\n${text}\n\nGrade (0-10):` },
        ]);
      } catch {
        return this.skip('judge_failed');
      }
      judgeCost += reply.cost;
      const grade = parseGrade(reply.text);
      if (grade === undefined) return this.skip('judge_nonsense');
      outcomes[group] = grade;
    }
    this.counts.graded++;
    this.deps.onGraded?.();
    this.deps.write({
      type: 'shadow',
      time: new Date((this.deps.now ?? Date.now)()).toISOString(),
      id: ctx.id,
      judge: this.settings.judge,
      served,
      outcomes,
      costs,
      judge_cost_usd: judgeCost,
      prompt_sha256: sha256(question),
      ...(this.deps.keepPrompts ? { prompt: question } : {}),
    });
  }
}
