/**
 * The few-shot routing protocol (docs/benchmarks.md), for any dataset in the normalised format:
 * one route per label with its first K train rows as utterances; thresholds chosen on the
 * val split only (its null rows included); the whole test split scored.
 */
import { z } from 'zod';
import { parseJson, readTextFile } from '../config/json-source.js';
import type { Aggregation, RouterConfigInput, ScoringName } from '../config/router-config.js';
import type { Encoder } from '../embeddings/encoder.js';
import { ErrorCode, formatPath, SemrouteError } from '../errors.js';
import { decide } from './aggregate.js';
import { embedRows, type LabelledRow, type Metrics, metricsFrom, probeAll, rankAll } from './evaluate.js';
import { bestGlobalThreshold, fit, rowWeights } from './fit.js';
import { SemanticRouter } from './semantic-router.js';

const RowSchema = z.object({ text: z.string(), label: z.string().nullable() });
export const DatasetSchema = z.object({
  name: z.string().default('dataset'),
  labels: z.array(z.string()).optional(),
  /** Per label, what the route is for: its router.json `description` (LiteLLM's field). */
  descriptions: z.record(z.string(), z.string()).optional(),
  splits: z.object({
    train: z.array(RowSchema),
    val: z.array(RowSchema).optional(),
    test: z.array(RowSchema),
  }),
});
export type Dataset = z.infer<typeof DatasetSchema>;

export async function loadDataset(file: string): Promise<Dataset> {
  const raw = parseJson(await readTextFile(file), file);
  const parsed = DatasetSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new SemrouteError(
      ErrorCode.CONFIG_INVALID,
      `${file}: ${formatPath(issue.path)}: ${issue.message}`,
      {
        file,
        path: formatPath(issue.path),
        expected: '{"splits": {"train": [{"text", "label"}], "val"?: [...], "test": [...]}}',
      },
    );
  }
  return parsed.data;
}

/**
 * Routes from the first `shots` train rows of each label, in file order, each with the
 * dataset's description of its label (unless `descriptions` is false).
 */
export function fewShotConfig(
  dataset: Dataset,
  shots: number,
  extra: Partial<RouterConfigInput> = {},
  descriptions = true,
): RouterConfigInput {
  const byLabel = new Map<string, string[]>();
  for (const label of dataset.labels ?? []) byLabel.set(label, []);
  for (const row of dataset.splits.train) {
    if (row.label === null) continue;
    const list = byLabel.get(row.label) ?? [];
    if (!byLabel.has(row.label)) byLabel.set(row.label, list);
    if (list.length < shots) list.push(row.text);
  }
  const described = (name: string) =>
    descriptions && dataset.descriptions !== undefined && Object.hasOwn(dataset.descriptions, name)
      ? dataset.descriptions[name]
      : undefined;
  const routes = [...byLabel.entries()]
    .filter(([name, utterances]) => utterances.length > 0 || described(name) !== undefined)
    // Escape brackets: dataset text is literal, never a template.
    .map(([name, utterances]) => {
      const description = described(name);
      return {
        name,
        utterances: utterances.map((u) => u.replace(/[[\]\\]/g, '\\$&')),
        ...(description === undefined ? {} : { description }),
      };
    });
  return { routes, ...extra };
}

/** Train rows per label set aside as a val split when a dataset has none. */
export const CARVED_PER_LABEL = 5;

/**
 * The rows thresholds are tuned on: the val split, or when there is none, the last
 * CARVED_PER_LABEL train rows of each label (null rows included) that are not among the
 * first `shots` (the routes). Deterministic, and never a test row.
 */
export function validationRows(
  dataset: Dataset,
  shots: number,
): { rows: LabelledRow[]; source: 'val split' | 'carved from train' | 'none' } {
  const given = dataset.splits.val ?? [];
  if (given.length > 0) return { rows: given, source: 'val split' };
  const byLabel = new Map<string | null, LabelledRow[]>();
  for (const row of dataset.splits.train) {
    const list = byLabel.get(row.label) ?? [];
    byLabel.set(row.label, list);
    list.push(row);
  }
  const rows: LabelledRow[] = [];
  for (const [label, list] of byLabel) {
    const spare = label === null ? list : list.slice(shots);
    rows.push(...spare.slice(-CARVED_PER_LABEL));
  }
  return rows.length === 0 ? { rows, source: 'none' } : { rows, source: 'carved from train' };
}

export interface ProtocolOptions {
  shots: number;
  index: 'hnsw' | 'exact';
  fit: boolean;
  /** `hybrid` (default), `dense` or `head` (router.json `scoring`). */
  scoring?: ScoringName | undefined;
  aggregation?: Aggregation | undefined;
  topK?: number | undefined;
  /** Nearest utterances retrieved per query (router.json `search_k`). */
  searchK?: number | undefined;
  encoder: Encoder;
  objective?: 'accuracy' | 'balanced' | undefined;
  cacheDir?: string | false | undefined;
  onProgress?: ((stage: string, done: number, total: number) => void) | undefined;
  /** Keep each test row's decision (route name, or null) in the result, to compare two runs. */
  decisions?: boolean | undefined;
  /** Use the dataset's label descriptions as the routes' descriptions. Default true. */
  descriptions?: boolean | undefined;
}

