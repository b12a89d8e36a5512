/**
 * LiteLLM's `budget_duration`: how long a budget window lasts before its spend starts again from
 * zero — `30s`, `15m`, `1h`, `1d`, `30d`, `1mo`. Parsed once here; the windows themselves are the
 * gateway's (gateway/spend/budget-window.ts).
 */
import { z } from 'zod';

export type DurationUnit = 's' | 'm' | 'h' | 'd' | 'mo';

export interface BudgetDuration {
  readonly count: number;
  readonly unit: DurationUnit;
  /** As written, for answers (`/key/info`). */
  readonly text: string;
}

const PATTERN = /^(\d{1,6})(s|m|h|d|mo)$/;

export const BudgetDurationSchema = z
  .string()
  .trim()
  .regex(PATTERN, 'a duration such as "30s", "15m", "1h", "1d", "30d" or "1mo"')
  .transform((text): BudgetDuration => {
    const [, count, unit] = PATTERN.exec(text)!;
    return { count: Number(count), unit: unit as DurationUnit, text };
  })
  .refine((d) => d.count > 0, 'a duration longer than zero');
