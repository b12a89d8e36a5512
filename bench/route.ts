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
import { type BenchContext, row, timeAsync, uniqueSentences } from './lib/context.js';
import { histogramChart, type ResultRow, summarize } from './lib/report.js';

function syntheticConfig(utterances: number) {
  const perRoute = 50;
  const sentences = uniqueSentences(utterances, 7);
  const routes = Array.from({ length: Math.ceil(utterances / perRoute) }, (_, r) => ({
    name: `route-${r}`,
    utterances: sentences.slice(r * perRoute, (r + 1) * perRoute),
  }));
  return { routes, index: { type: 'hnsw' as const } };
}

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
    const uncached = await timeAsync(prompts.length, 50, (i) => router.route(prompts[i]!));
    rows.push(
      row(
        S,
        `route() uncached, ${router.utteranceCount} utterances, ${router.indexKind}`,
        'ms',
        summarize(uncached),
      ),
    );
    ctx.charts.set(
      'route-latency.svg',
      histogramChart('route() end to end, default model, uncached', uncached),
    );
    const searchOnly = prompts.slice(0, 200).map((p) => p);
    const vectors = await encoder.embed(searchOnly);
    const decide = await timeAsync(vectors.length * 3, 50, async (i) =>
      router.routeVector(vectors[i % vectors.length]!),
    );
    rows.push(
      row(S, 'search + aggregate + threshold (no embedding)', 'µs', summarize(decide.map((x) => x * 1000))),
    );

    const cachedEncoder = new CachedEncoder(encoder, 10_000);
    const cachedRouter = await SemanticRouter.fromFile('routes/assistant.json', {
      encoder: cachedEncoder,
      cacheDir: false,
    });
    const hot = prompts.slice(0, 50);
    await cachedRouter.routeMany(hot);
    const cached = await timeAsync(ctx.quick ? 300 : 2000, 50, (i) =>
      cachedRouter.route(hot[i % hot.length]!),
    );
    const cachedStats = summarize(cached);
    rows.push(
      row(S, 'route() with a cached embedding', 'ms', cachedStats, {
        speedupVsUncached: summarize(uncached).p50 / cachedStats.p50,
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
