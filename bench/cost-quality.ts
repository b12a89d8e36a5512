import path from 'node:path';
import { calibrate, foldOf, type GradedRow } from '../src/difficulty/calibrate.js';
import { ComplexityClassifier, TIERS } from '../src/difficulty/complexity.js';
import { type Curve, costQualityCurve, curveSvg, summary } from '../src/difficulty/curve.js';
import { defaultDifficultyModel } from '../src/difficulty/default-model.js';
import { askOf } from '../src/difficulty/features.js';
import { DifficultyModel } from '../src/difficulty/model.js';
import { readOutcomes } from '../src/difficulty/outcomes.js';
import { readTextFile } from '../src/config/json-source.js';
import { CachedEncoder } from '../src/embeddings/cache.js';
import { UseLiteEncoder } from '../src/embeddings/use-lite/encoder.js';
import { SemanticRouter } from '../src/semantic/semantic-router.js';
import { type BenchContext, row, uniqueSentences } from './lib/context.js';
import type { ResultRow } from './lib/report.js';
import { micro, scaled } from './lib/tiny.js';

const DIR = path.resolve('datasets/routellm-outcomes');
const S = 'cost-quality';

interface Loaded {
  name: string;
  rows: GradedRow[];
  embeddings: Float32Array[];
  weak: number[];
  strong: number[];
}

function curveRow(file: string, label: string, curve: Curve, extra: Record<string, unknown> = {}): ResultRow {
  const s = summary(curve);
  return row(
    S,
    `${file}: ${label}`,
    'APGR',
    { n: s.rows, p50: null, p99: null, mean: s.apgr },
    {
      cpt50: s.cpt50,
      cpt80: s.cpt80,
      q20: s.q20,
      q50: s.q50,
      ...extra,
    },
  );
}

