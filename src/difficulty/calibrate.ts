/**
 * Calibration: a difficulty model learned from graded traffic (per prompt, a score in [0, 1] for
 * each model's answer), scored honestly. Every figure it reports comes from cross-validation:
 * each prompt is scored by a model trained on the other folds (equal prompts share a fold), and
 * the operating point is read off that held-out curve. The model it saves is then trained on
 * every row. Deterministic: the same rows give the same file.
 */
import { createHash } from 'node:crypto';
import type { Encoder } from '../embeddings/encoder.js';
import { ErrorCode, SemrouteError } from '../errors.js';
import { type Curve, costQualityCurve, placeOf, quantiles, summary } from './curve.js';
import { type Ask, hashedFeatures, STRUCTURAL, type SparseRow, structuralFeatures } from './features.js';
import { denseProbability, sparseProbability, trainDense, trainSparse } from './logistic.js';
import {
  type CandidateInfo,
  type Component,
  DIFFICULTY_FORMAT,
  DIFFICULTY_VERSION,
  type DifficultyArtefact,
  encodeWeights,
  type OperatingPoint,
  SPARSE_BUCKETS,
} from './model.js';

export interface GradedRow {
  id: string;
  ask: Ask;
  /** Per model (or tier), the graded quality of its answer, 0–1. */
  outcomes: Record<string, number>;
  /** Per model, what the answer cost (USD), when known. */
  costs?: Record<string, number> | undefined;
}

export type Target = { kind: OperatingPoint['kind']; value: number };

export interface CalibrateOptions {
  folds?: number | undefined;
  /** The operating point to save. Default a 30% share of strong calls. */
  target?: Target | undefined;
  /**
   * `calibrated` (default): embedding + structure and hashed words, for a user's own traffic.
   * `prior`: prompt length with a small embedding term, what transfers to traffic of another
   * kind (the shipped default).
   */
  recipe?: 'calibrated' | 'prior' | undefined;
  /** Precomputed embeddings, one per row (the bench reuses them). */
  embeddings?: readonly Float32Array[] | undefined;
  onProgress?: ((stage: string) => void) | undefined;
}

export interface Calibration {
  artefact: DifficultyArtefact;
  /** Held-out (cross-validated) score of every row, and the curve they give. */
  heldOut: {
    scores: number[];
    difficulty: number[];
    curve: Curve;
    dense: Float64Array;
    sparse: Float64Array;
  };
  weak: string;
  strong: string;
}

const EMBEDDING_SCALE = 4;
/**
 * The prior recipe's embedding term, against prompt length's 1. Learned routers trained on one
 * benchmark fell below prompt length on another (APGR 0.48–0.55): at 0.1 the shipped default
 * stays at or above length both ways (MMLU → GSM8K 0.599 vs 0.598, GSM8K → MMLU 0.586 vs 0.586);
 * 0.3 fell below it.
 */
const PRIOR_DENSE_WEIGHT = 0.1;
const STRUCTURAL_SCALE = 0.5;

/** The fold of a prompt: by its text, so equal prompts always share one. */
export function foldOf(text: string, folds: number): number {
  return createHash('sha256').update(text).digest().readUInt32BE(0) % folds;
}

function candidatesOf(rows: readonly GradedRow[]): CandidateInfo[] {
  const names = Object.keys(rows[0]!.outcomes).filter((n) =>
    rows.every((r) => typeof r.outcomes[n] === 'number'),
  );
  if (names.length < 2) {
    throw new SemrouteError(
      ErrorCode.INPUT_INVALID,
      'calibrating needs the graded answers of at least two models on every row',
      {
        path: 'outcomes',
        expected: 'two or more models graded on each row',
      },
    );
  }
  const info = names.map((name) => {
    const costs = rows.map((r) => r.costs?.[name]).filter((c): c is number => typeof c === 'number');
    return {
      name,
      meanQuality: rows.reduce((s, r) => s + r.outcomes[name]!, 0) / rows.length,
      ...(costs.length === rows.length ? { meanCost: costs.reduce((a, b) => a + b, 0) / costs.length } : {}),
    };
  });
  // Cheapest first: by cost when every row says, else by quality (the weaker is the cheaper).
  const byCost = info.every((c) => c.meanCost !== undefined);
  return info.sort(
    (a, b) =>
      (byCost ? a.meanCost! - b.meanCost! : a.meanQuality - b.meanQuality) || a.name.localeCompare(b.name),
  );
}

