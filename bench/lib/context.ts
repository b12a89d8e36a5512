import type { ResultRow } from './report.js';

export interface BenchContext {
  quick: boolean;
  /** CLINC-format dataset path, when one was found or given. */
  dataset: string | undefined;
  log: (line: string) => void;
  /** SVG charts to write: file name → content. */
  charts: Map<string, string>;
  /** Facts for the environment block (encoder, threads). */
  env: Record<string, unknown>;
}

export type Suite = (ctx: BenchContext) => Promise<ResultRow[]>;

export function row(
  suite: string,
  name: string,
  unit: string,
  stats: { n: number; p50: number | null; p99: number | null; mean: number | null },
  extra: Record<string, unknown> = {},
): ResultRow {
  return { suite, name, unit, n: stats.n, p50: stats.p50, p99: stats.p99, mean: stats.mean, extra };
}

/** Times an async function `n` times (after `warmup` runs); returns samples in ms. */
export async function timeAsync(
  n: number,
  warmup: number,
  fn: (i: number) => Promise<unknown>,
): Promise<number[]> {
  for (let i = 0; i < warmup; i++) await fn(i);
  const samples: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    await fn(i);
    samples.push(performance.now() - t);
  }
  return samples;
}

/** Sentences that differ from each other, so no cache can answer twice. */
export function uniqueSentences(n: number, seed = 1): string[] {
  const subjects = [
    'how do I',
    'can you',
    'please',
    'I want to',
    'help me',
    'what is the best way to',
    'is it possible to',
    'tell me how to',
  ];
  const verbs = [
    'reverse',
    'summarize',
    'translate',
    'sort',
    'cancel',
    'calculate',
    'explain',
    'find',
    'book',
    'fix',
  ];
  const objects = [
    'a list in python',
    'this article',
    'my order',
    'the invoice',
    'a flight to Paris',
    'the bug in my code',
    'my password',
    'a table for two',
    'the derivative of x squared',
    'my subscription',
  ];
  const tails = [
    'today',
    'quickly',
    'for my boss',
    'before Friday',
    'in simple terms',
    'step by step',
    'again',
    'right now',
    'for a friend',
    'with examples',
  ];
  const out: string[] = [];
  let s = seed;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    const pick = <T>(xs: T[], k: number) => xs[(s >>> k) % xs.length]!;
    out.push(`${pick(subjects, 1)} ${pick(verbs, 5)} ${pick(objects, 9)} ${pick(tails, 13)} #${i}`);
  }
  return out;
}

/** A router.json of `utterances` distinct sentences, 50 per route, indexed with HNSW. */
export function syntheticConfig(utterances: number) {
  const perRoute = 50;
  const sentences = uniqueSentences(utterances, 7);
  const routes = Array.from({ length: Math.ceil(utterances / perRoute) }, (_, r) => ({
    name: `route-${r}`,
    utterances: sentences.slice(r * perRoute, (r + 1) * perRoute),
  }));
  return { routes, index: { type: 'hnsw' as const } };
}
