import { parseArgs } from 'node:util';
import { serve } from '../../server/serve.js';
import { autoWorkers, isWorker, log, runPrimary } from '../../server/workers.js';
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
      workers: { type: 'string', default: 'auto' },
      'log-level': { type: 'string' },
      check: { type: 'boolean', default: false },
      num_workers: { type: 'string' },
    },
  });
  if (values.config === undefined)
    throw new UsageError('serve needs --config <config.yaml> (see semroute serve --help)');
  const asked = values.num_workers ?? values.workers;
  const auto = asked === 'auto';
  let workers = auto ? 1 : Number(asked);
  if (!auto && (!Number.isInteger(workers) || workers < 1 || workers > 64)) {
    throw new UsageError(`--workers must be auto or an integer from 1 to 64, got ${asked}`);
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
  // auto: decided once, by the process that would fork, from the config it will serve.
  if (auto && !isWorker()) {
    const [{ loadProxyConfig }, { availableParallelism }] = await Promise.all([
      import('../../config/proxy-config.js'),
      import('node:os'),
    ]);
    const chosen = autoWorkers(await loadProxyConfig(values.config), availableParallelism());
    workers = chosen.workers;
    log('info', { workers, why: chosen.why }, '--workers auto');
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
