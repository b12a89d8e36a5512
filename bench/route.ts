/**
 * route() end to end on the default model (uncached and cached embeddings), compile time for
 * 1k and 10k utterances, restart from the saved artefact, and RSS with a 10k index.
 */
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { CachedEncoder } from '../src/embeddings/cache.js';
import { UseLiteEncoder } from '../src/embeddings/use-lite/encoder.js';
import { SemanticRouter } from '../src/semantic/semantic-router.js';
import { type BenchContext, row, syntheticConfig, uniqueSentences } from './lib/context.js';
import { micro, scaled } from './lib/tiny.js';
import { histogramChart, type ResultRow } from './lib/report.js';

export async function routeSuite(ctx: BenchContext): Promise<ResultRow[]> {
  const rows: ResultRow[] = [];
  const S = 'route';
  const encoder = await UseLiteEncoder.load();
  const cacheRoot = path.join(tmpdir(), `semroute-bench-cache-${process.pid}`);
  try {
    const router = await SemanticRouter.fromFile('routes/assistant.json', { encoder, cacheDir: false });
    // Correctness before timing.
    const check = await router.route('how do I reverse a list in python');
    if (check.name !== 'coding') throw new Error(`route() sanity check failed: ${check.name}`);
    const prompts = uniqueSentences(ctx.quick ? 300 : 2000, 3);
    let p = 0;
    const uncached = await micro('route uncached', () => router.route(prompts[p++ % prompts.length]!), {
      iterations: prompts.length,
      warmup: 50,
      samples: true,
    });
    rows.push(
      row(
        S,
        `route() uncached, ${router.utteranceCount} utterances, ${router.indexKind}, ${router.routerConfig.scoring} scoring`,
        'ms',
        uncached,
      ),
    );
    ctx.charts.set(
      'route-latency.svg',
      histogramChart('route() end to end, default model, uncached', uncached.samples ?? []),
    );
    // The same prompts with dense scoring (the kNN score alone): the hybrid part's own cost.
    const dense = await SemanticRouter.fromConfig(
      { ...router.routerConfig, scoring: 'dense' },
      { encoder, cacheDir: false },
    );
    p = 0;
    const uncachedDense = await micro(
      'route uncached, dense',
      () => dense.route(prompts[p++ % prompts.length]!),
      {
        iterations: prompts.length,
        warmup: 50,
      },
    );
    rows.push(
      row(
        S,
        `route() uncached, ${dense.utteranceCount} utterances, ${dense.indexKind}, dense scoring`,
        'ms',
        uncachedDense,
      ),
    );
    const vectors = await encoder.embed(prompts.slice(0, 200));
    let w = 0;
    // Everything after the embedding: search, centroid and lexical cosines, aggregation, ranking.
    const after = (r: SemanticRouter, i: number) =>
      r.rank(r.probe(vectors[i % vectors.length]!, prompts[i % vectors.length]!));
    const decideDense = await micro('decide dense', () => after(dense, w++), {
      iterations: vectors.length * 3,
      warmup: 50,
    });
    rows.push(
      row(S, 'search + aggregate + threshold (no embedding), dense scoring', 'µs', scaled(decideDense, 1000)),
    );
    let v = 0;
    const decide = await micro('decide', () => after(router, v++), {
      iterations: vectors.length * 3,
      warmup: 50,
    });
    rows.push(
      row(
        S,
        `search + aggregate + threshold (no embedding), ${router.routerConfig.scoring} scoring`,
        'µs',
        scaled(decide, 1000),
      ),
    );

    const cachedEncoder = new CachedEncoder(encoder, 10_000);
    const cachedRouter = await SemanticRouter.fromFile('routes/assistant.json', {
      encoder: cachedEncoder,
      cacheDir: false,
    });
    const hot = prompts.slice(0, 50);
    await cachedRouter.routeMany(hot);
    let h = 0;
    const cachedStats = await micro('route cached', () => cachedRouter.route(hot[h++ % hot.length]!), {
      iterations: ctx.quick ? 300 : 2000,
      warmup: 50,
    });
    rows.push(
      row(S, 'route() with a cached embedding', 'ms', cachedStats, {
        speedupVsUncached: uncached.p50 / cachedStats.p50,
      }),
    );

    for (const size of ctx.quick ? [1_000] : [1_000, 10_000]) {
      const config = syntheticConfig(size);
      const dir = path.join(cacheRoot, String(size));
      let t = performance.now();
      const compiled = await SemanticRouter.fromConfig(config, { encoder, cacheDir: dir });
      const compileMs = performance.now() - t;
      const rss = process.memoryUsage().rss;
      t = performance.now();
      const restarted = await SemanticRouter.fromConfig(config, { encoder, cacheDir: dir });
      const restartMs = performance.now() - t;
      const probe = await compiled.route(config.routes[3]!.utterances[0]!);
      const again = await restarted.route(config.routes[3]!.utterances[0]!);
      if (probe.name !== 'route-3' || again.name !== probe.name)
        throw new Error('compiled router answers wrongly');
      const label = `${size / 1000}k`;
      rows.push(
        row(
          S,
          `compile ${label} utterances (embed + HNSW + save)`,
          'ms',
          { n: 1, p50: compileMs, p99: null, mean: compileMs },
          { utterancesPerSecond: Math.round(size / (compileMs / 1000)) },
        ),
      );
      rows.push(
        row(
          S,
          `restart ${label} from saved artefact`,
          'ms',
          { n: 1, p50: restartMs, p99: null, mean: restartMs },
          { speedupVsCompile: compileMs / restartMs, rssMB: Math.round(rss / 1e6) },
        ),
      );
    }
  } finally {
    await encoder.close();
    await rm(cacheRoot, { recursive: true, force: true });
  }
  return rows;
}
