/**
 * What a difficulty model reads of a request, computed in process from what routing already
 * has: the ask (the last user message's text, as LiteLLM's complexity router reads it), its
 * structure (length, numbers, code, questions, turns, a system prompt, the tokens beyond the
 * encoder's 128-token window) and its words (hashed word and word-pair counts). The embedding
 * comes from the encoder that routing uses, so a decision costs no second model run.
 */
import { contentText } from '../semantic/messages.js';

/** The ask a cost-quality decision reads, and what it knows of the conversation around it. */
export interface Ask {
  /** The last user message with text (text parts joined); '' when there is none. */
  text: string;
  /** Messages in the conversation. */
  turns: number;
  /** A system (or developer) prompt is present. It is context, not the ask: never scored as text. */
  system: boolean;
}

const REMINDER = /<system-reminder>[\s\S]*?<\/system-reminder>/gi;

/** The ask of a prompt or a chat: the newest user turn that has text, reminder blocks removed. */
export function askOf(input: string | readonly unknown[]): Ask {
  if (typeof input === 'string') return { text: input.replace(REMINDER, '').trim(), turns: 1, system: false };
  let text = '';
  let system = false;
  for (const m of input) {
    if (m === null || typeof m !== 'object') continue;
    const { role, content } = m as { role?: unknown; content?: unknown };
    if (role === 'system' || role === 'developer') system = true;
    if (role !== 'user') continue;
    const t = contentText(content).replace(REMINDER, '').trim();
    if (t !== '') text = t;
  }
  return { text, turns: input.length, system };
}

/** Names of the structural features, in order (the model file records them). */
export const STRUCTURAL = [
  'log_chars',
  'log_words',
  'log_numbers',
  'log_tokens_beyond_window',
  'operator_density',
  'log_questions',
  'log_lines',
  'code',
  'capitals_share',
  'log_percent_money',
  'log_sentences',
  'log_longest_word',
  'log_turns',
  'system_prompt',
] as const;

/**
 * The encoder's window: tokens past it are not in the embedding, only here. Tokens are counted
 * as characters / 4 (LiteLLM's estimate), the same whatever the encoder.
 */
const WINDOW = 128;

const count = (text: string, re: RegExp) => text.match(re)?.length ?? 0;

/** The structural features of an ask. */
export function structuralFeatures(ask: Ask): Float64Array {
  const t = ask.text;
  const tokens = Math.ceil(t.length / 4);
  const words = t.split(/\s+/).filter((w) => w !== '');
  let longest = 0;
  for (const w of words) if (w.length > longest) longest = w.length;
  return Float64Array.of(
    Math.log1p(t.length),
    Math.log1p(words.length),
    Math.log1p(count(t, /\d+(?:[.,]\d+)?/g)),
    Math.log1p(Math.max(0, tokens - WINDOW)),
    (count(t, /[=+\-*/^<>]/g) / Math.max(1, t.length)) * 100,
    Math.log1p(count(t, /\?/g)),
    Math.log1p(t.split('\n').length),
    /```|\bdef |\bfunction\b|\bclass |[{};]\s*$/m.test(t) ? 1 : 0,
    count(t, /[A-Z]/g) / Math.max(1, t.length),
    Math.log1p(count(t, /%|\$|percent/g)),
    Math.log1p(t.split(/[.!?]\s/).length),
    Math.log1p(longest),
    Math.log1p(ask.turns),
    ask.system ? 1 : 0,
  );
}

/** Buckets of the hashed word features. */
export const HASH_BUCKETS = 1 << 16;

export interface SparseRow {
  idx: Int32Array;
  val: Float64Array;
}

/** FNV-1a, 32 bits: the same bucket for the same word on every machine and in every release. */
function bucket(text: string): number {
  let h = 2166136261;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 16777619);
  }
  return (h >>> 0) % HASH_BUCKETS;
}

/** Hashed lowercase words and word pairs, sublinear counts, unit length. */
export function hashedFeatures(text: string): SparseRow {
  const words = text.toLowerCase().match(/[\p{L}\p{N}]+|[^\s\p{L}\p{N}]/gu) ?? [];
  const counts = new Map<number, number>();
  const add = (k: number) => counts.set(k, (counts.get(k) ?? 0) + 1);
  for (let i = 0; i < words.length; i++) {
    add(bucket(`w:${words[i]}`));
    if (i > 0) add(bucket(`b:${words[i - 1]} ${words[i]}`));
  }
  const idx = Int32Array.from(counts.keys());
  const val = new Float64Array(idx.length);
  let norm = 0;
  idx.forEach((k, i) => {
    val[i] = 1 + Math.log(counts.get(k)!);
    norm += val[i]! * val[i]!;
  });
  norm = Math.sqrt(norm) || 1;
  for (let i = 0; i < val.length; i++) val[i]! /= norm;
  return { idx, val };
}
