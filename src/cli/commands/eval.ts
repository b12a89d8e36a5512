import { parseArgs } from 'node:util';
import type { Aggregation } from '../../config/router-config.js';
import { CachedEncoder } from '../../embeddings/cache.js';
import { createEncoder } from '../../embeddings/create.js';
import { loadDataset, runProtocol } from '../../semantic/protocol.js';
import { encoderSpecFromOption } from '../encoder-option.js';
import { printJson, progressBar, UsageError } from '../output.js';

export async function evalCommand(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      dataset: { type: 'string' },
      shots: { type: 'string', default: '10' },
      fit: { type: 'boolean', default: false },
      index: { type: 'string', default: 'hnsw' },
      aggregation: { type: 'string' },
      scoring: { type: 'string', default: 'hybrid' },
      'top-k': { type: 'string' },
      objective: { type: 'string' },
      encoder: { type: 'string' },
      json: { type: 'boolean', default: false },
      'without-descriptions': { type: 'boolean', default: false },
    },
  });
  if (values.dataset === undefined)
    throw new UsageError('eval needs --dataset <normalised.json> (see semroute eval --help)');
  const shots = Number(values.shots);
  if (!Number.isInteger(shots) || shots < 1) throw new UsageError('--shots takes a positive integer');
  if (values.index !== 'hnsw' && values.index !== 'exact')
    throw new UsageError('--index takes hnsw or exact');
  if (values.scoring !== 'hybrid' && values.scoring !== 'dense' && values.scoring !== 'head')
    throw new UsageError('--scoring takes hybrid, dense or head');
  const objective = values.objective ?? 'balanced';
  if (objective !== 'accuracy' && objective !== 'balanced')
    throw new UsageError('--objective takes accuracy or balanced');
  const dataset = await loadDataset(values.dataset);
  const spec = encoderSpecFromOption(values.encoder);
  // A batch job that exits: larger batches embed the dataset faster with two threads, and the
  // memory they leave behind does not matter here (UseLiteOptions.batchSize).
  const options = spec.type === 'use-lite' ? { batch_size: 32, ...spec.options } : spec.options;
  const encoder = await createEncoder({ ...spec, options, cacheSize: 0 });
  const cached = new CachedEncoder(encoder, 1_000_000);
  try {
    const result = await runProtocol(dataset, {
      shots,
      index: values.index,
      fit: values.fit,
      scoring: values.scoring,
      aggregation: values.aggregation as Aggregation | undefined,
      topK: values['top-k'] === undefined ? undefined : Number(values['top-k']),
      objective,
      descriptions: !values['without-descriptions'],
      encoder: cached,
      onProgress: (stage, done, total) => progressBar(stage)(done, total),
    });
    const summary = {
      dataset: result.dataset,
      encoder: result.encoder,
      scoring: result.scoring,
      shots: result.shots,
      index: result.index,
      fit: result.fit,
      aggregation: result.aggregation,
      topK: result.topK,
      thresholdMethod: result.thresholdMethod,
      objective: result.objective,
      globalThreshold: result.globalThreshold,
      shrinkage: result.shrinkage ?? null,
      inScopeAccuracy: result.test.inScopeAccuracy,
      oosRecall: result.test.oosRecall,
      overallAccuracy: result.test.accuracy,
      agreementWithExact: result.agreementWithExact,
      testRows: result.test.rows,
      valRows: result.valRows,
      valSource: result.valSource,
      descriptions: result.described,
      notes: result.notes,
    };
    if (values.json) {
      printJson(summary);
      return 0;
    }
    const pct = (x: number | null) => (x === null ? 'n/a' : `${(x * 100).toFixed(1)}%`);
    process.stdout.write(
      [
        `dataset ${summary.dataset}, encoder ${summary.encoder}, ${summary.scoring} scoring, K=${shots}, ${summary.index} index`,
        `aggregation ${summary.aggregation} (top_k ${summary.topK}), thresholds: ${summary.thresholdMethod}, objective ${objective}, global ${summary.globalThreshold.toFixed(3)}`,
        `in-scope accuracy ${pct(summary.inScopeAccuracy)}  OOS recall ${pct(summary.oosRecall)}  overall ${pct(summary.overallAccuracy)}  agreement with exact ${pct(summary.agreementWithExact)}`,
        `thresholds tuned on ${summary.valRows} rows (${summary.valSource}); ${summary.descriptions} routes with a description`,
        ...summary.notes.map((n) => `note: ${n}`),
      ].join('\n') + '\n',
    );
    return 0;
  } finally {
    await cached.close();
  }
}
