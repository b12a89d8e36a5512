import { parseArgs } from 'node:util';
import { createEncoder } from '../../embeddings/create.js';
import { encoderSpecFromOption } from '../encoder-option.js';
import { printJson, UsageError } from '../output.js';

export async function embedCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { model: { type: 'string' }, json: { type: 'boolean', default: false } },
  });
  if (positionals.length === 0)
    throw new UsageError('embed needs at least one text (see semroute embed --help)');
  const encoder = await createEncoder({ ...encoderSpecFromOption(values.model), cacheSize: 0 });
  try {
    const rows = await encoder.embed(positionals);
    if (values.json) {
      printJson({
        model: encoder.id,
        dimensions: encoder.dimensions,
        embeddings: rows.map((r) => Array.from(r)),
      });
    } else {
      rows.forEach((row, i) => {
        const head = Array.from(row.subarray(0, 6), (x) => x.toFixed(5)).join(', ');
        process.stdout.write(
          `${positionals[i]}\n  [${head}, …] (${encoder.dimensions} dims, ${encoder.id})\n`,
        );
      });
    }
    return 0;
  } finally {
    await encoder.close();
  }
}
