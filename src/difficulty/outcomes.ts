/**
 * Graded traffic, as `semroute calibrate` and `semroute predict` read it: JSON Lines, one prompt
 * per line, `{"id", "prompt" | "messages", "outcomes": {"<model or tier>": score in [0, 1]},
 * "costs"?: {"<model>": usd}}`. Every mistake is an error naming the file and line (and the
 * field), never a row silently dropped: a calibration is only as honest as its rows.
 */
import { ErrorCode, SemrouteError } from '../errors.js';
import type { GradedRow } from './calibrate.js';
import { askOf } from './features.js';

/** Fewer graded rows than this and cross-validated figures mean nothing. */
export const MIN_ROWS = 50;

export interface ReadOptions {
  /** `predict`: outcomes are not needed, and ignored when present. */
  outcomes?: boolean | undefined;
}

export interface PromptRow {
  id: string;
  ask: ReturnType<typeof askOf>;
  /** The line it came from (1-based). */
  line: number;
}

const fail = (file: string, line: number, message: string, expected: string, field?: string): never => {
  throw new SemrouteError(
    ErrorCode.INPUT_INVALID,
    `${file}:${line}: ${field ? `${field}: ` : ''}${message}`,
    {
      file,
      path: `line ${line}${field ? `: ${field}` : ''}`,
      expected,
    },
  );
};

/** The prompts of a file (`predict`): `id` and `prompt` or `messages` of each line. */
export function readPrompts(file: string, text: string): PromptRow[] {
  const out: PromptRow[] = [];
  text.split('\n').forEach((raw, i) => {
    const line = i + 1;
    if (raw.trim() === '') return;
    let value: unknown;
    try {
      value = JSON.parse(raw);
    } catch (cause) {
      fail(file, line, `not JSON (${(cause as Error).message})`, 'one JSON object per line');
    }
    if (value === null || typeof value !== 'object' || Array.isArray(value))
      fail(file, line, 'not a JSON object', 'one JSON object per line');
    const row = value as { id?: unknown; prompt?: unknown; messages?: unknown };
    const id =
      row.id === undefined
        ? String(line)
        : typeof row.id === 'string' || typeof row.id === 'number'
          ? String(row.id)
          : fail(file, line, 'must be a string or a number', 'an id', 'id');
    let input: string | unknown[];
    if (typeof row.prompt === 'string') input = row.prompt;
    else if (Array.isArray(row.messages)) input = row.messages;
    else
      input = fail(
        file,
        line,
        'needs "prompt" (text) or "messages" (a chat)',
        '"prompt": "…" or "messages": [{role, content}]',
        'prompt',
      );
    const ask = askOf(input);
    if (ask.text === '')
      fail(
        file,
        line,
        'has no user text to score',
        'a prompt, or a user message with text',
        Array.isArray(input) ? 'messages' : 'prompt',
      );
    out.push({ id, ask, line });
  });
  return out;
}

/** Graded rows (`calibrate`): prompts with outcomes, all checked. */
export async function readOutcomes(
  file: string,
  text: string,
): Promise<{ rows: GradedRow[]; models: string[] }> {
  const prompts = readPrompts(file, text);
  const lines = text.split('\n');
  const rows: GradedRow[] = prompts.map((p) => {
    const parsed = JSON.parse(lines[p.line - 1]!) as { outcomes?: unknown; costs?: unknown };
    const o = parsed.outcomes;
    if (o === null || typeof o !== 'object' || Array.isArray(o))
      fail(
        file,
        p.line,
        'needs "outcomes": the graded score of each model\'s answer',
        '{"<model>": 0…1, …}',
        'outcomes',
      );
    const outcomes: Record<string, number> = {};
    for (const [model, score] of Object.entries(o as Record<string, unknown>)) {
      if (typeof score !== 'number' || !Number.isFinite(score) || score < 0 || score > 1)
        fail(
          file,
          p.line,
          `${JSON.stringify(score)} is not a score in [0, 1]`,
          'a number from 0 to 1',
          `outcomes.${model}`,
        );
      outcomes[model] = score as number;
    }
    let costs: Record<string, number> | undefined;
    if (parsed.costs !== undefined) {
      if (parsed.costs === null || typeof parsed.costs !== 'object' || Array.isArray(parsed.costs))
        fail(file, p.line, 'must be an object of costs in USD', '{"<model>": usd}', 'costs');
      costs = {};
      for (const [model, usd] of Object.entries(parsed.costs as Record<string, unknown>)) {
        if (typeof usd !== 'number' || !Number.isFinite(usd) || usd < 0)
          fail(
            file,
            p.line,
            `${JSON.stringify(usd)} is not a cost`,
            'a number of USD, 0 or more',
            `costs.${model}`,
          );
        costs[model] = usd as number;
      }
    }
    return { id: p.id, ask: p.ask, outcomes, ...(costs ? { costs } : {}) };
  });
  if (rows.length < MIN_ROWS)
    throw new SemrouteError(
      ErrorCode.INPUT_INVALID,
      `${file}: ${rows.length} graded rows; calibrating needs at least ${MIN_ROWS}`,
      {
        file,
        expected: `${MIN_ROWS} or more graded prompts`,
      },
    );
  // The models graded on every row are the candidates; one alone cannot be routed between.
  const models = Object.keys(rows[0]!.outcomes).filter((m) => rows.every((r) => m in r.outcomes));
  if (models.length < 2) {
    const missing = rows.findIndex(
      (r) =>
        Object.keys(r.outcomes).length < 2 || !Object.keys(rows[0]!.outcomes).every((m) => m in r.outcomes),
    );
    const at = missing < 0 ? prompts[0]!.line : prompts[missing]!.line;
    fail(
      file,
      at,
      `only ${models.length === 1 ? `one model (${models[0]}) is` : 'no model is'} graded on every row; calibrating routes between two or more`,
      'the same two or more models graded on every line',
      'outcomes',
    );
  }
  return { rows, models };
}
