/**
 * The budget window a moment falls in. Windows are aligned to the epoch (months to calendar
 * months, UTC), not to when a key was made: every instance computes the same window from its
 * clock alone, with nothing stored to agree on, and a `1d` budget resets at midnight UTC.
 */
import type { BudgetDuration } from '../../config/budget-duration.js';

export interface BudgetWindow {
  /** Epoch ms the window began; 0 for a budget that never resets. */
  readonly start: number;
  /** Epoch ms it ends (spend starts again from zero); undefined: never. */
  readonly end: number | undefined;
}

const UNIT_MS = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

export function budgetWindow(duration: BudgetDuration | undefined, now: number): BudgetWindow {
  if (duration === undefined) return { start: 0, end: undefined };
  if (duration.unit === 'mo') {
    const date = new Date(now);
    const month = date.getUTCFullYear() * 12 + date.getUTCMonth();
    const first = Math.floor(month / duration.count) * duration.count;
    const at = (m: number) => Date.UTC(Math.floor(m / 12), m % 12, 1);
    return { start: at(first), end: at(first + duration.count) };
  }
  const length = duration.count * UNIT_MS[duration.unit];
  const start = Math.floor(now / length) * length;
  return { start, end: start + length };
}
