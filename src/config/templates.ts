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
}

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
    return [{ text: parts.map((p) => ('text' in p ? p.text : '')).join(''), template: undefined }];
  }
  let count = 1;
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
  return out;
}
