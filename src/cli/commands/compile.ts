import { parseArgs } from 'node:util';
import { SemanticRouter } from '../../semantic/semantic-router.js';
import { printJson, progressBar, UsageError } from '../output.js';

export const compileHelp = `semroute compile <router.json> [--cache-dir DIR] [--index auto|hnsw|exact] [--json]
  Expands templates, embeds every utterance, builds the index and saves the compiled artefact.`;

export async function compileCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      'cache-dir': { type: 'string' },
      index: { type: 'string' },
      json: { type: 'boolean', default: false },
    },
  });
  const [file] = positionals;
  if (file === undefined) throw new UsageError(compileHelp);
  const started = performance.now();
  const router = await SemanticRouter.fromFile(file, {
    cacheDir: values['cache-dir'],
    index: values.index as 'auto' | 'hnsw' | 'exact' | undefined,
    onProgress: progressBar('embedding utterances'),
  });
  try {
    for (const warning of router.warnings) process.stderr.write(`warning: ${warning}\n`);
    const summary = {
      routes: router.routes.length,
      utterances: router.utteranceCount,
      encoder: router.encoder.id,
      index: router.indexKind,
      key: router.key,
      ms: Math.round(performance.now() - started),
    };
    if (values.json) printJson(summary);
    else
      process.stdout.write(
        `compiled ${summary.routes} routes, ${summary.utterances} utterances with ${summary.encoder} into a ${summary.index} index (${summary.key}) in ${summary.ms} ms\n`,
      );
    return 0;
  } finally {
    await router.close();
  }
}
