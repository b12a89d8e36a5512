/**
 * Routing quality: hand-written queries on routes/assistant.json (always), and the CLINC150
 * protocol of docs/benchmarks.md when the dataset is present: dense and hybrid scoring side by
 * side, K=10 and 30, a global threshold and a fit, both tuned on val (balanced objective).
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { CachedEncoder } from '../src/embeddings/cache.js';
import { UseLiteEncoder } from '../src/embeddings/use-lite/encoder.js';
import { evaluate } from '../src/semantic/evaluate.js';
import { type Dataset, loadDataset, runProtocol } from '../src/semantic/protocol.js';
import { SemanticRouter } from '../src/semantic/semantic-router.js';
import type { BenchContext } from './lib/context.js';
import type { ResultRow } from './lib/report.js';

const HAND_WRITTEN: Array<{ text: string; label: string | null }> = [
  { text: 'how do I reverse a list in python', label: 'coding' },
  { text: 'write a bash script that renames all jpg files', label: 'coding' },
  { text: 'why is my rust borrow checker complaining', label: 'coding' },
  { text: 'what is 15% of 240', label: 'math' },
  { text: 'solve the quadratic x^2 - 5x + 6 = 0', label: 'math' },
  { text: 'how do you say thank you in Japanese', label: 'translation' },
  { text: 'translate this paragraph into Spanish please', label: 'translation' },
  { text: 'give me a two sentence summary of this text', label: 'summarization' },
  { text: 'what are the main takeaways from this report', label: 'summarization' },
  { text: 'I need to update my credit card on file', label: 'support' },
  { text: 'my order arrived broken', label: 'support' },
  { text: 'hey there, how is it going', label: 'chitchat' },
  { text: 'tell me something funny', label: 'chitchat' },
  { text: 'who wrote pride and prejudice', label: null },
  { text: 'what is the boiling point of water at altitude', label: null },
  { text: 'recommend a hiking trail near Denver', label: null },
];

const BANKING77 = path.resolve('datasets/banking77/banking77_normalized.json');

export async function qualitySuite(ctx: BenchContext): Promise<ResultRow[]> {
  const rows: ResultRow[] = [];
  const encoder = new CachedEncoder(await UseLiteEncoder.load(), 1_000_000);
  try {
    const router = await SemanticRouter.fromFile('routes/assistant.json', { encoder, cacheDir: false });
    const m = await evaluate(router, HAND_WRITTEN);
    rows.push({
      suite: 'quality',
      name: 'routes/assistant.json, hand-written queries',
      unit: 'accuracy',
      n: m.rows,
      p50: null,
      p99: null,
      mean: m.accuracy,
      extra: { inScopeAccuracy: m.inScopeAccuracy, oosRecall: m.oosRecall ?? 'n/a' },
    });
    if (ctx.dataset === undefined) {
      ctx.log(
        '  CLINC150 skipped: no dataset found. Run with --dataset PATH (normalised format, see docs/benchmarks.md).',
      );
      rows.push({
        suite: 'quality',
        name: 'CLINC150 (skipped: no dataset)',
        unit: 'accuracy',
        n: 0,
        p50: null,
        p99: null,
        mean: null,
        extra: { howTo: 'npm run bench -- --only quality --dataset PATH' },
      });
      return rows;
    }
    const dataset = await loadDataset(ctx.dataset);
    type Run = {
      shots: number;
      index: 'exact' | 'hnsw';
      fit: boolean;
      scoring: 'hybrid' | 'dense' | 'head';
      aggregation: 'max' | 'top_k_mean';
      topK: number;
      objective: 'accuracy' | 'balanced';
      /** The dataset's label descriptions as route descriptions. */
      descriptions: boolean;
    };
    const side = (shots: number, fit: boolean): Run[] =>
      (['dense', 'hybrid'] as const).map((scoring) => ({
        shots,
        index: 'hnsw',
        fit,
        scoring,
        aggregation: 'top_k_mean',
        topK: 3,
        objective: 'balanced',
        descriptions: false,
      }));
    // Where LiteLLM users are (1–3 utterances and a description per route): each K with the
    // label names as descriptions and without.
    // The trained head (scoring: head) against hybrid on the same routes, with descriptions.
    const described: Run[] = [1, 3, 10].flatMap((shots) =>
      (
        [
          ['hybrid', true],
          ['hybrid', false],
          ['head', true],
        ] as const
      ).map(([scoring, descriptions]) => ({
        shots,
        index: 'hnsw' as const,
        fit: false,
        scoring,
        aggregation: 'top_k_mean' as const,
        topK: 3,
        objective: 'balanced' as const,
        descriptions,
      })),
    );
    const runs: Run[] = ctx.quick
      ? side(10, false)
      : [
          // The published reference protocol (max, accuracy-tuned global threshold): checks the pipeline.
          {
            shots: 10,
            index: 'exact',
            fit: false,
            scoring: 'dense',
            aggregation: 'max',
            topK: 1,
            objective: 'accuracy',
            descriptions: false,
          },
          ...side(10, false),
          ...side(10, true),
          ...side(30, false),
          ...side(30, true),
          ...described,
        ];
    const measure = async (dataset: Dataset, run: Run) => {
      const started = performance.now();
      const result = await runProtocol(dataset, { ...run, encoder });
      const method = run.fit ? 'fit' : `global threshold (${run.objective})`;
      const aggregation = run.aggregation === 'max' ? ', max' : '';
      const withDescriptions = run.descriptions ? ', label names as descriptions' : '';
      const name = `${dataset.name} K=${run.shots} ${run.scoring}${aggregation} ${run.index} ${method}${withDescriptions}`;
      rows.push({
        suite: 'quality',
        name,
        unit: 'accuracy',
        n: result.test.rows,
        p50: null,
        p99: null,
        mean: result.test.accuracy,
        extra: {
          inScopeAccuracy: result.test.inScopeAccuracy,
          oosRecall: result.test.oosRecall ?? 'n/a',
          aggregation: `${result.aggregation}${result.aggregation === 'top_k_mean' ? `@${result.topK}` : ''}`,
          threshold: result.globalThreshold,
          method: result.thresholdMethod,
          scoring: result.scoring,
          valSource: result.valSource,
          agreementWithExact: result.agreementWithExact,
          seconds: Math.round((performance.now() - started) / 1000),
        },
      });
      ctx.log(
        `  ${name}: overall ${(result.test.accuracy * 100).toFixed(1)}%, in-scope ${(result.test.inScopeAccuracy * 100).toFixed(1)}%, OOS ${((result.test.oosRecall ?? 0) * 100).toFixed(1)}%`,
      );
    };
    for (const run of runs) await measure(dataset, run);
    // A second public set, where routes are written as LiteLLM users write them: Banking77
    // (77 banking intents, no val split, no out-of-scope rows), K=1/3/10, descriptions and head.
    if (!ctx.quick && existsSync(BANKING77)) {
      const banking = await loadDataset(BANKING77);
      for (const run of described) await measure(banking, run);
    }
    // The default int8 model against fp32 under the same protocol: accuracy, and how often the
    // two decide alike (the bar for int8 as the default: within 0.3 points, ≥ 99% agreement).
    const fp32 = new CachedEncoder(await UseLiteEncoder.load({ precision: 'fp32' }), 1_000_000);
    try {
      for (const run of side(10, false)
        .concat(ctx.quick ? [] : side(10, true))
        .filter((r) => r.scoring === 'hybrid')) {
        const [full, quantised] = [
          await runProtocol(dataset, { ...run, encoder: fp32, decisions: true }),
          await runProtocol(dataset, { ...run, encoder, decisions: true }),
        ];
        const same = quantised.decisions!.filter((d, i) => d === full.decisions![i]).length;
        const name = `${dataset.name} K=${run.shots} hybrid ${run.fit ? 'fit' : 'global threshold (balanced)'}: int8 model vs fp32`;
        const agreement = same / quantised.decisions!.length;
        const delta = (quantised.test.accuracy - full.test.accuracy) * 100;
        rows.push({
          suite: 'quality',
          name,
          unit: 'accuracy',
          n: quantised.test.rows,
          p50: null,
          p99: null,
          mean: quantised.test.accuracy,
          extra: {
            fp32Accuracy: full.test.accuracy,
            deltaPoints: Number(delta.toFixed(2)),
            decisionsAgreeWithFp32: agreement,
          },
        });
        ctx.log(
          `  ${name}: ${(quantised.test.accuracy * 100).toFixed(2)}% vs ${(full.test.accuracy * 100).toFixed(2)}% (${delta >= 0 ? '+' : ''}${delta.toFixed(2)} points), decisions agree on ${(agreement * 100).toFixed(1)}%`,
        );
      }
    } finally {
      await fp32.close();
    }
  } finally {
    await encoder.close();
  }
  return rows;
}
