import { parseArgs } from 'node:util';
import { SemanticRouter } from '../../semantic/semantic-router.js';
import { encoderFromOption, withEncoderHint } from '../encoder-option.js';
import { printJson, progressBar, UsageError } from '../output.js';

export async function routeCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      json: { type: 'boolean', default: false },
      index: { type: 'string' },
      'cache-dir': { type: 'string' },
      candidates: { type: 'string', default: '5' },
      encoder: { type: 'string' },
    },
  });
  const [file, ...words] = positionals;
  if (file === undefined || words.length === 0)
    throw new UsageError('route needs a router.json and the text to route (see semroute route --help)');
  const text = words.join(' ');
  // One query: one ONNX thread. A pool of threads would cost more to start than it saves.
  process.env.SEMROUTE_ONNX_THREADS ??= '1';
  const encoder = await encoderFromOption(values.encoder);
  const router = await SemanticRouter.fromFile(file, {
    encoder,
    index: values.index,
    cacheDir: values['cache-dir'],
    onProgress: progressBar('embedding utterances'),
  }).catch(async (error: unknown) => {
    await encoder?.close();
    throw withEncoderHint(error, file);
  });
  try {
    for (const warning of router.warnings) process.stderr.write(`warning: ${warning}\n`);
    // The language is not printed: the detector runs only when a route is bound to one.
    const result = await router.route(text, { candidates: Number(values.candidates), language: false });
    if (values.json) {
      printJson({
        route: result.name,
        score: result.score,
        threshold: result.threshold,
        default: result.defaultRoute,
        matched: result.matched,
        candidates: result.candidates.map((c) => ({
          route: c.route,
          score: c.score,
          threshold: c.threshold,
        })),
        timing: result.timing,
      });
      return 0;
    }
    const out = process.stdout;
    if (result.name === null) {
      out.write(`route: (none) → default ${result.defaultRoute ?? '(none configured)'}\n`);
      out.write(`best score ${result.score.toFixed(4)} below threshold ${result.threshold}\n`);
    } else {
      out.write(`route: ${result.name}  score ${result.score.toFixed(4)} (threshold ${result.threshold})\n`);
    }
    if (result.matched) {
      out.write(
        `matched: "${result.matched.utterance}"${result.matched.template ? ` (template "${result.matched.template}")` : ''}\n`,
      );
    }
    out.write('candidates:\n');
    for (const c of result.candidates)
      out.write(`  ${c.score.toFixed(4)}  ${c.route}  (threshold ${c.threshold})\n`);
    out.write(
      `time: ${result.timing.totalMs.toFixed(2)} ms (embed ${result.timing.embedMs.toFixed(2)}, search ${result.timing.searchMs.toFixed(3)})\n`,
    );
    return 0;
  } finally {
    await router.close();
    await encoder?.close();
  }
}
