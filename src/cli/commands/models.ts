import { parseArgs } from 'node:util';
import { listModels, pullModel } from '../../embeddings/pull.js';
import { ensureUseLiteModel } from '../../embeddings/use-lite/model-files.js';
import { printJson, progressBar, UsageError } from '../output.js';

export async function modelsCommand(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  const { values, positionals } = parseArgs({
    args: rest,
    allowPositionals: true,
    options: {
      force: { type: 'boolean', default: false },
      json: { type: 'boolean', default: false },
      quiet: { type: 'boolean', default: false },
      'base-url': { type: 'string' },
      revision: { type: 'string' },
    },
  });
  if (sub === 'build') {
    const result = await ensureUseLiteModel({ force: values.force });
    if (values.json) printJson({ built: result.built, ...result.manifest, path: result.files.model });
    else if (!values.quiet || result.built)
      process.stdout.write(
        result.built
          ? `built ${result.files.model} (${(result.manifest.bytes / 1e6).toFixed(1)} MB) in ${result.manifest.buildMs} ms\n`
          : `up to date: ${result.files.model}\n`,
      );
    return 0;
  }
  if (sub === 'list') {
    const models = await listModels();
    if (values.json) printJson(models);
    else if (models.length === 0) process.stdout.write('no models installed (run: semroute models build)\n');
    else
      for (const m of models)
        process.stdout.write(`${m.id}\t${m.kind}\t${(m.bytes / 1e6).toFixed(1)} MB\t${m.dir}\n`);
    return 0;
  }
  if (sub === 'pull') {
    const [id] = positionals;
    if (id === undefined)
      throw new UsageError('models takes build, list or pull (see semroute models --help)');
    const bars = new Map<string, ReturnType<typeof progressBar>>();
    const result = await pullModel(id, {
      baseUrl: values['base-url'],
      revision: values.revision,
      onProgress: (file, done, total) => {
        if (!bars.has(file)) bars.set(file, progressBar(file));
        bars.get(file)!(done, total ?? done);
      },
    });
    if (values.json)
      printJson({ dir: result.dir, downloaded: result.downloaded, files: result.manifest.files });
    else process.stdout.write(`${id}: ${result.downloaded.length} file(s) downloaded into ${result.dir}\n`);
    return 0;
  }
  throw new UsageError('models takes build, list or pull (see semroute models --help)');
}
