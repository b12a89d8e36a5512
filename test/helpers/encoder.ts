import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { EmbedOptions, Encoder } from '../../src/embeddings/encoder.js';
import { EncoderPool } from '../../src/embeddings/pool.js';
import { UseLiteEncoder } from '../../src/embeddings/use-lite/encoder.js';

let shared: Promise<UseLiteEncoder> | undefined;

/** The real default model, loaded once per test file's worker. */
export function useLite(): Promise<UseLiteEncoder> {
  shared ??= UseLiteEncoder.load();
  return shared;
}

/** Wraps a real encoder and counts what reaches it (for "embeds nothing" checks). */
export class CountingEncoder implements Encoder {
  calls = 0;
  texts = 0;
  constructor(private readonly inner: Encoder) {}
  get id() {
    return this.inner.id;
  }
  get dimensions() {
    return this.inner.dimensions;
  }
  embed(texts: readonly string[], options?: EmbedOptions) {
    this.calls++;
    this.texts += texts.length;
    return this.inner.embed(texts, options);
  }
  async close() {}
}

export async function tempDir(
  prefix = 'semroute-test-',
): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(path.join(tmpdir(), prefix));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

/** An encoder pool that serves the shared default model for `use-lite` (no second load). */
export async function useLitePool(): Promise<EncoderPool> {
  return new EncoderPool().provide({ type: 'use-lite' }, await useLite());
}
