/**
 * Any sentence-transformers model exported to ONNX, from a local folder:
 * `model.onnx` (or `onnx/model.onnx`), `tokenizer.json`, `tokenizer_config.json`, `config.json`.
 * Tokenised by `hf-tokenizer.ts` from those files only (no model hub), mean-pooled over the
 * attention mask, L2-normalised.
 */
import { access } from 'node:fs/promises';
import path from 'node:path';
import type * as Ort from 'onnxruntime-node';
import { ErrorCode, SemrouteError, throwIfAborted } from '../errors.js';
import { assertTexts, type EmbedOptions, type Encoder, normalize } from './encoder.js';
import { LocalTokenizer } from './hf-tokenizer.js';
import { openSession, ort } from './onnx-session.js';
import type { SessionOptions } from './session-options.js';

export interface OnnxEncoderOptions extends SessionOptions {
  /** Folder with the export. */
  dir: string;
  /** Id used in artefact keys; default `onnx:<folder name>`. */
  id?: string | undefined;
  /** Tokens kept per text; default the tokenizer's `model_max_length`, capped at 512. */
  maxLength?: number | undefined;
  /** Texts per run; default 32. */
  batchSize?: number | undefined;
}

async function firstExisting(candidates: string[]): Promise<string | undefined> {
  for (const file of candidates) {
    try {
      await access(file);
      return file;
    } catch {}
  }
  return undefined;
}

export class OnnxEncoder implements Encoder {
  private closed = false;

  private constructor(
    readonly id: string,
    readonly dimensions: number,
    private readonly session: Ort.InferenceSession,
    private readonly tokenizer: LocalTokenizer,
    private readonly maxLength: number,
    private readonly batchSize: number,
    private readonly wantsTokenTypes: boolean,
    private readonly modelPath: string,
  ) {}

  static async load(options: OnnxEncoderOptions): Promise<OnnxEncoder> {
    const dir = path.resolve(options.dir);
    const modelPath = await firstExisting([
      path.join(dir, 'model.onnx'),
      path.join(dir, 'onnx', 'model.onnx'),
    ]);
    if (modelPath === undefined) {
      throw new SemrouteError(ErrorCode.MODEL_MISSING, `No model.onnx in ${dir} (nor in ${dir}/onnx)`, {
        file: dir,
        expected: 'model.onnx',
      });
    }
    for (const name of ['tokenizer.json', 'tokenizer_config.json']) {
      if ((await firstExisting([path.join(dir, name)])) === undefined) {
        throw new SemrouteError(ErrorCode.TOKENIZER_MISSING, `${name} missing in ${dir}`, {
          file: path.join(dir, name),
        });
      }
    }
    const tokenizer = await LocalTokenizer.load(dir);
    const session = await openSession(modelPath, options);
    const wantsTokenTypes = session.inputNames.includes('token_type_ids');
    const encoder = new OnnxEncoder(
      options.id ?? `onnx:${path.basename(dir)}`,
      0,
      session,
      tokenizer,
      Math.min(options.maxLength ?? tokenizer.modelMaxLength ?? 512, 512),
      options.batchSize ?? 32,
      wantsTokenTypes,
      modelPath,
    );
    // The output width is only known after a run.
    const [probe] = await encoder.run(['probe']);
    (encoder as { dimensions: number }).dimensions = probe!.length;
    return encoder;
  }

  coverage(text: string): number {
    return this.tokenizer.coverage(text);
  }

  async embed(texts: readonly string[], options: EmbedOptions = {}): Promise<Float32Array[]> {
    assertTexts(texts);
    if (this.closed) throw new SemrouteError(ErrorCode.INPUT_INVALID, 'embed() called after close()');
    const out: Float32Array[] = [];
    for (let start = 0; start < texts.length; start += this.batchSize) {
      throwIfAborted(options.signal);
      const rows = await this.run(texts.slice(start, start + this.batchSize));
      for (const row of rows) {
        if (row.length !== this.dimensions) {
          throw new SemrouteError(
            ErrorCode.MODEL_DIMENSION,
            `Model ${this.modelPath} changed width to ${row.length}`,
            {
              expected: String(this.dimensions),
            },
          );
        }
        out.push(row);
      }
      options.onProgress?.(out.length, texts.length);
    }
    return out;
  }

  private async run(texts: readonly string[]): Promise<Float32Array[]> {
    const { ids, mask, types, batch, length } = this.tokenizer.batch(texts, this.maxLength);
    const feeds: Record<string, Ort.Tensor> = {
      input_ids: new ort.Tensor('int64', ids, [batch, length]),
      attention_mask: new ort.Tensor('int64', mask, [batch, length]),
    };
    if (this.wantsTokenTypes) feeds.token_type_ids = new ort.Tensor('int64', types, [batch, length]);
    const result = await this.session.run(feeds);
    const output = result[this.session.outputNames[0]!];
    if (output === undefined || !(output.data instanceof Float32Array)) {
      throw new SemrouteError(ErrorCode.MODEL_DIMENSION, `Model ${this.modelPath} returned no float output`);
    }
    return pool(output.data, output.dims, mask, batch, length, this.modelPath);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.session.release();
  }
}

/**
 * Mean pooling over the attention mask for token outputs [B, L, H]; pooled outputs [B, H]
 * (exports that already pool) are only normalised.
 */
function pool(
  data: Float32Array,
  dims: readonly number[],
  mask: BigInt64Array,
  batch: number,
  length: number,
  model: string,
): Float32Array[] {
  const rows: Float32Array[] = [];
  if (dims.length === 2 && dims[0] === batch) {
    const width = dims[1]!;
    for (let b = 0; b < batch; b++) rows.push(normalize(data.slice(b * width, (b + 1) * width)));
    return rows;
  }
  if (dims.length !== 3 || dims[0] !== batch || dims[1] !== length) {
    throw new SemrouteError(ErrorCode.MODEL_DIMENSION, `Model ${model} returned shape [${dims.join(', ')}]`, {
      file: model,
      expected: `[${batch}, ${length}, hidden] or [${batch}, hidden]`,
    });
  }
  const width = dims[2]!;
  for (let b = 0; b < batch; b++) {
    const row = new Float32Array(width);
    let count = 0;
    for (let t = 0; t < length; t++) {
      if (mask[b * length + t] === 0n) continue;
      count += 1;
      const base = (b * length + t) * width;
      for (let h = 0; h < width; h++) row[h]! += data[base + h]!;
    }
    if (count > 0) for (let h = 0; h < width; h++) row[h]! /= count;
    rows.push(normalize(row));
  }
  return rows;
}
