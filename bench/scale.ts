/**
 * The decision at scale (#34): route() against one embedding of the same prompt, in the same
 * process and in situ (each route() right after an embedding of its own, so the decision runs
 * on caches the ONNX run has just cooled, as it does in service), at 145 (routes/assistant.json),
 * 1k, 10k and (full run) 100k utterances, hybrid and dense. The ratio is what the issue bounds:
 * ≤ 1.05 means the decision costs at most 5% of the embedding it follows.
 */
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { UseLiteEncoder } from '../src/embeddings/use-lite/encoder.js';
import { SemanticRouter } from '../src/semantic/semantic-router.js';
import { type BenchContext, row, syntheticConfig, uniqueSentences } from './lib/context.js';
import type { ResultRow } from './lib/report.js';

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
};

export async function scaleSuite(ctx: BenchContext): Promise<ResultRow[]> {
  const rows: ResultRow[] = [];
  const encoder = await UseLiteEncoder.load();
  const cacheRoot = path.join(tmpdir(), `semroute-bench-scale-${process.pid}`);
  const prompts = uniqueSentences(ctx.quick ? 300 : 1000, 11);
  try {
    const sizes: Array<number | 'assistant'> = ctx.quick
      ? ['assistant', 1_000]
      : ['assistant', 1_000, 10_000, 100_000];
    for (const size of sizes) {
      const dir = path.join(cacheRoot, String(size));
      const started = performance.now();
      const hybrid =
        size === 'assistant'
          ? await SemanticRouter.fromFile('routes/assistant.json', { encoder, cacheDir: dir })
          : await SemanticRouter.fromConfig(
              { ...syntheticConfig(size), max_variants: size },
              { encoder, cacheDir: dir },
            );
      const compileMs = performance.now() - started;
      const rss = process.memoryUsage().rss;
      // Same utterances, same artefact key: the dense router loads the vectors just saved.
      const dense = await SemanticRouter.fromConfig(
        { ...hybrid.routerConfig, scoring: 'dense' },
        { encoder, cacheDir: dir },
      );
      for (const router of [hybrid, dense]) {
        const embedMs: number[] = [];
        const routeMs: number[] = [];
        const decisionMs: number[] = [];
        for (let i = 0; i < prompts.length + 30; i++) {
          const prompt = prompts[i % prompts.length]!;
          let t = performance.now();
          await encoder.embed([prompt]);
          const e = performance.now() - t;
          t = performance.now();
          const result = await router.route(prompt);
          const r = performance.now() - t;
          if (i < 30) continue; // warm-up
          embedMs.push(e);
          routeMs.push(r);
          decisionMs.push(result.timing.searchMs);
        }
        const ratio = median(routeMs) / median(embedMs);
        const name = `route() / one embedding, ${router.utteranceCount} utterances (${router.routes.length} routes), ${router.routerConfig.scoring}`;
        rows.push(
          row(
            'scale',
            name,
            'ratio',
            { n: routeMs.length, p50: ratio, p99: null, mean: ratio },
            {
              routeP50Ms: median(routeMs),
              embedP50Ms: median(embedMs),
              decisionInSituP50Us: Math.round(median(decisionMs) * 1000),
              ...(router === hybrid
                ? { compileMs: Math.round(compileMs), rssMB: Math.round(rss / 1e6) }
                : {}),
            },
          ),
        );
        ctx.log(
          `  ${name}: ${ratio.toFixed(3)}× (route ${median(routeMs).toFixed(3)} ms, embed ${median(embedMs).toFixed(3)} ms, decision in situ ${(median(decisionMs) * 1000).toFixed(0)} µs)`,
        );
      }
    }
  } finally {
    await encoder.close();
    await rm(cacheRoot, { recursive: true, force: true });
  }
  return rows;
}
