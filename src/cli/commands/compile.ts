import { parseArgs } from 'node:util';
import { SemanticRouter } from '../../semantic/semantic-router.js';
import { encoderFromOption, withEncoderHint } from '../encoder-option.js';
import { printJson, progressBar, UsageError } from '../output.js';

export async function compileCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      'cache-dir': { type: 'string' },
      index: { type: 'string' },
      json: { type: 'boolean', default: false },
      encoder: { type: 'string' },
    },
  });
  const [file] = positionals;
  if (file === undefined) throw new UsageError('compile needs a router.json (see semroute compile --help)');
  const started = performance.now();
  const encoder = await encoderFromOption(values.encoder);
  const router = await SemanticRouter.fromFile(file, {
    encoder,
    cacheDir: values['cache-dir'],
    index: values.index,
    onProgress: progressBar('embedding utterances'),
  }).catch(async (error: unknown) => {
    await encoder?.close();
    throw withEncoderHint(error, file);
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
    await encoder?.close();
  }
}