export interface ProtocolResult {
  dataset: string;
  encoder: string;
  scoring: ScoringName;
  shots: number;
  index: 'hnsw' | 'exact';
  aggregation: Aggregation;
  topK: number;
  thresholdMethod: string;
  globalThreshold: number;
  test: Metrics;
  /** Share of test rows whose top route equals exact search's; 1 for the exact index. */
  agreementWithExact: number;
  valRows: number;
  /** Where the tuning rows came from. */
  valSource: 'val split' | 'carved from train' | 'none';
  /** Whether per-route thresholds were fitted (false when there was nothing to fit on). */
  fit: boolean;
  /** What a reader of the figures must know (a carved val, no out-of-scope rows to tune on). */
  notes: string[];
  objective: 'accuracy' | 'balanced';
  shrinkage: number | undefined;
  /** Each test row's decision, when asked for (`decisions: true`). */
  decisions?: (string | null)[];
  /** Routes that carried a description from the dataset. */
  described: number;
}

export async function runProtocol(dataset: Dataset, options: ProtocolOptions): Promise<ProtocolResult> {
  const config = fewShotConfig(
    dataset,
    options.shots,
    {
      scoring: options.scoring ?? 'hybrid',
      aggregation: options.aggregation ?? 'top_k_mean',
      top_k: options.topK ?? 3,
      ...(options.searchK === undefined ? {} : { search_k: options.searchK }),
      index: { type: options.index },
    },
    options.descriptions ?? true,
  );
  const described = (config.routes ?? []).filter((r) => 'description' in r).length;
  const progress = (stage: string) => (done: number, total: number) =>
    options.onProgress?.(stage, done, total);
  const router = await SemanticRouter.fromConfig(config, {
    encoder: options.encoder,
    cacheDir: options.cacheDir ?? false,
    onProgress: progress('compile'),
  });
  const { rows: val, source: valSource } = validationRows(dataset, options.shots);
  const notes: string[] = [];
  if (valSource === 'carved from train') {
    notes.push(
      `the dataset has no val split: thresholds were tuned on ${val.length} train rows that are not routes (the last ${CARVED_PER_LABEL} per label)`,
    );
  }
  let globalThreshold = router.routerConfig.score_threshold;
  let thresholdMethod = 'router default';
  let shrinkage: number | undefined;
  let fitted = false;
  if (val.length === 0) {
    notes.push(
      `no rows to tune thresholds on (no val split, and no train rows beyond the first ${options.shots} per label): the router's default threshold ${globalThreshold} is used${options.fit ? ', and --fit did nothing' : ''}`,
    );
  } else if (!val.some((r) => r.label === null)) {
    notes.push(
      'the threshold could not be tuned for out-of-scope traffic: the tuning rows have none (label null), so nothing rewards abstaining; the lowest of the equally good thresholds is kept, and out-of-scope prompts will pass more often than a set with null rows would let them',
    );
  }
  if (val.length > 0) {
    fitted = options.fit;
    if (options.fit) {
      const result = await fit(router, val, { save: false, objective: options.objective });
      shrinkage = result.shrinkage;
      globalThreshold = result.globalThreshold;
      thresholdMethod = 'fit: aggregation search + per-route thresholds (val)';
    } else {
      const { vectors, texts, expected } = await embedRows(router, val, progress('val'));
      globalThreshold = bestGlobalThreshold(
        rankAll(router, probeAll(router, vectors, texts), router.currentScoring),
        expected,
        rowWeights(expected, options.objective ?? 'balanced'),
      ).threshold;
      router.applyFit({
        basis: router.thresholdBasis(),
        aggregation: router.currentScoring.aggregation,
        top_k: router.currentScoring.topK,
        thresholds: Object.fromEntries(router.routes.map((r) => [r.name, globalThreshold])),
        fittedAt: new Date().toISOString(),
        rows: val.length,
      });
      thresholdMethod = 'global (val-tuned)';
    }
  }
  const { vectors, texts, expected } = await embedRows(router, dataset.splits.test, progress('test'));
  const thresholds = router.routes.map((r) => router.thresholdOf(r.name));
  const ranked = rankAll(router, probeAll(router, vectors, texts), router.currentScoring);
  const test = metricsFrom(router, ranked, expected, thresholds);
  const decisions = options.decisions
    ? ranked.map((candidates) => {
        const chosen = decide(candidates, thresholds);
        return chosen < 0 ? null : router.routeNameAt(candidates[chosen]!.route);
      })
    : undefined;

  let agreementWithExact = 1;
  if (options.index !== 'exact') {
    const exact = await SemanticRouter.fromConfig(
      { ...config, index: { type: 'exact' } },
      {
        encoder: options.encoder,
        cacheDir: options.cacheDir ?? false,
      },
    );
    const exactRanked = rankAll(exact, probeAll(exact, vectors, texts), router.currentScoring);
    let same = 0;
    ranked.forEach((c, i) => {
      if (c[0]?.route === exactRanked[i]![0]?.route) same++;
    });
    agreementWithExact = ranked.length === 0 ? 1 : same / ranked.length;
  }
  return {
    dataset: dataset.name,
    encoder: options.encoder.id,
    scoring: router.routerConfig.scoring,
    shots: options.shots,
    index: options.index,
    aggregation: router.currentScoring.aggregation,
    topK: router.currentScoring.topK,
    thresholdMethod,
    globalThreshold,
    test,
    agreementWithExact,
    valRows: val.length,
    valSource,
    fit: fitted,
    notes,
    objective: options.objective ?? 'balanced',
    shrinkage,
    described,
    ...(decisions === undefined ? {} : { decisions }),
  };
}
