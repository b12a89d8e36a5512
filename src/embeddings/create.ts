/**
 * Picks an encoder implementation from a router.json's `encoder_type` / `encoder_name`.
 * A map, not an if-chain: adding an encoder is one entry. There is no implicit default to a
 * network encoder: no `encoder_type` means the local USE-lite model.
 */
import path from 'node:path';
import { ErrorCode, SemrouteError } from '../errors.js';
import { modelsDir } from '../internal/paths.js';
import { CachedEncoder } from './cache.js';
import type { Encoder } from './encoder.js';

export interface EncoderSpec {
  /** `use-lite` (default; also `local`), `onnx` (also `huggingface`), `openai`. */
  type?: string | undefined;
  /** The file that asked for this encoder, named in errors. */
  file?: string | undefined;
  /** Model name: an OpenAI model, or a folder / `models/<id>` for onnx. */
  name?: string | undefined;
  /** Options passed to the implementation (api_key, base_url, threads, dimensions …). */
  options?: Record<string, unknown> | undefined;
  /** Query-embedding LRU size; 0 disables. Default 10_000. */
  cacheSize?: number | undefined;
  /** Injected fetch for remote encoders. */
  fetch?: typeof fetch | undefined;
  /** Where a local encoder's load-time warning goes (int8 falling back to fp32). */
  onWarning?: ((message: string) => void) | undefined;
}

type Factory = (spec: EncoderSpec) => Promise<Encoder>;

const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
const num = (v: unknown): number | undefined => (typeof v === 'number' ? v : undefined);
/** A true/false encoder option; any other value is the file's mistake, said with its path. */
function flag(spec: EncoderSpec, key: string): boolean | undefined {
  const value = spec.options?.[key];
  if (value === undefined || typeof value === 'boolean') return value;
  throw new SemrouteError(
    ErrorCode.CONFIG_INVALID,
    `${spec.file ?? 'router config'}: encoder_options.${key}: expected true or false, got ${JSON.stringify(value)}`,
    { file: spec.file, path: `encoder_options.${key}`, expected: 'true or false' },
  );
}

// Each implementation is imported when it is first asked for: the CLI's route path loads no SDK.
const useLite: Factory = async (spec) => {
  const precision =
    spec.options?.precision ??
    (spec.name === 'use-lite-int8' ? 'int8' : spec.name === 'use-lite-fp32' ? 'fp32' : undefined);
  if (precision !== undefined && precision !== 'fp32' && precision !== 'int8') {
    throw new SemrouteError(
      ErrorCode.CONFIG_INVALID,
      `${spec.file ?? 'router config'}: encoder_options.precision: "${String(precision)}" is not a precision of use-lite`,
      { file: spec.file, path: 'encoder_options.precision', expected: 'fp32 or int8' },
    );
  }
  return (await import('./use-lite/encoder.js')).UseLiteEncoder.load({
    threads: num(spec.options?.threads),
    memoryArena: flag(spec, 'memory_arena'),
    modelsDir: str(spec.options?.models_dir),
    batchSize: num(spec.options?.batch_size),
    precision,
    onWarning: spec.onWarning,
  });
};

const onnx: Factory = async (spec) => {
  const name = spec.name ?? str(spec.options?.path);
  if (!name) {
    throw new SemrouteError(
      ErrorCode.CONFIG_INVALID,
      'encoder_type "onnx" needs encoder_name (a folder or an installed model id)',
      {
        path: 'encoder_name',
        expected: 'a folder with model.onnx and tokenizer.json, or an id under models/',
      },
    );
  }
  const dir = path.isAbsolute(name) || name.startsWith('.') ? name : path.join(modelsDir(), name);
  return (await import('./onnx.js')).OnnxEncoder.load({
    dir,
    id: `onnx:${name}`,
    threads: num(spec.options?.threads),
    memoryArena: flag(spec, 'memory_arena'),
    maxLength: num(spec.options?.max_length),
    batchSize: num(spec.options?.batch_size),
  });
};

const openai: Factory = async (spec) =>
  (await import('./openai.js')).OpenAIEncoder.load({
    model: spec.name,
    apiKey: str(spec.options?.api_key),
    baseURL: str(spec.options?.base_url) ?? str(spec.options?.api_base),
    dimensions: num(spec.options?.dimensions),
    batchSize: num(spec.options?.batch_size),
    maxRetries: num(spec.options?.max_retries),
    timeout: num(spec.options?.timeout),
    fetch: spec.fetch,
  });

/** Every encoder semroute has, by `encoder_type`; each runs the conformance suite. */
export const ENCODER_FACTORIES: Readonly<Record<string, Factory>> = Object.freeze({
  'use-lite': useLite,
  onnx,
  openai,
});

/** Other names for the same encoders (LiteLLM and aurelio spellings). */
const ALIASES: Readonly<Record<string, string>> = Object.freeze({ local: 'use-lite', huggingface: 'onnx' });

/** Every `encoder_type` a router.json may give. */
export function encoderTypes(): string[] {
  return [...Object.keys(ENCODER_FACTORIES), ...Object.keys(ALIASES)];
}

/** The canonical type of a spec (`local` → `use-lite`); ENCODER_UNKNOWN naming the file when there is none. */
export function encoderType(spec: EncoderSpec): string {
  const given = spec.type ?? 'use-lite';
  const type = ALIASES[given] ?? given;
  if (ENCODER_FACTORIES[type] === undefined) {
    throw new SemrouteError(
      ErrorCode.ENCODER_UNKNOWN,
      `${spec.file ?? 'router config'}: encoder_type: unknown encoder "${given}"; semroute has ${encoderTypes().join(', ')}`,
      { file: spec.file, path: 'encoder_type', expected: encoderTypes().join(' | ') },
    );
  }
  return type;
}

/** The one place an encoder implementation is chosen, from `encoder_type`. */
export async function createEncoder(spec: EncoderSpec = {}): Promise<Encoder> {
  const encoder = await ENCODER_FACTORIES[encoderType(spec)]!(spec);
  return spec.cacheSize === 0 ? encoder : new CachedEncoder(encoder, spec.cacheSize);
}
