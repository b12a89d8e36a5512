import { parseArgs } from 'node:util';
import { serve } from '../../server/serve.js';
import { isWorker, runPrimary } from '../../server/workers.js';
import { startFakeUpstream } from '../../fake-upstream/fake-upstream.js';
import { UsageError } from '../output.js';

export const serveHelp = `semroute serve --config config.yaml [--port 4000] [--host 127.0.0.1] [--workers N] [--no-watch]
  The OpenAI-compatible proxy (LiteLLM config.yaml shape). SIGHUP reloads, SIGTERM drains and stops.
  --workers N (or --num_workers): N processes on one port, to use N cores; without Redis each
  keeps its own rate-limit counts, cooldowns and cache.
semroute fake-upstream [--port 8001] [--latency-ms 0] [--fail-rate 0]
  A local OpenAI-compatible upstream that echoes, for trying the proxy without keys.`;

export async function serveCommand(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      config: { type: 'string', short: 'c' },
      port: { type: 'string', default: '4000' },
      host: { type: 'string', default: '127.0.0.1' },
      'no-watch': { type: 'boolean', default: false },
      workers: { type: 'string', default: '1' },
      num_workers: { type: 'string' },
    },
  });
  if (values.config === undefined) throw new UsageError(serveHelp);
  const workers = Number(values.num_workers ?? values.workers);
  if (!Number.isInteger(workers) || workers < 1 || workers > 64) {
    throw new UsageError(
      `--workers must be an integer from 1 to 64, got ${values.num_workers ?? values.workers}`,
    );
  }
  if (workers > 1 && !isWorker()) {
    return runPrimary({ workers, url: `http://${values.host}:${Number(values.port)}` });
  }
  const server = await serve({
    config: values.config,
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

export async function fakeUpstreamCommand(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      port: { type: 'string', default: '8001' },
      'latency-ms': { type: 'string', default: '0' },
      'fail-rate': { type: 'string', default: '0' },
    },
  });
  const upstream = await startFakeUpstream({
    port: Number(values.port),
    latencyMs: Number(values['latency-ms']),
    failRate: Number(values['fail-rate']),
  });
  process.stdout.write(`fake OpenAI-compatible upstream on ${upstream.url}\n`);
  await new Promise(() => {});
  return 0;
}
