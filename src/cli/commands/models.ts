import path from 'node:path';
import { parseArgs } from 'node:util';
import { listModels, pullModel } from '../../embeddings/pull.js';
import { ensureUseLiteModel, WEIGHTS_FILE } from '../../embeddings/use-lite/model-files.js';
import { cpuFeatures } from '../../internal/cpu.js';
import { printJson, progressBar, UsageError } from '../output.js';

const mb = (bytes: number) => `${(bytes / 1e6).toFixed(1)} MB`;

async function activePrecision(dir: string) {
  const { UseLiteEncoder } = await import('../../embeddings/use-lite/encoder.js');
  const encoder = await UseLiteEncoder.load({
    modelsDir: path.dirname(dir),
    build: false,
    threads: 1,
    onWarning: () => {},
  });
  try {
    return encoder.precision;
  } finally {
    await encoder.close();
  }
}

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
          ? `built ${result.files.dir}: fp32 ${mb(result.manifest.totalBytes)}, int8 ${mb(result.manifest.int8.totalBytes)} (one ${WEIGHTS_FILE} of ${mb(result.manifest.weights.bytes)} shared), in ${result.manifest.buildMs} ms\n`
          : `up to date: ${result.files.model}\n`,
      );
    return 0;
  }
  if (sub === 'list') {
    const models = await listModels();
    const cpu = cpuFeatures();
    // The default model's precision is decided at load, on this CPU: load it to say which.
    const useLite = models.find((m) => m.kind === 'use-lite');
    const precision = useLite ? await activePrecision(useLite.dir) : undefined;
    if (values.json) {
      printJson({ models, ...(precision ? { useLitePrecision: precision } : {}), cpu });
      return 0;
    }
    if (models.length === 0) process.stdout.write('no models installed (run: semroute models build)\n');
    for (const m of models) {
      if (m.kind === 'use-lite' && m.int8Bytes !== undefined) {
        const active = precision?.active === 'int8';
        process.stdout.write(
          `${m.id}\tint8 (default)\t${mb(m.int8Bytes)}\t${active ? 'active' : 'not active'}\t${m.dir}\n` +
            `${m.id}\tfp32\t${mb(m.bytes)}\t${active ? 'on request (encoder_options.precision: fp32)' : 'active'}\t${m.dir}\n`,
        );
      } else process.stdout.write(`${m.id}\t${m.kind}\t${mb(m.bytes)}\t\t${m.dir}\n`);
    }
    if (precision) process.stdout.write(`use-lite precision: ${precision.active}: ${precision.reason}\n`);
    process.stdout.write(
      `cpu: ${cpu.model}; ${cpu.flags.join(' ') || 'no x86 SIMD flags listed'} (${cpu.vnni ? 'with' : 'without'} VNNI)\n`,
    );
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
