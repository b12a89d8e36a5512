/**
 * Replay: every logged prompt decided again, offline, by another config — no upstream call, no
 * key (semantic routing, complexity tiers and `auto` all decide in process) — and compared with
 * what was decided (the log itself, or a baseline config replayed the same way). The share of
 * decisions that change, a from → to matrix, the cost it would make at the new decisions'
 * prices, and the prompts that changed most. `--max-changed` makes it a CI gate.
 */
import type { Gateway } from '../gateway/gateway.js';
import { cheapestPriced, costOf } from '../gateway/pricing.js';
import type { DecisionLine } from './decision-log.js';
import { askOfLine, type ReadLog } from './log-reader.js';

export interface Decided {
  /** The model group that would serve. */
  group: string;
  /** The route (semantic) or tier (complexity); the group for `auto`. */
  label: string;
  /** The route's score, the heuristic's score, or the difficulty. */
  score: number | null;
}

export interface ReplayReport {
  lines: number;
  replayed: number;
  skipped: { withoutPrompt: number; corrupt: number; failed: number };
  changed: number;
  changedShare: number;
  /** "from → to" (labels) → count, changed ones only. */
  matrix: Record<string, number>;
  /** Groups: "from → to" → count, changed ones only. */
  groups: Record<string, number>;
  cost: { baselineUsd: number; replayUsd: number; deltaUsd: number; priced: number };
  top: Array<{ id: string; prompt: string; from: Decided; to: Decided }>;
}

export function decidedOf(line: DecisionLine): Decided {
  return {
    group: line.group ?? '',
    label:
      line.kind === 'complexity'
        ? (line.tier ?? '')
        : line.kind === 'auto'
          ? (line.group ?? '')
          : (line.route ?? '(default)'),
    score: line.kind === 'auto' || line.kind === 'complexity' ? (line.difficulty ?? line.score) : line.score,
  };
}

/** What a gateway decides for a logged request, calling nothing. */
export async function decide(gateway: Gateway, line: DecisionLine, messages: unknown[]): Promise<Decided> {
  const explained = await gateway.explain({ model: line.model, messages } as never, {});
  const d = explained.decision;
  const r = explained.route;
  return {
    group: explained.model,
    label:
      d?.kind === 'complexity'
        ? (d.tier ?? '')
        : d?.kind === 'auto'
          ? explained.model
          : r !== undefined
            ? (r.name ?? '(default)')
            : explained.model,
    score: d?.difficulty ?? d?.score ?? r?.score ?? null,
  };
}

export async function replay(
  log: ReadLog,
  candidate: Gateway,
  baseline: Gateway | undefined,
  options: { top?: number | undefined } = {},
): Promise<ReplayReport> {
  const report: ReplayReport = {
    lines: log.counts.lines,
    replayed: 0,
    skipped: { withoutPrompt: 0, corrupt: log.counts.corrupt, failed: 0 },
    changed: 0,
    changedShare: 0,
    matrix: {},
    groups: {},
    cost: { baselineUsd: 0, replayUsd: 0, deltaUsd: 0, priced: 0 },
    top: [],
  };
  const changes: Array<ReplayReport['top'][number] & { distance: number }> = [];
  for (const line of log.decisions) {
    const ask = askOfLine(line);
    if (ask === undefined) {
      report.skipped.withoutPrompt++;
      continue;
    }
    const messages = Array.isArray(line.messages) ? line.messages : [{ role: 'user', content: ask.text }];
    let from: Decided;
    let to: Decided;
    try {
      from = baseline === undefined ? decidedOf(line) : await decide(baseline, line, messages);
      to = await decide(candidate, line, messages);
    } catch {
      report.skipped.failed++;
      continue;
    }
    report.replayed++;
    if (line.tokens !== null) {
      const price = (gw: Gateway, group: string) =>
        costOf(cheapestPriced(gw.deployments(group)), line.tokens!);
      const before =
        baseline === undefined
          ? (line.cost_usd ?? price(candidate, from.group))
          : price(baseline, from.group);
      const after = price(candidate, to.group);
      if (before !== undefined && before !== null && after !== undefined) {
        report.cost.baselineUsd += before;
        report.cost.replayUsd += after;
        report.cost.priced++;
      }
    }
    if (from.group === to.group && from.label === to.label) continue;
    report.changed++;
    const key = `${from.label} → ${to.label}`;
    report.matrix[key] = (report.matrix[key] ?? 0) + 1;
    if (from.group !== to.group) {
      const g = `${from.group} → ${to.group}`;
      report.groups[g] = (report.groups[g] ?? 0) + 1;
    }
    changes.push({
      id: line.id,
      prompt: ask.text.slice(0, 200),
      from,
      to,
      distance: Math.abs((to.score ?? 0) - (from.score ?? 0)),
    });
  }
  report.changedShare = report.replayed === 0 ? 0 : report.changed / report.replayed;
  report.cost.deltaUsd = report.cost.replayUsd - report.cost.baselineUsd;
  report.top = changes
    .sort((a, b) => b.distance - a.distance)
    .slice(0, options.top ?? 10)
    .map(({ distance: _d, ...c }) => c);
  return report;
}
