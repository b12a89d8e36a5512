/**
 * A difficulty model: per candidate model, the predicted quality of its answer to a prompt, and
 * one `difficulty` in [0, 1] (higher: a stronger model is needed): the prompt's place among the
 * held-out prompts it was calibrated on, so that "difficulty ≥ 0.7" is the hardest 30% of them.
 * Saved as one JSON file (`model.json` in a router folder); `semroute calibrate` writes it,
 * `semroute predict` and the gateway read it. Predicting costs a few thousand multiply-adds on
 * top of the embedding routing already computed.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { ErrorCode, SemrouteError } from '../errors.js';
import { placeOf } from './curve.js';
import { type Ask, HASH_BUCKETS, hashedFeatures, STRUCTURAL, structuralFeatures } from './features.js';
import { denseProbability, sparseProbability } from './logistic.js';

export const DIFFICULTY_FORMAT = 'semroute-difficulty';
export const DIFFICULTY_VERSION = 1;

/** A part of the score: `weight × (gain − mean) / sd`. */
export interface Component {
  weight: number;
  mean: number;
  sd: number;
}

export interface CandidateInfo {
  name: string;
  /** Mean graded quality in the training rows. */
  meanQuality: number;
  /** Mean cost per request in the training rows (USD), when they said. */
  meanCost?: number | undefined;
}

export interface OperatingPoint {
  /** How it was asked for: a share of strong calls, a quality floor, a cost cap, or the tradeoff. */
  kind: 'target_share' | 'min_quality' | 'max_cost' | 'tradeoff';
  value: number;
  /** The difficulty at or above which the strong candidate is chosen. */
  threshold: number;
  /** What the held-out (cross-validated) prompts gave at this threshold. */
  heldOut: { strongShare: number; quality: number; pgr: number; cost?: number | undefined };
}

export interface DifficultyArtefact {
  format: typeof DIFFICULTY_FORMAT;
  version: number;
  /** The encoder whose embeddings the model reads (an `Encoder.id`). */
  encoder: string;
  dimensions: number;
  /** Cheapest first, the strongest last. */
  candidates: CandidateInfo[];
  structural: { names: string[]; mean: number[]; sd: number[] };
  /** Scales of the dense features: embedding × a, structural z-scores × b. */
  scales: { embedding: number; structural: number };
  components: { dense?: Component; sparse?: Component; length?: Component };
  /** Per candidate: dense weights [embedding, structural, bias] and sparse weights [buckets, bias], base64 float32. */
  heads: Record<string, { dense?: string; sparse?: string }>;
  /** Held-out score quantiles, 0%…100%. */
  quantiles: number[];
  operatingPoint: OperatingPoint;
  training: Record<string, unknown>;
}

export interface Prediction {
  difficulty: number;
  /** Predicted quality of each candidate's answer, 0–1. */
  quality: Record<string, number>;
  /** The raw score (before its place among the quantiles). */
  score: number;
}

const f32 = (text: string) => {
  const bytes = Buffer.from(text, 'base64');
  return new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4);
};
export const encodeWeights = (w: ArrayLike<number>) =>
  Buffer.from(Float32Array.from(w).buffer).toString('base64');

export class DifficultyModel {
  private readonly dense = new Map<string, Float32Array>();
  private readonly sparse = new Map<string, Float32Array>();
  readonly cheapest: string;
  readonly strongest: string;

  constructor(
    readonly artefact: Readonly<DifficultyArtefact>,
    /** Where it was read from, named in errors. */
    readonly source: string,
  ) {
    for (const [name, head] of Object.entries(artefact.heads)) {
      if (head.dense) this.dense.set(name, f32(head.dense));
      if (head.sparse) this.sparse.set(name, f32(head.sparse));
    }
    this.cheapest = artefact.candidates[0]!.name;
    this.strongest = artefact.candidates[artefact.candidates.length - 1]!.name;
  }

  get candidates(): string[] {
    return this.artefact.candidates.map((c) => c.name);
  }

  /** Reads `<dir>/model.json` (or a .json file itself), checked. */
  static async load(where: string): Promise<DifficultyModel> {
    const file = where.endsWith('.json') ? where : path.join(where, 'model.json');
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (cause) {
      throw new SemrouteError(ErrorCode.FILE_READ, `Cannot read the difficulty model ${file}`, {
        file,
        cause,
      });
    }
    let artefact: DifficultyArtefact;
    try {
      artefact = JSON.parse(text) as DifficultyArtefact;
    } catch (cause) {
      throw new SemrouteError(ErrorCode.CONFIG_SYNTAX, `${file}: not JSON`, { file, cause });
    }
    return DifficultyModel.from(artefact, file);
  }