export async function calibrate(
  rows: readonly GradedRow[],
  encoder: Encoder | undefined,
  options: CalibrateOptions = {},
): Promise<Calibration> {
  const k = options.folds ?? 5;
  const recipe = options.recipe ?? 'calibrated';
  const candidates = candidatesOf(rows);
  const weak = candidates[0]!.name;
  const strong = candidates.reduce((a, b) => (b.meanQuality > a.meanQuality ? b : a)).name;
  const ordered = [
    ...candidates.filter((c) => c.name !== strong),
    candidates.find((c) => c.name === strong)!,
  ];
  options.onProgress?.('embedding');
  const embeddings =
    options.embeddings ??
    (encoder === undefined ? undefined : await encoder.embed(rows.map((r) => r.ask.text)));
  if (embeddings === undefined)
    throw new SemrouteError(ErrorCode.INPUT_INVALID, 'calibrating needs an encoder or embeddings');
  const dims = embeddings[0]?.length ?? 0;
  const n = rows.length;
  // Structural features, standardised over every row (no labels are read to do so).
  const S = STRUCTURAL.length;
  const raw = rows.map((r) => structuralFeatures(r.ask));
  const mean = new Array<number>(S).fill(0);
  const sd = new Array<number>(S).fill(0);
  for (const f of raw) for (let j = 0; j < S; j++) mean[j]! += f[j]! / n;
  for (const f of raw) for (let j = 0; j < S; j++) sd[j]! += (f[j]! - mean[j]!) ** 2 / n;
  for (let j = 0; j < S; j++) sd[j] = Math.sqrt(sd[j]!) || 1;
  const d = dims + S;
  const X = new Float64Array(n * d);
  rows.forEach((_, i) => {
    const e = embeddings[i]!;
    for (let j = 0; j < dims; j++) X[i * d + j] = e[j]! * EMBEDDING_SCALE;
    for (let j = 0; j < S; j++) X[i * d + dims + j] = ((raw[i]![j]! - mean[j]!) / sd[j]!) * STRUCTURAL_SCALE;
  });
  const sparse: SparseRow[] | undefined =
    recipe === 'calibrated' ? rows.map((r) => hashedFeatures(r.ask.text)) : undefined;
  const y = (name: string) => rows.map((r) => r.outcomes[name]!);
  const labels = Object.fromEntries(ordered.map((c) => [c.name, y(c.name)]));
  const logChars = rows.map((r) => Math.log1p(r.ask.text.length));

  /** Trains every head on `use`; returns the per-row gains of each component. */
  const fit = (use: number[]) => {
    const heads: Record<string, { dense: Float64Array; sparse?: Float64Array }> = {};
    for (const c of [weak, strong]) {
      heads[c] = { dense: trainDense(X, d, labels[c]!, use) };
      if (sparse) heads[c]!.sparse = trainSparse(sparse, SPARSE_BUCKETS, labels[c]!, use);
    }
    return {
      heads,
      dense: (i: number) =>
        denseProbability(heads[strong]!.dense, X, i * d) - denseProbability(heads[weak]!.dense, X, i * d),
      sparse: (i: number) =>
        sparse
          ? sparseProbability(heads[strong]!.sparse!, sparse[i]!) -
            sparseProbability(heads[weak]!.sparse!, sparse[i]!)
          : 0,
    };
  };

  // Cross-validation: the held-out gains of each component.
  const fold = rows.map((r) => foldOf(r.ask.text, k));
  const heldDense = new Float64Array(n);
  const heldSparse = new Float64Array(n);
  for (let f = 0; f < k; f++) {
    options.onProgress?.(`fold ${f + 1}/${k}`);
    const train: number[] = [];
    const test: number[] = [];
    for (let i = 0; i < n; i++) (fold[i] === f ? test : train).push(i);
    if (test.length === 0 || train.length === 0) continue;
    const m = fit(train);
    for (const i of test) {
      heldDense[i] = m.dense(i);
      heldSparse[i] = m.sparse(i);
    }
  }
  const stats = (v: ArrayLike<number>) => {
    let mu = 0;
    for (let i = 0; i < v.length; i++) mu += v[i]! / v.length;
    let s = 0;
    for (let i = 0; i < v.length; i++) s += (v[i]! - mu) ** 2 / v.length;
    return { mean: mu, sd: Math.sqrt(s) || 1 };
  };
  const components: DifficultyArtefact['components'] =
    recipe === 'calibrated'
      ? { dense: { weight: 0.4, mean: 0, sd: 1 }, sparse: { weight: 0.6, mean: 0, sd: 1 } }
      : {
          length: { weight: 1, ...stats(logChars) },
          dense: { weight: PRIOR_DENSE_WEIGHT, ...stats(heldDense) },
        };
  const scoreOf = (dense: number, sp: number, i: number) => {
    const part = (c: Component | undefined, g: number) =>
      c === undefined ? 0 : (c.weight * (g - c.mean)) / (c.sd || 1);
    return (
      part(components.dense, dense) + part(components.sparse, sp) + part(components.length, logChars[i]!)
    );
  };
  const scores = rows.map((_, i) => scoreOf(heldDense[i]!, heldSparse[i]!, i));
  const q = quantiles(scores);
  const difficulty = scores.map((s) => placeOf(s, q));
  const curve = costQualityCurve(scores, y(weak), y(strong));
  const target = options.target ?? { kind: 'target_share', value: 0.3 };
  const operatingPoint = operatingPointOf(target, curve, difficulty, candidates, weak, strong);

  options.onProgress?.('final model');
  const final = fit(rows.map((_, i) => i));
  const heads: DifficultyArtefact['heads'] = {};
  for (const c of ordered) {
    const h = final.heads[c.name];
    heads[c.name] =
      h === undefined
        ? {}
        : { dense: encodeWeights(h.dense), ...(h.sparse ? { sparse: encodeWeights(h.sparse) } : {}) };
  }
  const artefact: DifficultyArtefact = {
    format: DIFFICULTY_FORMAT,
    version: DIFFICULTY_VERSION,
    encoder: encoder?.id ?? 'unknown',
    dimensions: dims,
    candidates: [candidates.find((c) => c.name === weak)!, ...ordered.filter((c) => c.name !== weak)],
    structural: { names: [...STRUCTURAL], mean, sd },
    scales: { embedding: EMBEDDING_SCALE, structural: STRUCTURAL_SCALE },
    components,
    heads,
    quantiles: q,
    operatingPoint,
    training: { rows: n, folds: k, recipe, weak, strong, heldOut: summary(curve) },
  };
  return {
    artefact,
    heldOut: { scores, difficulty, curve, dense: heldDense, sparse: heldSparse },
    weak,
    strong,
  };
}

