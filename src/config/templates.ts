/**
 * Utterance templates: `"how to code a program in [language]"` expands into one variant per
 * value of the `language` slot; several placeholders give the cartesian product, capped.
 * `\[` and `\]` write literal brackets, `\\` a backslash.
 */
import { ErrorCode, SemrouteError } from '../errors.js';

type Part = { text: string } | { slot: string };

export interface Variant {
  text: string;
  /** The template it came from, or undefined for a plain utterance. */
  template: string | undefined;
}

export interface ExpandContext {
  route: string;
  /** JSON path of the utterance, for errors. */
  path: string;
  file?: string | undefined;
  /** Slot lists by name, already merged (route over router over built-in). */
  slots: Readonly<Record<string, readonly string[]>>;
  /** Most variants one utterance may expand into. */
  limit: number;
  /**
   * What the whole router may still expand into (variants and characters), spent as utterances
   * expand. Checked before expanding, from the slot sizes: a template that would blow it is
   * refused before any string is built.
   */
  budget?: ExpansionBudget | undefined;
}

export interface ExpansionBudget {
  variants: number;
  chars: number;
}

/** A router's default budget: 20,000 variants, 8 M characters of utterance text. */
export const DEFAULT_BUDGET: Readonly<ExpansionBudget> = Object.freeze({
  variants: 20_000,
  chars: 8_000_000,
});

/** "file: json.path: " prefix for messages. */
function where(ctx: Pick<ExpandContext, 'path' | 'file'>): string {
  return `${ctx.file ?? 'router config'}: ${ctx.path}: `;
}

export function parseTemplate(
  utterance: string,
  ctx: Pick<ExpandContext, 'route' | 'path' | 'file'>,
): Part[] {
  const parts: Part[] = [];
  let text = '';
  for (let i = 0; i < utterance.length; i++) {
    const c = utterance[i]!;
    if (c === '\\' && i + 1 < utterance.length && '[]\\'.includes(utterance[i + 1]!)) {
      text += utterance[i + 1];
      i++;
      continue;
    }
    if (c === '[') {
      const close = utterance.indexOf(']', i + 1);
      const name = close < 0 ? '' : utterance.slice(i + 1, close).trim();
      if (close < 0 || name === '' || name.includes('[')) {
        throw new SemrouteError(
          ErrorCode.TEMPLATE_SYNTAX,
          `${where(ctx)}route "${ctx.route}", utterance "${utterance}": "[" at ${i} opens no valid placeholder; write \\[ for a literal bracket`,
          { file: ctx.file, path: ctx.path, expected: '[slot_name] or \\[' },
        );
      }
      if (text !== '') parts.push({ text });
      text = '';
      parts.push({ slot: name });
      i = close;
      continue;
    }
    text += c;
  }
  if (text !== '') parts.push({ text });
  return parts;
}

/** Expands one utterance. Plain utterances (no placeholder) come back as one variant. */
export function expandUtterance(utterance: string, ctx: ExpandContext): Variant[] {
  const parts = parseTemplate(utterance, ctx);
  const slotParts = parts.filter((p): p is { slot: string } => 'slot' in p);
  if (slotParts.length === 0) {
    const text = parts.map((p) => ('text' in p ? p.text : '')).join('');
    if (ctx.budget !== undefined) {
      if (ctx.budget.variants < 1) {
        throw new SemrouteError(
          ErrorCode.TEMPLATE_EXPLOSION,
          `${where(ctx)}route "${ctx.route}": the router has more utterances than max_variants allows`,
          { file: ctx.file, path: ctx.path, expected: 'fewer utterances, or a larger max_variants' },
        );
      }
      ctx.budget.variants -= 1;
      ctx.budget.chars -= text.length;
    }
    return [{ text, template: undefined }];
  }
  let count = 1;
  // Characters the expansion would build: each literal part once per variant, each slot value
  // once per variant it appears in (count / its list's length of them).
  let chars = 0;
  const literal = parts.reduce((n, p) => n + ('text' in p ? p.text.length : 0), 0);
  const slotChars: number[] = [];
  for (const { slot } of slotParts) {
    const values = ctx.slots[slot];
    if (values === undefined) {
      throw new SemrouteError(
        ErrorCode.TEMPLATE_SLOT_UNDEFINED,
        `${where(ctx)}route "${ctx.route}", utterance "${utterance}": slot "${slot}" is not defined (define it in "slots" of the route or the router)`,
        {
          file: ctx.file,
          path: ctx.path,
          expected: `a slot list named "${slot}"`,
          details: { route: ctx.route, slot },
        },
      );
    }
    count *= values.length;
    slotChars.push(values.reduce((n, v) => n + v.length, 0) / values.length);
  }
  chars = count * (literal + slotChars.reduce((a, b) => a + b, 0));
  const budget = ctx.budget;
  if (budget !== undefined && count <= ctx.limit && (count > budget.variants || chars > budget.chars)) {
    throw new SemrouteError(
      ErrorCode.TEMPLATE_EXPLOSION,
      `${where(ctx)}route "${ctx.route}", utterance "${utterance.slice(0, 200)}" would expand into ${count} variants (${Math.round(chars)} characters), past what the router has left (${budget.variants} variants, ${budget.chars} characters; max_variants)`,
      {
        file: ctx.file,
        path: ctx.path,
        expected: `at most ${budget.variants} more variants and ${budget.chars} more characters`,
        details: { route: ctx.route, count, chars },
      },
    );
  }
  if (count > ctx.limit) {
    throw new SemrouteError(
      ErrorCode.TEMPLATE_EXPLOSION,
      `${where(ctx)}route "${ctx.route}", utterance "${utterance}" expands into ${count} variants, over the limit of ${ctx.limit} (template_limit)`,
      {
        file: ctx.file,
        path: ctx.path,
        expected: `at most ${ctx.limit} variants`,
        details: { route: ctx.route, count },
      },
    );
  }
  let texts = [''];
  for (const part of parts) {
    if ('text' in part) texts = texts.map((t) => t + part.text);
    else texts = texts.flatMap((t) => ctx.slots[part.slot]!.map((v) => t + v));
  }
  const seen = new Set<string>();
  const out: Variant[] = [];
  for (const text of texts) {
    if (seen.has(text)) continue;
    seen.add(text);
    out.push({ text, template: utterance });
  }
  if (budget !== undefined) {
    budget.variants -= out.length;
    budget.chars -= chars;
  }
  return out;
}