export async function costQualitySuite(ctx: BenchContext): Promise<ResultRow[]> {
  const rows: ResultRow[] = [];
  const encoder = await UseLiteEncoder.load({ memoryArena: true });
  try {
    const files: Loaded[] = [];
    for (const name of ctx.quick ? ['gsm8k'] : ['mmlu', 'gsm8k']) {
      // MMLU's file ships gzipped (8 MB of text).
      const file = path.join(DIR, name === 'mmlu' ? 'mmlu.jsonl.gz' : `${name}.jsonl`);
      const graded = (await readOutcomes(file, await readTextFile(file, 1024 * 1024 * 1024))).rows;
      const t = performance.now();
      const embeddings = await encoder.embed(graded.map((r) => r.ask.text));
      ctx.log(
        `  ${name}: ${graded.length} prompts embedded in ${((performance.now() - t) / 1000).toFixed(1)} s`,
      );
      files.push({
        name,
        rows: graded,
        embeddings,
        weak: graded.map((r) => r.outcomes.weak!),
        strong: graded.map((r) => r.outcomes.strong!),
      });
    }
    const heuristic = new ComplexityClassifier();
    const series = new Map<string, Array<{ label: string; curve: Curve }>>();
    for (const f of files) {
      const other = files.find((o) => o !== f);
      const add = (label: string, scores: ArrayLike<number>, extra: Record<string, unknown> = {}) => {
        const curve = costQualityCurve(scores, f.weak, f.strong);
        rows.push(curveRow(f.name, label, curve, extra));
        const list = series.get(f.name) ?? [];
        list.push({ label, curve });
        series.set(f.name, list);
        ctx.log(
          `  ${f.name} ${label}: APGR ${curve.apgr.toFixed(3)}, CPT(50%) ${(curve.cpt50 * 100).toFixed(1)}%`,
        );
        return curve;
      };
      add(
        'random',
        f.rows.map(() => 0),
      );
      add(
        'oracle',
        f.rows.map((_, i) => f.strong[i]! - f.weak[i]!),
      );
      const length = add(
        'prompt length',
        f.rows.map((r) => r.ask.text.length),
      );
      const decisions = f.rows.map((r) => heuristic.classify(r.ask.text));
      const upper = decisions.filter((d) => TIERS.indexOf(d.tier) >= 2).length / f.rows.length;
      add(
        'LiteLLM complexity heuristic (score)',
        decisions.map((d) => d.score),
        {
          complexOrReasoningShare: upper,
        },
      );
      // The shipped recipe trained on the other file only: traffic it was not trained on.
      if (other !== undefined) {
        const transfer = await calibrate(other.rows, encoder, {
          recipe: 'prior',
          embeddings: other.embeddings,
        });
        const model = DifficultyModel.from(transfer.artefact, `prior trained on ${other.name}`);
        const predictions = f.rows.map((r, i) => model.predict(r.ask, f.embeddings[i]));
        const dflt = add(
          `default recipe, trained on ${other.name} only`,
          predictions.map((p) => p.score),
        );
        rows.at(-1)!.extra.atLeastLength = dflt.apgr >= length.apgr;
      }
      const calibrated = await calibrate(f.rows, encoder, { embeddings: f.embeddings });
      add('calibrated (5-fold CV)', calibrated.heldOut.scores);
    }
    for (const [name, list] of series) {
      ctx.charts.set(
        `cost-quality-${name}.svg`,
        curveSvg(
          list.filter((s) => s.label !== 'oracle'),
          `${name}: quality against strong-call share (held out)`,
        ),
      );
    }

    // The operating point on prompts the calibration never saw.
    for (const f of files) {
      const folds = f.rows.map((r) => foldOf(r.ask.text, 5));
      let strong = 0;
      const shares: number[] = [];
      for (let k = 0; k < 5; k++) {
        const train = f.rows.map((_, i) => i).filter((i) => folds[i] !== k);
        const test = f.rows.map((_, i) => i).filter((i) => folds[i] === k);
        const c = await calibrate(
          train.map((i) => f.rows[i]!),
          encoder,
          {
            embeddings: train.map((i) => f.embeddings[i]!),
            target: { kind: 'target_share', value: 0.3 },
            folds: 3,
          },
        );
        const m = DifficultyModel.from(c.artefact, 'nested');
        const chosen = test.filter(
          (i) => m.choose(m.predict(f.rows[i]!.ask, f.embeddings[i])) === m.strongest,
        ).length;
        strong += chosen;
        shares.push(chosen / test.length);
      }
      const share = strong / f.rows.length;
      rows.push(
        row(
          S,
          `${f.name}: asked for 30% strong calls, share reached on held-out prompts`,
          'share',
          {
            n: f.rows.length,
            p50: null,
            p99: null,
            mean: share,
          },
          { perFold: shares.map((s) => Number(s.toFixed(3))), within25to35: share >= 0.25 && share <= 0.35 },
        ),
      );
      ctx.log(`  ${f.name}: asked 30% strong, reached ${(share * 100).toFixed(1)}% on held-out prompts`);
    }

    // The decision's own cost, beside a plain route() of the same prompts, same process.
    const cached = new CachedEncoder(encoder, 0);
    const router = await SemanticRouter.fromFile('routes/assistant.json', {
      encoder: cached,
      cacheDir: false,
    });
    const prompts = uniqueSentences(ctx.quick ? 300 : 2000, 11);
    const difficulty = await defaultDifficultyModel();
    let a = 0;
    const routeStats = await micro('route', () => router.route(prompts[a++ % prompts.length]!), {
      iterations: prompts.length,
      warmup: 50,
    });
    let b = 0;
    const decide = async () => {
      const text = prompts[b++ % prompts.length]!;
      const [v] = await encoder.embed([text]);
      return difficulty.predict(askOf(text), v);
    };
    const decisionStats = await micro('difficulty decision', decide, {
      iterations: prompts.length,
      warmup: 50,
    });
    // What the tier decision adds to a route() in service: the router has embedded the prompt
    // and the encoder's cache answers the difficulty model's embed, so the model's own work.
    const vectors = await encoder.embed(prompts.slice(0, 500));
    let e = 0;
    const predictStats = await micro(
      'difficulty model on a cached embedding',
      () => {
        const i = e++ % vectors.length;
        return difficulty.predict(askOf(prompts[i]!), vectors[i]);
      },
      { iterations: prompts.length * 5, warmup: 100 },
    );
    rows.push(
      row(S, 'difficulty decision added to a route() (embedding shared)', 'µs', scaled(predictStats, 1000), {
        shareOfRoute: Number((predictStats.p50 / routeStats.p50).toFixed(4)),
      }),
    );
    ctx.log(
      `  difficulty model on the route()'s embedding: p50 ${(predictStats.p50 * 1000).toFixed(1)} µs, ${((100 * predictStats.p50) / routeStats.p50).toFixed(1)}% of route()`,
    );
    let c = 0;
    const heuristicStats = await micro(
      'heuristic',
      () => heuristic.classify(prompts[c++ % prompts.length]!),
      { iterations: prompts.length * 5, warmup: 100 },
    );
    rows.push(row(S, 'route() of a new prompt (assistant.json, hybrid)', 'ms', routeStats));
    rows.push(
      row(S, 'difficulty decision of a new prompt (embedding + default model)', 'ms', decisionStats, {
        ratioToRoute: Number((decisionStats.p50 / routeStats.p50).toFixed(3)),
      }),
    );
    rows.push(
      row(S, 'LiteLLM complexity heuristic (no embedding)', 'µs', {
        ...heuristicStats,
        p50: heuristicStats.p50 * 1000,
        p99: heuristicStats.p99 * 1000,
        mean: heuristicStats.mean * 1000,
      }),
    );
    ctx.log(
      `  decision p50 ${decisionStats.p50.toFixed(3)} ms vs route() ${routeStats.p50.toFixed(3)} ms (${(decisionStats.p50 / routeStats.p50).toFixed(2)}x)`,
    );
    await router.close();
  } finally {
    await encoder.close();
  }
  return rows;
}
