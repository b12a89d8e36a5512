/**
 * Shared onnxruntime-node session handling for the local encoders: thread options, and the
 * mapping of runtime failures to stable error codes.
 */
import { access } from 'node:fs/promises';
import { createRequire } from 'node:module';
import type * as Ort from 'onnxruntime-node';
import { ErrorCode, SemrouteError } from '../errors.js';
import { resolveThreads, type SessionOptions } from './session-options.js';

/**
 * onnxruntime-node, loaded as the CommonJS module it is: an ESM `import` of it first scans its
 * source for named exports, 13 ms of a CLI run's start.
 */
export const ort = createRequire(import.meta.url)('onnxruntime-node') as typeof Ort;

export async function openSession(
  modelPath: string,
  options: SessionOptions = {},
): Promise<Ort.InferenceSession> {
  try {
    await access(modelPath);
  } catch (cause) {
    throw new SemrouteError(ErrorCode.MODEL_MISSING, `Model file not found: ${modelPath}`, {
      file: modelPath,
      cause,
    });
  }
  try {
    return await ort.InferenceSession.create(modelPath, {
      intraOpNumThreads: resolveThreads(options),
      interOpNumThreads: 1,
      executionMode: 'sequential',
      graphOptimizationLevel: 'all',
      enableCpuMemArena: options.memoryArena === true,
    });
  } catch (cause) {
    if (cause instanceof SemrouteError) throw cause;
    throw new SemrouteError(
      ErrorCode.MODEL_CORRUPT,
      `Cannot load ONNX model ${modelPath}: ${(cause as Error).message}`,
      {
        file: modelPath,
        cause,
      },
    );
  }
}

/** Packs token rows into int64 [batch, maxLen] tensors, padding with `padId` and mask 0. */
export function packBatch(
  rows: ReadonlyArray<readonly number[]>,
  padId = 0,
  minLength = 1,
): { ids: Ort.Tensor; mask: Ort.Tensor; length: number } {
  let length = minLength;
  for (const row of rows) if (row.length > length) length = row.length;
  const ids = new BigInt64Array(rows.length * length).fill(BigInt(padId));
  const mask = new BigInt64Array(rows.length * length);
  rows.forEach((row, r) => {
    const base = r * length;
    for (let i = 0; i < row.length; i++) {
      ids[base + i] = BigInt(row[i]!);
      mask[base + i] = 1n;
    }
  });
  return {
    ids: new ort.Tensor('int64', ids, [rows.length, length]),
    mask: new ort.Tensor('int64', mask, [rows.length, length]),
    length,
  };
}

/** Splits a [batch, dims] float output into rows, checking the dimension. */
export function splitRows(
  output: Ort.Tensor | undefined,
  batch: number,
  dims: number,
  model: string,
): Float32Array[] {
  if (output === undefined || !(output.data instanceof Float32Array)) {
    throw new SemrouteError(ErrorCode.MODEL_DIMENSION, `Model ${model} returned no float output`, {
      file: model,
    });
  }
  const shape = output.dims;
  if (shape.length !== 2 || shape[0] !== batch || shape[1] !== dims) {
    throw new SemrouteError(
      ErrorCode.MODEL_DIMENSION,
      `Model ${model} returned shape [${shape.join(', ')}], expected [${batch}, ${dims}]`,
      { file: model, expected: `[${batch}, ${dims}]` },
    );
  }
  const rows: Float32Array[] = [];
  for (let r = 0; r < batch; r++) rows.push(output.data.slice(r * dims, (r + 1) * dims));
  return rows;
}
