/** The `--encoder` / `--model` option: `use-lite`, `use-lite-int8`, `onnx:<folder or id>`, `openai:<model>`. */
import type { EncoderSpec } from '../embeddings/create.js';
import type { Encoder } from '../embeddings/encoder.js';
import { ErrorCode, isSemrouteError, SemrouteError } from '../errors.js';

export function encoderSpecFromOption(value: string | undefined): EncoderSpec {
  if (value === undefined || value === 'use-lite' || value === 'local') return { type: 'use-lite' };
  if (value === 'use-lite-int8') return { type: 'use-lite', options: { precision: 'int8' } };
  if (value === 'use-lite-fp32') return { type: 'use-lite', options: { precision: 'fp32' } };
  const colon = value.indexOf(':');
  if (colon > 0) return { type: value.slice(0, colon), name: value.slice(colon + 1) };
  return { type: 'onnx', name: value };
}

/** The encoder `--encoder` asks for, created here (the caller closes it); undefined without the option. */
export async function encoderFromOption(value: string | undefined): Promise<Encoder | undefined> {
  if (value === undefined) return undefined;
  const { createEncoder } = await import('../embeddings/create.js');
  return createEncoder({ ...encoderSpecFromOption(value), file: '--encoder' });
}

/** A missing API key for the file's own encoder: say how to try the file with the local model. */
export function withEncoderHint(error: unknown, file: string): unknown {
  if (!isSemrouteError(error, ErrorCode.ENCODER_NO_KEY)) return error;
  return new SemrouteError(
    error.code,
    `${error.message}\n  hint: to try ${file} with the local model instead, add --encoder use-lite`,
    { file: error.file ?? file, path: error.path, expected: error.expected, cause: error },
  );
}
