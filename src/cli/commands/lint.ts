import { parseArgs } from 'node:util';
import { lintRouter } from '../../semantic/lint.js';
import { SemanticRouter } from '../../semantic/semantic-router.js';
import { encoderFromOption, withEncoderHint } from '../encoder-option.js';
import { printJson, progressBar, UsageError } from '../output.js';

export async function lintCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      json: { type: 'boolean', default: false },
      encoder: { type: 'string' },
      'cache-dir': { type: 'string' },
    },
  });
  const [file] = positionals;
  if (file === undefined) throw new UsageError('lint needs a router.json (see semroute lint --help)');
  const encoder = await encoderFromOption(values.encoder);
  const router = await SemanticRouter.fromFile(file, {
    encoder,
    cacheDir: values['cache-dir'],
    onProgress: progressBar('embedding utterances'),
  }).catch(async (error: unknown) => {
    await encoder?.close();
    throw withEncoderHint(error, file);
  });
  try {
    const report = lintRouter(router);
    const loading = router.warnings;
    if (values.json) printJson({ file, ...report, loadWarnings: loading });
    else {
      const out = process.stdout;
      for (const w of loading) out.write(`warning: ${w}\n`);
      for (const f of report.errors) out.write(`error [${f.code}] ${f.message}\n`);
      for (const f of report.warnings) out.write(`warning [${f.code}] ${f.message}\n`);
      out.write(
        `${file}: ${report.routes} routes, ${report.utterances} utterances: ${report.errors.length} error(s), ${report.warnings.length + loading.length} warning(s)\n`,
      );
    }
    return report.errors.length > 0 ? 1 : 0;
  } finally {
    await router.close();
    await encoder?.close();
  }
}
