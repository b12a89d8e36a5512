import { parseArgs } from 'node:util';
import { serve } from '../../server/serve.js';
import { isWorker, runPrimary } from '../../server/workers.js';
import { UsageError } from '../output.js';

const LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'];

export async function serveCommand(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      config: { type: 'string', short: 'c' },
      port: { type: 'string', default: '4000' },
      host: { type: 'string', default: '127.0.0.1' },
      'no-watch': { type: 'boolean', default: false },
      workers: { type: 'string', default: '1' },
      'log-level': { type: 'string' },
      check: { type: 'boolean', default: false },
      num_workers: { type: 'string' },
    },
  });
  if (values.config === undefined)
    throw new UsageError('serve needs --config <config.yaml> (see semroute serve --help)');
  const workers = Number(values.num_workers ?? values.workers);
  if (!Number.isInteger(workers) || workers < 1 || workers > 64) {
    throw new UsageError(
      `--workers must be an integer from 1 to 64, got ${values.num_workers ?? values.workers}`,
    );
  }
  const level = values['log-level'];
  if (level !== undefined && !LEVELS.includes(level)) {
    throw new UsageError(`--log-level takes ${LEVELS.join(', ')}, got ${level}`);
  }
  // Checked once, before anything listens (with --workers, by the primary).
  if (values.check && !isWorker()) {
    const { checkCommand } = await import('./check.js');
    const code = await checkCommand(['--config', values.config]);
    if (code !== 0) return code;
  }
  if (workers > 1 && !isWorker()) {
    return runPrimary({ workers, url: `http://${values.host}:${Number(values.port)}` });
  }
  const server = await serve({
    config: values.config,
    ...(level === undefined ? {} : { logger: { level } }),
    port: Number(values.port),
    host: values.host,
    watch: !values['no-watch'],
  });
  // With --workers the primary announces the proxy once every worker listens.
  server.app.log.info({ url: server.url }, isWorker() ? 'worker listening' : 'semroute proxy listening');
  // Runs until a signal stops it.
  await new Promise(() => {});
  return 0;
}
