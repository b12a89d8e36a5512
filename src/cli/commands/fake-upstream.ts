import { parseArgs } from 'node:util';
import { startFakeUpstream } from '../../fake-upstream/fake-upstream.js';
import { UsageError } from '../output.js';

/** A number option, or a usage error naming it. */
function numberOption(name: string, value: string | undefined, min: number): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isFinite(n) || n < min)
    throw new UsageError(`--${name} takes a number of at least ${min}, got ${value}`);
  return n;
}

export async function fakeUpstreamCommand(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      port: { type: 'string', default: '8001' },
      // 0.0.0.0 in a container, where the proxy reaches it by service name.
      host: { type: 'string', default: '127.0.0.1' },
      'latency-ms': { type: 'string', default: '0' },
      'fail-rate': { type: 'string', default: '0' },
      'embedding-dim': { type: 'string' },
      quiet: { type: 'boolean', default: false },
    },
  });
  const dimensions = numberOption('embedding-dim', values['embedding-dim'], 1);
  const upstream = await startFakeUpstream({
    port: numberOption('port', values.port, 0) ?? 8001,
    host: values.host,
    latencyMs: numberOption('latency-ms', values['latency-ms'], 0) ?? 0,
    failRate: numberOption('fail-rate', values['fail-rate'], 0) ?? 0,
    ...(dimensions === undefined ? {} : { dimensions: Math.floor(dimensions) }),
    anthropic: true,
    // One line per request, so a wrong path or model name shows where it went (--quiet: none,
    // for benchmarks).
    ...(values.quiet
      ? {}
      : {
          onRequest: ({ method, path, model }: { method: string; path: string; model: string | undefined }) =>
            process.stdout.write(
              `${new Date().toISOString()} ${method} ${path}${model === undefined ? '' : ` model=${model}`}\n`,
            ),
        }),
  });
  process.stdout.write(
    `fake OpenAI-compatible upstream on ${upstream.url} (/v1/chat/completions, /v1/completions, /v1/embeddings, /v1/models; Anthropic's /v1/messages too)\n`,
  );
  await new Promise(() => {});
  return 0;
}
