/**
 * Reading decision logs back (calibrate, replay, drift): every line parsed on its own, a corrupt
 * one (a torn tail, a hand edit) skipped and counted, never fatal. Decision lines and the shadow
 * grades written for them are joined by request id.
 */
import type { GradedRow } from '../difficulty/calibrate.js';
import { type Ask, askOf } from '../difficulty/features.js';
import type { DecisionLine } from './decision-log.js';

export interface ShadowLine {
  type: 'shadow';
  id: string;
  served: string;
  outcomes: Record<string, number>;
  costs?: Record<string, number>;
  prompt?: string;
  prompt_sha256: string;
}

export interface ReadLog {
  decisions: DecisionLine[];
  shadows: Map<string, ShadowLine>;
  counts: { lines: number; corrupt: number; decisions: number; shadows: number; other: number };
}

export function readDecisionLog(text: string): ReadLog {
  const decisions: DecisionLine[] = [];
  const shadows = new Map<string, ShadowLine>();
  const counts = { lines: 0, corrupt: 0, decisions: 0, shadows: 0, other: 0 };
  for (const raw of text.split('\n')) {
    if (raw.trim() === '') continue;
    counts.lines++;
    let line: unknown;
    try {
      line = JSON.parse(raw);
    } catch {
      counts.corrupt++;
      continue;
    }
    const l = line as { type?: unknown; id?: unknown };
    if (l === null || typeof l !== 'object' || typeof l.id !== 'string') {
      counts.corrupt++;
      continue;
    }
    if (l.type === 'decision') {
      decisions.push(line as DecisionLine);
      counts.decisions++;
    } else if (l.type === 'shadow' && typeof (line as ShadowLine).outcomes === 'object') {
      shadows.set(l.id, line as ShadowLine);
      counts.shadows++;
    } else counts.other++;
  }
  return { decisions, shadows, counts };
}

/** Whether a JSON Lines text is a decision log (its lines say `type`), not a graded outcomes file. */
export function isDecisionLog(text: string): boolean {
  const first = text.split('\n').find((l) => l.trim() !== '');
  if (first === undefined) return false;
  try {
    const v = JSON.parse(first) as { type?: unknown };
    return v.type === 'decision' || v.type === 'shadow';
  } catch {
    return false;
  }
}

/** The ask of a logged decision, when its prompt was kept. */
export function askOfLine(d: DecisionLine): Ask | undefined {
  if (Array.isArray(d.messages)) return askOf(d.messages);
  if (typeof d.prompt === 'string') return askOf(d.prompt);
  return undefined;
}

/** Graded rows from a log: decisions with a kept prompt and a shadow grade. */
export function gradedRows(log: ReadLog): { rows: GradedRow[]; withoutPrompt: number; ungraded: number } {
  const rows: GradedRow[] = [];
  let withoutPrompt = 0;
  let ungraded = 0;
  for (const d of log.decisions) {
    const shadow = log.shadows.get(d.id);
    if (shadow === undefined) {
      ungraded++;
      continue;
    }
    const ask = askOfLine(d) ?? (shadow.prompt === undefined ? undefined : askOf(shadow.prompt));
    if (ask === undefined) {
      withoutPrompt++;
      continue;
    }
    rows.push({ id: d.id, ask, outcomes: shadow.outcomes, ...(shadow.costs ? { costs: shadow.costs } : {}) });
  }
  return { rows, withoutPrompt, ungraded };
}
