/**
 * The default encoder: Universal Sentence Encoder Lite (512-d), run locally by onnxruntime-node.
 * No network, no API key, no cost.
 */
import { readFile } from 'node:fs/promises';
import type * as ort from 'onnxruntime-node';
import { ErrorCode, SemrouteError, throwIfAborted } from '../../errors.js';
import { assertTexts, type EmbedOptions, type Encoder } from '../encoder.js';
import { openSession, packBatch, splitRows } from '../onnx-session.js';
import type { SessionOptions } from '../session-options.js';
import { USE_LITE_DIMENSIONS } from './constants.js';
import { ensureUseLiteModel, type UseLiteManifest, useLiteFiles } from './model-files.js';
import { embedProbe, PROBE_TOLERANCE, probeCosine } from './probe.js';
import { UseLiteTokenizer } from './tokenizer.js';

export interface UseLiteOptions extends SessionOptions {
  /** Models folder holding `use-lite/`. Default `<package>/models`, env `SEMROUTE_MODELS_DIR`. */
  modelsDir?: string | undefined;
  /**
   * Texts per ONNX run when embedding many. Default 4: with the memory arena off, every batch's
   * buffers go back to malloc, which keeps them, and larger batches left a proxy that compiled
   * its routes at start holding ~20 MB more for good (2,000 CLINC150 texts: +60 MB of malloc
   * heap at 32, +34 MB at 4). One thread embeds them fastest at 4 (840 ms against 1,044 at
   * 32); two threads 18% slower (718 against 608). `semroute eval` asks for 32.
   * router.json: `encoder_options.batch_size`.
   */
  batchSize?: number | undefined;
  /** Build the model from its npm package when missing (default true). */
  build?: boolean | undefined;
  /**
   * `int8` (default): the feed-forward layers in int8, about 2× faster per query than `fp32`,
   * within cosine 0.999 of it on every text measured and the same CLINC150 decision on 99.7% of
   * its test queries, on CPUs with and without VNNI (README, "The default model"). Each load
   * checks it against fp32 vectors stored at build (`probe.ts`) and uses fp32 instead, with one
   * warning, when this CPU computes it otherwise. `fp32`: the model as published.
   * router.json: `encoder_options.precision`.
   */
  precision?: 'fp32' | 'int8' | undefined;
  /**
   * Where the one warning goes when int8 falls back to fp32. Default `process.emitWarning`
   * (code `SEMROUTE_INT8_FALLBACK`); the proxy passes its logger.
   */
  onWarning?: ((message: string) => void) | undefined;
}

/** Which model a loaded encoder runs, and why. */
export interface UseLitePrecision {
  requested: 'fp32' | 'int8';
  active: 'fp32' | 'int8';
  /** The int8 model's lowest cosine to fp32 on the probe texts, on this CPU (int8 requested). */
  probeCosine?: number | undefined;
  /** One sentence: why `active` is what it is. */
  reason: string;
}

const DEFAULT_BATCH = 4;

export class UseLiteEncoder implements Encoder {
  readonly dimensions = USE_LITE_DIMENSIONS;
  private closed = false;

  private constructor(
    readonly id: string,
    private readonly session: ort.InferenceSession,
    readonly tokenizer: UseLiteTokenizer,
    private readonly batchSize: number,
    private readonly modelPath: string,
    readonly precision: UseLitePrecision,
  ) {}