  static from(artefact: DifficultyArtefact, source: string): DifficultyModel {
    const bad = (path: string, expected: string): never => {
      throw new SemrouteError(ErrorCode.ARTEFACT_INVALID, `${source}: ${path}: expected ${expected}`, {
        file: source,
        path,
        expected,
      });
    };
    if (artefact?.format !== DIFFICULTY_FORMAT)
      bad('format', `"${DIFFICULTY_FORMAT}" (a file semroute calibrate wrote)`);
    if (artefact.version !== DIFFICULTY_VERSION)
      bad('version', `${DIFFICULTY_VERSION} (recalibrate with this semroute)`);
    if (!Array.isArray(artefact.candidates) || artefact.candidates.length < 2)
      bad('candidates', 'two or more models');
    if (!Array.isArray(artefact.quantiles) || artefact.quantiles.length < 2)
      bad('quantiles', 'a list of held-out score quantiles');
    if (artefact.structural?.names?.join() !== STRUCTURAL.join())
      bad('structural.names', `the features ${STRUCTURAL.join(', ')}`);
    for (const c of artefact.candidates)
      if (artefact.heads?.[c.name] === undefined) bad(`heads.${c.name}`, 'the weights of every candidate');
    return new DifficultyModel(Object.freeze(artefact), source);
  }

  /** Dense features of an ask: the embedding, scaled, then the structural z-scores, scaled. */
  private denseRow(ask: Ask, embedding: ArrayLike<number>): Float64Array {
    const { dimensions, scales, structural } = this.artefact;
    const s = structuralFeatures(ask);
    const row = new Float64Array(dimensions + s.length);
    for (let j = 0; j < dimensions; j++) row[j] = (embedding[j] ?? 0) * scales.embedding;
    for (let j = 0; j < s.length; j++)
      row[dimensions + j] = ((s[j]! - structural.mean[j]!) / (structural.sd[j]! || 1)) * scales.structural;
    return row;
  }

  predict(ask: Ask, embedding: ArrayLike<number> | undefined): Prediction {
    const { components } = this.artefact;
    if (components.dense && embedding === undefined)
      throw new SemrouteError(
        ErrorCode.INPUT_INVALID,
        `${this.source}: this difficulty model needs the prompt's embedding`,
      );
    const dense = components.dense && embedding !== undefined ? this.denseRow(ask, embedding) : undefined;
    const words = components.sparse ? hashedFeatures(ask.text) : undefined;
    const quality: Record<string, number> = {};
    const parts: Record<string, Record<string, number>> = { dense: {}, sparse: {} };
    for (const name of this.candidates) {
      let sum = 0;
      let weight = 0;
      const d = this.dense.get(name);
      if (d && dense) {
        parts.dense![name] = denseProbability(d, dense);
        sum += parts.dense![name]! * Math.abs(components.dense!.weight);
        weight += Math.abs(components.dense!.weight);
      }
      const sp = this.sparse.get(name);
      if (sp && words) {
        parts.sparse![name] = sparseProbability(sp, words);
        sum += parts.sparse![name]! * Math.abs(components.sparse!.weight);
        weight += Math.abs(components.sparse!.weight);
      }
      quality[name] =
        weight === 0 ? this.artefact.candidates.find((c) => c.name === name)!.meanQuality : sum / weight;
    }
    let score = 0;
    const add = (c: Component | undefined, gain: number | undefined) => {
      if (c !== undefined && gain !== undefined) score += (c.weight * (gain - c.mean)) / (c.sd || 1);
    };
    const gainOf = (p: Record<string, number>) =>
      p[this.strongest] === undefined || p[this.cheapest] === undefined
        ? undefined
        : p[this.strongest]! - p[this.cheapest]!;
    add(components.dense, gainOf(parts.dense!));
    add(components.sparse, gainOf(parts.sparse!));
    add(components.length, Math.log1p(ask.text.length));
    return { difficulty: placeOf(score, this.artefact.quantiles), quality, score };
  }

  /**
   * The candidate for a prediction: the strongest at or above the threshold (by default the
   * operating point's), the cheapest below it.
   */
  choose(prediction: Prediction, threshold = this.artefact.operatingPoint.threshold): string {
    return prediction.difficulty >= threshold ? this.strongest : this.cheapest;
  }
}

/** Buckets of the hashed features every model file uses. */
export const SPARSE_BUCKETS = HASH_BUCKETS;