/** The difficulty threshold of a target, read off the held-out curve. */
export function operatingPointOf(
  target: Target,
  curve: Curve,
  difficulty: readonly number[],
  candidates: readonly CandidateInfo[],
  weak: string,
  strong: string,
): OperatingPoint {
  const n = curve.rows;
  const costOf = (name: string) => candidates.find((c) => c.name === name)?.meanCost;
  const cw = costOf(weak);
  const cs = costOf(strong);
  let share: number;
  if (target.kind === 'target_share') share = target.value;
  else if (target.kind === 'min_quality') {
    const floor = target.value * curve.qStrong;
    let k = 0;
    while (k < n && curve.quality[k]! < floor) k++;
    share = k / Math.max(1, n);
  } else if (target.kind === 'max_cost') {
    if (cw === undefined || cs === undefined)
      throw new SemrouteError(
        ErrorCode.INPUT_INVALID,
        '--max-cost needs the costs of each answer in the rows (costs: {model: usd})',
        {
          path: 'costs',
        },
      );
    share = cs === cw ? 1 : Math.max(0, Math.min(1, (target.value - cw) / (cs - cw)));
  } else {
    // cost_quality_tradeoff: 0 = the share where the held-out quality peaks, 10 = no strong calls.
    let best = 0;
    for (let k = 1; k <= n; k++) if (curve.quality[k]! > curve.quality[best]!) best = k;
    share = (best / Math.max(1, n)) * (1 - Math.min(10, Math.max(0, target.value)) / 10);
  }
  const threshold = Math.min(1, Math.max(0, 1 - share));
  const chosen = difficulty.filter((x) => x >= threshold).length;
  const strongShare = chosen / Math.max(1, n);
  const k = Math.round(strongShare * n);
  return {
    kind: target.kind,
    value: target.value,
    threshold,
    heldOut: {
      strongShare,
      quality: curve.quality[k]!,
      pgr: curve.pgr[k]!,
      ...(cw !== undefined && cs !== undefined ? { cost: (1 - strongShare) * cw + strongShare * cs } : {}),
    },
  };
}