  static async load(options: UseLiteOptions = {}): Promise<UseLiteEncoder> {
    // The manifest read once: ensureUseLiteModel has it when it checked the files.
    const ensured =
      options.build === false ? undefined : await ensureUseLiteModel({ root: options.modelsDir });
    const files = ensured?.files ?? useLiteFiles(options.modelsDir);
    let bytes: Buffer;
    try {
      bytes = await readFile(files.tokenizer);
    } catch (cause) {
      throw new SemrouteError(
        ErrorCode.TOKENIZER_MISSING,
        `USE-lite tokenizer missing or unreadable: ${files.tokenizer}; run semroute models build`,
        { file: files.tokenizer, cause },
      );
    }
    const tokenizer = UseLiteTokenizer.fromBinary(bytes, files.tokenizer);
    const manifest: Partial<UseLiteManifest> =
      ensured?.manifest ?? (JSON.parse(await readFile(files.manifest, 'utf8').catch(() => '{}')) as object);
    const version = `${manifest.source?.version ?? 'unknown'}+c${manifest.converter ?? 0}`;
    const requested = options.precision ?? 'int8';
    let precision: UseLitePrecision = { requested, active: 'fp32', reason: 'fp32 requested' };
    if (requested === 'int8') {
      const session = await openSession(files.modelInt8, options);
      const cosine = probeCosine(await embedProbe(session, tokenizer, files.modelInt8), manifest.probe);
      if (cosine !== undefined && cosine >= PROBE_TOLERANCE) {
        precision = {
          requested,
          active: 'int8',
          probeCosine: cosine,
          reason: `int8 matches fp32 on this CPU (probe cosine ${cosine.toFixed(5)} >= ${PROBE_TOLERANCE})`,
        };
        // Another precision gives other vectors: another id, so cached artefacts are not shared.
        return new UseLiteEncoder(
          `use-lite-int8@${version}`,
          session,
          tokenizer,
          options.batchSize ?? DEFAULT_BATCH,
          files.modelInt8,
          precision,
        );
      }
      await session.release();
      precision = {
        requested,
        active: 'fp32',
        probeCosine: cosine,
        reason:
          cosine === undefined
            ? `the model's manifest (${files.manifest}) has no fp32 probe to check int8 against; run semroute models build`
            : `int8 drifts from fp32 on this CPU (probe cosine ${cosine.toFixed(5)} < ${PROBE_TOLERANCE})`,
      };
      (options.onWarning ?? warn)(
        `USE-lite: ${precision.reason}: using the fp32 model instead (same vectors, about 2x the CPU per query); encoder_options.precision: fp32 says so explicitly`,
      );
    }
    const session = await openSession(files.model, options);
    const encoder = new UseLiteEncoder(
      `use-lite@${version}`,
      session,
      tokenizer,
      options.batchSize ?? DEFAULT_BATCH,
      files.model,
      precision,
    );
    // One probe run checks the output shape now rather than on the first user query.
    await encoder.embed(['probe']);
    return encoder;
  }

  async embed(texts: readonly string[], options: EmbedOptions = {}): Promise<Float32Array[]> {
    assertTexts(texts);
    if (this.closed) throw new SemrouteError(ErrorCode.INPUT_INVALID, 'embed() called after close()');
    const tokens = texts.map((t) => this.tokenizer.encode(t));
    // Sorting by length keeps padding small; results are put back in input order.
    const order = tokens.map((_, i) => i).sort((a, b) => tokens[a]!.length - tokens[b]!.length);
    const out = new Array<Float32Array>(texts.length);
    for (let start = 0; start < order.length; start += this.batchSize) {
      throwIfAborted(options.signal);
      const slice = order.slice(start, start + this.batchSize);
      const { ids, mask } = packBatch(slice.map((i) => tokens[i]!));
      const result = await this.session.run({ input_ids: ids, attention_mask: mask });
      const rows = splitRows(result.sentence_embedding, slice.length, this.dimensions, this.modelPath);
      slice.forEach((index, r) => {
        out[index] = rows[r]!;
      });
      options.onProgress?.(Math.min(start + this.batchSize, order.length), order.length);
    }
    return out;
  }

  coverage(text: string): number {
    return this.tokenizer.coverage(text);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.session.release();
  }
}

function warn(message: string): void {
  process.emitWarning(message, { code: 'SEMROUTE_INT8_FALLBACK' });
}
