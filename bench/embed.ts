/** Encoder: tokenise, one short sentence (1 and 2 threads), batches of 32, build and load time, RSS. */
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { UseLiteEncoder } from '../src/embeddings/use-lite/encoder.js';
import { ensureUseLiteModel } from '../src/embeddings/use-lite/model-files.js';
import { type BenchContext, row, timeAsync, uniqueSentences } from './lib/context.js';
import { micro, scaled } from './lib/tiny.js';
import { type ResultRow, summarize } from './lib/report.js';

export async function embedSuite(ctx: BenchContext): Promise<ResultRow[]> {
  const rows: ResultRow[] = [];
  const S = 'encoder';
  const dir = path.join(tmpdir(), `semroute-bench-models-${process.pid}`);
  try {
    const builds = await timeAsync(ctx.quick ? 1 : 3, 0, () =>
      ensureUseLiteModel({ root: dir, force: true }),
    );
    rows.push(row(S, 'model build (npm weights → ONNX)', 'ms', summarize(builds)));
    const loads = await timeAsync(ctx.quick ? 3 : 7, 1, async () =>
      (await UseLiteEncoder.load({ modelsDir: dir, build: false })).close(),
    );
    rows.push(row(S, 'model load (session + vocabulary + probe)', 'ms', summarize(loads)));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }

  const rssBefore = process.memoryUsage().rss;
  const one = await UseLiteEncoder.load({ threads: 1 });
  const rssAfter = process.memoryUsage().rss;
  // Correctness first: the same text embeds to the same unit vector.
  const [a] = await one.embed(['how do I reverse a list in python']);
  const [b] = await one.embed(['how do I reverse a list in python']);
  if (a!.some((x, i) => x !== b![i]) || Math.abs(a!.reduce((s, x) => s + x * x, 0) - 1) > 1e-4) {
    throw new Error('encoder is not deterministic or not normalised');
  }

  const sentences = uniqueSentences(ctx.quick ? 300 : 2000);
  let next = 0;
  const tokens = await micro('tokenize', () => one.tokenizer.encode(sentences[next++ % sentences.length]!), {
    iterations: sentences.length,
  });
  rows.push(row(S, 'tokenize one sentence', 'µs', scaled(tokens, 1000)));

  for (const threads of [1, 2]) {
    const encoder = threads === 1 ? one : await UseLiteEncoder.load({ threads });
    const n = ctx.quick ? 200 : 1000;
    let i = 0;
    const single = await micro('embed one', () => encoder.embed([sentences[i++ % sentences.length]!]), {
      iterations: n,
      warmup: 30,
    });
    rows.push(row(S, `embed one short sentence, ${threads} thread${threads > 1 ? 's' : ''}`, 'ms', single));
    const batches = ctx.quick ? 10 : 40;
    let b = 0;
    const stats = await micro(
      'embed batch',
      () => {
        const start = (b++ * 32) % (sentences.length - 32);
        return encoder.embed(sentences.slice(start, start + 32));
      },
      { iterations: batches, warmup: 2 },
    );
    rows.push(
      row(S, `embed batch of 32, ${threads} thread${threads > 1 ? 's' : ''}`, 'ms', stats, {
        sentencesPerSecond: Math.round(32 / (stats.mean / 1000)),
      }),
    );
    if (threads !== 1) await encoder.close();
  }
  rows.push(
    row(
      S,
      'RSS added by loading the model',
      'MB',
      { n: 1, p50: null, p99: null, mean: (rssAfter - rssBefore) / 1e6 },
      { rssMB: Math.round(rssAfter / 1e6) },
    ),
  );
  ctx.env.encoder = one.id;
  ctx.env.encoderThreads = '1 and 2 (default min(2, cores))';
  await one.close();
  return rows;
}
