import { assertTexts, type EmbedOptions, type Encoder } from './encoder.js';

/**
 * An LRU of embeddings in front of any encoder, keyed by encoder id + text. Repeated queries
 * (health checks, retries, popular prompts) skip the model. Returned rows are shared with the
 * cache: treat them as read-only.
 */
export class CachedEncoder implements Encoder {
  readonly id: string;
  readonly dimensions: number;
  private readonly entries = new Map<string, Float32Array>();
  hits = 0;
  misses = 0;

  constructor(
    readonly inner: Encoder,
    /** Entries kept. Default 10_000 (about 20 MB at 512-d). */
    readonly capacity = 10_000,
  ) {
    this.id = inner.id;
    this.dimensions = inner.dimensions;
  }

  coverage(text: string): number {
    return this.inner.coverage?.(text) ?? 1;
  }

  async embed(texts: readonly string[], options: EmbedOptions = {}): Promise<Float32Array[]> {
    assertTexts(texts);
    if (this.capacity <= 0) return this.inner.embed(texts, options);
    const out = new Array<Float32Array>(texts.length);
    const missing: number[] = [];
    texts.forEach((text, i) => {
      const hit = this.entries.get(text);
      if (hit === undefined) {
        missing.push(i);
        return;
      }
      // Refresh recency: a Map iterates in insertion order, so re-insert at the back.
      this.entries.delete(text);
      this.entries.set(text, hit);
      out[i] = hit;
    });
    this.hits += texts.length - missing.length;
    this.misses += missing.length;
    if (missing.length > 0) {
      const rows = await this.inner.embed(
        missing.map((i) => texts[i]!),
        options,
      );
      missing.forEach((index, r) => {
        out[index] = rows[r]!;
        this.remember(texts[index]!, rows[r]!);
      });
    }
    return out;
  }

  private remember(text: string, row: Float32Array): void {
    this.entries.delete(text);
    this.entries.set(text, row);
    while (this.entries.size > this.capacity) {
      const oldest = this.entries.keys().next().value as string;
      this.entries.delete(oldest);
    }
  }

  get size(): number {
    return this.entries.size;
  }

  clear(): void {
    this.entries.clear();
  }

  close(): Promise<void> {
    this.entries.clear();
    return this.inner.close();
  }
}
