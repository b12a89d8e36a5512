import { parseArgs } from 'node:util';
import { createEncoder } from '../../embeddings/create.js';
import { printJson, UsageError } from '../output.js';

export const embedHelp = `semroute embed [--model use-lite|onnx:<dir-or-id>|openai:<model>] [--json] <text>...
  Prints embeddings; with --json one object {"model", "dimensions", "embeddings"}.`;

export function encoderSpecFromModel(model: string | undefined): { type: string; name?: string } {
  if (model === undefined || model === 'use-lite' || model === 'local') return { type: 'use-lite' };
  const colon = model.indexOf(':');
  if (colon > 0) return { type: model.slice(0, colon), name: model.slice(colon + 1) };
  return { type: 'onnx', name: model };
}

export async function embedCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { model: { type: 'string' }, json: { type: 'boolean', default: false } },
  });
  if (positionals.length === 0) throw new UsageError(embedHelp);
  const encoder = await createEncoder({ ...encoderSpecFromModel(values.model), cacheSize: 0 });
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
