/**
 * Encoders shared by every semantic router of a process: one model load per distinct spec
 * (type, name and options), however many routers ask for it. Encoders are chosen by
 * `createEncoder` alone; the pool only remembers them.
 */
import { createEncoder, type EncoderSpec, encoderType } from './create.js';
import type { Encoder } from './encoder.js';

export interface EncoderPoolOptions {
  /** Options for local encoders (use-lite, onnx) that a spec does not set: `threads` per process. */
  localOptions?: Record<string, unknown> | undefined;
  /** fetch for remote encoders. */
  fetch?: typeof fetch | undefined;
  /** Where load-time warnings of local encoders go (the proxy's logger). */
  onWarning?: ((message: string) => void) | undefined;
}

const LOCAL = new Set(['use-lite', 'onnx']);

export class EncoderPool {
  private readonly loaded = new Map<string, Promise<Encoder>>();
  /** Encoders handed in from outside: the caller closes them. */
  private readonly borrowed = new Set<string>();

  constructor(private readonly options: EncoderPoolOptions = {}) {}

  /** The spec with this pool's defaults applied, and its key. */
  private resolve(spec: EncoderSpec): { spec: EncoderSpec; key: string } {
    const type = encoderType(spec);
    const options = LOCAL.has(type) ? { ...this.options.localOptions, ...spec.options } : spec.options;
    const full: EncoderSpec = {
      ...spec,
      type,
      options,
      fetch: spec.fetch ?? this.options.fetch,
      onWarning: spec.onWarning ?? this.options.onWarning,
    };
    const sorted = Object.fromEntries(Object.entries(options ?? {}).sort(([a], [b]) => a.localeCompare(b)));
    return { spec: full, key: JSON.stringify([type, spec.name ?? null, sorted]) };
  }

  /** Serves `encoder` for `spec` (a model already loaded, in tests or a host application). */
  provide(spec: EncoderSpec, encoder: Encoder): this {
    const { key } = this.resolve(spec);
    this.loaded.set(key, Promise.resolve(encoder));
    this.borrowed.add(key);
    return this;
  }

  /** The encoder for a spec, loaded on first use. A failed load is not remembered. */
  get(spec: EncoderSpec): Promise<Encoder> {
    const { spec: full, key } = this.resolve(spec);
    let encoder = this.loaded.get(key);
    if (encoder === undefined) {
      encoder = createEncoder(full);
      this.loaded.set(key, encoder);
      encoder.catch(() => this.loaded.delete(key));
    }
    return encoder;
  }

  async close(): Promise<void> {
    const owned = [...this.loaded].filter(([key]) => !this.borrowed.has(key));
    this.loaded.clear();
    await Promise.all(owned.map(async ([, p]) => (await p.catch(() => undefined))?.close()));
  }
}
